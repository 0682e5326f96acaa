package anomaly

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
)

// TestSetUserKeepsUnchangedWindows: a new file cannot empty a window it
// keeps, and a window it changes starts empty.
func TestSetUserKeepsUnchangedWindows(t *testing.T) {
	c := New(Options{})
	srv := mustSRV(t, "6.23")
	c.SetUser(alice, []adt.Threshold{th("6.23", 9, 3, 60), th("6.23", 9, 10, 1440)})
	for range 3 {
		if d := c.Check(alice, srv, t0); d.Outcome != Admit {
			t.Fatalf("%+v", d)
		}
	}
	c.SetUser(alice, []adt.Threshold{th("6.23", 9, 3, 60), th("6.23", 9, 10, 720)})
	if n := countOf(t, c, alice, "6.23", 60, t0); n != 3 {
		t.Errorf("unchanged 60-minute window: %d, want 3", n)
	}
	if n := countOf(t, c, alice, "6.23", 720, t0); n != 0 {
		t.Errorf("new 720-minute window: %d, want 0", n)
	}
	if d := c.Check(alice, srv, t0); d.Outcome != Quarantine || d.Rule.Interval != 60 {
		t.Errorf("after reload: %+v, want quarantined by the kept window", d)
	}
	// New thresholds on a kept window apply to its counts at once.
	c.SetUser(alice, []adt.Threshold{th("6.23", 2, 5, 60)})
	if d := c.Check(alice, srv, t0); d.Outcome != Admit {
		t.Errorf("raised threshold: %+v", d)
	}
	if got := c.Counts(alice, t0); len(got) != 1 || got[0].Count != 4 || got[0].Rule != th("6.23", 2, 5, 60) {
		t.Errorf("Counts = %+v", got)
	}
}

func TestSetUserRemovesSRVs(t *testing.T) {
	c := New(Options{})
	c.SetUser(alice, []adt.Threshold{th("6.23", 0, 0, 60), th("1.1.1", 0, 0, 60)})
	c.SetUser(alice, []adt.Threshold{th("1.1.1", 0, 0, 60)})
	if d := c.Check(alice, mustSRV(t, "6.23"), t0); d.Outcome != Admit {
		t.Errorf("6.23 after its row went: %+v", d)
	}
	if d := c.Check(alice, mustSRV(t, "1.1.1"), t0); d.Outcome != Quarantine {
		t.Errorf("1.1.1 kept: %+v", d)
	}
	c.SetUser(alice, []adt.Threshold{})
	if got := c.Counts(alice, t0); len(got) != 0 {
		t.Errorf("no thresholds, Counts = %+v", got)
	}
	if d := c.Check(alice, mustSRV(t, "1.1.1"), t0); d.Outcome != Admit {
		t.Errorf("empty thresholds: %+v", d)
	}
}

// TestSetUserNil: removing a User's file puts it back on the default, and a
// default window matching one it had keeps its counts.
func TestSetUserNil(t *testing.T) {
	srv := mustSRV(t, "6.23")
	t.Run("ok/to DefaultUser, keeping counts", func(t *testing.T) {
		c := New(Options{DefaultUser: []adt.Threshold{th("6.23", 9, 2, 60)}})
		c.SetUser(alice, []adt.Threshold{th("6.23", 9, 10, 60), th("6.23", 9, 10, 1440)})
		c.Check(alice, srv, t0)
		c.Check(alice, srv, t0)
		c.SetUser(alice, nil)
		got := c.Counts(alice, t0)
		if len(got) != 1 || got[0].Count != 2 || got[0].Rule.Quarantine != 2 {
			t.Fatalf("Counts = %+v", got)
		}
		if d := c.Check(alice, srv, t0); d.Outcome != Quarantine {
			t.Errorf("%+v", d)
		}
	})
	t.Run("ok/to nothing", func(t *testing.T) {
		c := New(Options{})
		c.SetUser(alice, []adt.Threshold{th("6.23", 0, 0, 60)})
		c.SetUser(alice, nil)
		if got := c.Counts(alice, t0); got != nil {
			t.Errorf("Counts = %+v", got)
		}
		if d := c.Check(alice, srv, t0); d.Outcome != Admit {
			t.Errorf("%+v", d)
		}
	})
}

func TestCountsOfDefaultUser(t *testing.T) {
	dflt := (&adt.File{}).Effective()
	c := New(Options{DefaultUser: dflt})
	got := c.Counts(alice, t0) // never seen: the defaults, nothing counted
	if len(got) != len(dflt) {
		t.Fatalf("%d counts for %d default rows", len(got), len(dflt))
	}
	for i := range got {
		if got[i].Rule != dflt[i] || got[i].Count != 0 {
			t.Errorf("row %d: %+v, want %+v", i, got[i], dflt[i])
		}
	}
	if New(Options{}).Counts(alice, t0) != nil {
		t.Error("Counts of an unknown User without defaults")
	}
}

// TestCancelSkipsNewWindows: a Cancel after SetUser replaced a window
// must not take a place from the requests counted in the new one.
func TestCancelSkipsNewWindows(t *testing.T) {
	c := New(Options{})
	srv := mustSRV(t, "6.23")
	c.SetUser(alice, []adt.Threshold{th("6.23", 9, 5, 60), th("6.23", 9, 5, 1440)})
	d := c.Check(alice, srv, t0)
	c.SetUser(alice, []adt.Threshold{th("6.23", 9, 5, 30), th("6.23", 9, 5, 1440)})
	c.Check(alice, srv, t0)
	c.Cancel(d)
	if n := countOf(t, c, alice, "6.23", 30, t0); n != 1 {
		t.Errorf("the new window: %d, want 1", n)
	}
	if n := countOf(t, c, alice, "6.23", 1440, t0); n != 1 {
		t.Errorf("the kept window: %d, want 1 (2 counted, 1 cancelled)", n)
	}
}

func TestSetDCC(t *testing.T) {
	c := New(Options{})
	srv := mustSRV(t, "6.23")
	c.SetDCC([]adt.Threshold{th("6.23", 9, 3, 60), th("6.23", 9, 9, 1440), th("1.1.1", 9, 9, 60)})
	c.Check(alice, srv, t0)
	c.CheckOwn(srv, t0)
	c.SetDCC([]adt.Threshold{th("6.23", 9, 3, 60), th("6.23", 9, 9, 720)})
	want := []WindowCount{{th("6.23", 9, 3, 60), 2}, {th("6.23", 9, 9, 720), 0}}
	got := c.DCCCounts(t0)
	if len(got) != len(want) {
		t.Fatalf("DCCCounts = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("DCCCounts[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	c.Check(bob, srv, t0)
	if d := c.Check(alice, srv, t0); d.Outcome != Quarantine || d.Scope != DCCScope {
		t.Errorf("%+v", d)
	}
	c.SetDCC(nil)
	if got := c.DCCCounts(t0); len(got) != 0 {
		t.Errorf("after SetDCC(nil): %+v", got)
	}
	if d := c.CheckOwn(srv, t0); d.Outcome != Admit {
		t.Errorf("%+v", d)
	}
}

// TestCompileTrustsButCopes: rows adt would refuse neither panic nor leave
// a window that cannot slide.
func TestCompileTrustsButCopes(t *testing.T) {
	c := New(Options{})
	c.SetUser(alice, []adt.Threshold{
		th("9.99", 0, 0, 60),       // unknown SRV: dropped
		th("6.23", 0, 7, 0),        // interval 0: one minute
		th("6.23", 0, 8, 5000),     // above a day: a day
		th("6.23", 0, 1, 1440),     // repeats (6.23, 1440): the first stays
		th("1.1.1", 0, 2, 1),       //
		th("1.1.1", 0, 3, 1),       // repeat
		{SRV: "6.23", Interval: 2}, // zero thresholds
	})
	var got []adt.Threshold
	for _, wc := range c.Counts(alice, t0) {
		got = append(got, wc.Rule)
	}
	want := []adt.Threshold{th("1.1.1", 0, 2, 1), th("6.23", 0, 7, 1), th("6.23", 0, 0, 2), th("6.23", 0, 8, 1440)}
	if len(got) != len(want) {
		t.Fatalf("rules %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSlicesOption: the slice count bounds how far back a window reaches.
func TestSlicesOption(t *testing.T) {
	srv := mustSRV(t, "6.23")
	for _, tc := range []struct {
		slices int
		reach  time.Duration // a request this far back at an off-boundary check is still counted
	}{{0, time.Minute}, {-5, time.Minute}, {6, 10 * time.Minute}, {1, time.Hour}, {MaxSlices + 1, time.Second}} {
		c := New(Options{Slices: tc.slices})
		c.SetUser(alice, []adt.Threshold{th("6.23", 9, 1, 60)})
		c.Check(alice, srv, t0.Add(time.Nanosecond))
		// Just under a slice past the interval: still counted.
		d := c.Check(alice, srv, t0.Add(time.Hour+tc.reach-time.Nanosecond))
		if d.Outcome != Quarantine {
			t.Errorf("slices %d: %v at %v past the window, want Quarantine", tc.slices, d.Outcome, tc.reach-time.Nanosecond)
		}
		// A slice past the interval: gone.
		if d := c.Check(alice, srv, t0.Add(time.Hour+tc.reach)); d.Outcome != Admit {
			t.Errorf("slices %d: %v a slice past the window, want Admit", tc.slices, d.Outcome)
		}
	}
}

// TestArenaCompacts: reloading files many times must not grow the arena
// without bound, nor lose the counts of kept windows.
func TestArenaCompacts(t *testing.T) {
	c := New(Options{})
	srv := mustSRV(t, "6.23")
	rows := []adt.Threshold{th("6.23", 9, 1e6, 1440), th("1.1.1", 9, 9, 60), th("1.1.2", 9, 9, 60)}
	c.SetUser(bob, rows)
	c.Check(bob, srv, t0)
	for i := range 5000 {
		rows[1].Interval = uint64(1 + i%2)
		c.SetUser(alice, rows)
		c.Check(alice, srv, t0)
		// Two slices with requests: a ring, dropped at the next reload.
		c.Check(alice, mustSRV(t, "1.1.1"), t0)
		c.Check(alice, mustSRV(t, "1.1.1"), t0.Add(2*time.Minute))
	}
	sh := c.shard(userKey(alice))
	if len(sh.ws) > 2*1024+6 {
		t.Errorf("arena holds %d windows for 6 live", len(sh.ws))
	}
	if n := countOf(t, c, alice, "6.23", 1440, t0); n != 5000 {
		t.Errorf("kept window counts %d, want 5000", n)
	}
	if n := countOf(t, c, bob, "6.23", 1440, t0); n != 1 {
		t.Errorf("another User's window: %d, want 1", n)
	}
	want := 1 // Alice's latest 1.1.1; the 6.23 windows have one slice each
	if used := int(sh.rings.n) - len(sh.rings.free); used != want || int(sh.rings.n) > want+1 {
		t.Errorf("%d rings handed out, %d in use, want %d in use: dropped windows' rings are not reused",
			sh.rings.n, used, want)
	}
}
