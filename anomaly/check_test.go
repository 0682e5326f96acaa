package anomaly

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// step is one call in a scenario and what it must decide.
type step struct {
	do     string // "check" (default), "own", "count", "countOwn", "cancel"
	user   eui.EUI
	srv    string // default 6.23
	at     time.Duration
	ref    int // "cancel": the step whose decision is cancelled
	want   Outcome
	scope  Scope
	count  uint64 // Decision.Count, checked when want is Warn or Quarantine
	within uint64 // Decision.Rule.Interval, checked when non-zero
}

type scenario struct {
	name  string
	opts  Options
	users map[eui.EUI][]adt.Threshold
	dcc   []adt.Threshold
	steps []step
}

func (sc scenario) run(t *testing.T) *Counter {
	t.Helper()
	c := New(sc.opts)
	for u, th := range sc.users {
		c.SetUser(u, th)
	}
	if sc.dcc != nil {
		c.SetDCC(sc.dcc)
	}
	decisions := make([]Decision, len(sc.steps))
	for i, s := range sc.steps {
		user := s.user
		if user.IsZero() {
			user = alice
		}
		name := s.srv
		if name == "" {
			name = adt.SRVCoS
		}
		srv := mustSRV(t, name)
		at := t0.Add(s.at)
		var d Decision
		switch s.do {
		case "", "check":
			d = c.Check(user, srv, at)
		case "own":
			d = c.CheckOwn(srv, at)
		case "count":
			c.Count(user, srv, at)
			continue
		case "countOwn":
			c.CountOwn(srv, at)
			continue
		case "cancel":
			c.Cancel(decisions[s.ref])
			continue
		default:
			t.Fatalf("step %d: unknown op %q", i, s.do)
		}
		decisions[i] = d
		if d.Outcome != s.want {
			t.Fatalf("step %d (%s %s at %v): %v, want %v (%+v)", i, s.do, name, s.at, d.Outcome, s.want, d)
		}
		if s.want == Admit {
			if d.Scope != 0 || d.Rule != (adt.Threshold{}) || d.Count != 0 {
				t.Errorf("step %d: a plain Admit carries %+v", i, d)
			}
			continue
		}
		if d.Scope != s.scope || d.Count != s.count || d.Rule.SRV != name {
			t.Errorf("step %d: %v in scope %v, count %d, rule %+v; want scope %v, count %d",
				i, d.Outcome, d.Scope, d.Count, d.Rule, s.scope, s.count)
		}
		if s.within != 0 && d.Rule.Interval != s.within {
			t.Errorf("step %d: decided by the %d-minute window, want %d", i, d.Rule.Interval, s.within)
		}
	}
	return c
}

func TestThresholds(t *testing.T) {
	sec, min := time.Second, time.Minute
	one := func(rows ...adt.Threshold) map[eui.EUI][]adt.Threshold {
		return map[eui.EUI][]adt.Threshold{alice: rows}
	}
	for _, sc := range []scenario{{
		name:  "ok/warn once at the crossing, quarantine at quarantine+1",
		users: one(th("6.23", 2, 5, 60)),
		steps: []step{
			{at: 1 * sec, want: Admit},
			{at: 2 * sec, want: Admit},
			{at: 3 * sec, want: Warn, scope: UserScope, count: 3, within: 60},
			{at: 4 * sec, want: Admit},
			{at: 5 * sec, want: Admit},
			{at: 6 * sec, want: Quarantine, scope: UserScope, count: 6, within: 60},
			// A held request is not counted: the next is no further over.
			{at: 7 * sec, want: Quarantine, scope: UserScope, count: 6},
		},
	}, {
		name:  "ok/zero thresholds quarantine every request",
		users: one(th("6.23", 0, 0, 1440)),
		steps: []step{
			{at: 0, want: Quarantine, scope: UserScope, count: 1},
			{at: 25 * time.Hour, want: Quarantine, scope: UserScope, count: 1},
		},
	}, {
		name:  "ok/zero warning warns on the first request",
		users: one(th("6.23", 0, 3, 1440)),
		steps: []step{
			{at: 0, want: Warn, scope: UserScope, count: 1},
			{at: 1, want: Admit},
		},
	}, {
		name:  "ok/warning equal to quarantine never warns",
		users: one(th("6.23", 2, 2, 1440)),
		steps: []step{
			{at: 0, want: Admit},
			{at: 1, want: Admit},
			{at: 2, want: Quarantine, scope: UserScope, count: 3},
		},
	}, {
		name:  "ok/every interval of an SRV counts; the first over decides",
		users: one(th("6.23", 100, 3, 1), th("6.23", 100, 5, 60)),
		steps: []step{
			{at: 10 * sec, want: Admit},
			{at: 10 * sec, want: Admit},
			{at: 10 * sec, want: Admit},
			{at: 20 * sec, want: Quarantine, scope: UserScope, count: 4, within: 1},
			// The minute has slid; the hour has 3 and takes 2 more.
			{at: 2 * min, want: Admit},
			{at: 2 * min, want: Admit},
			{at: 2 * min, want: Quarantine, scope: UserScope, count: 6, within: 60},
		},
	}, {
		name:  "ok/a warning in one interval, admitted in the other",
		users: one(th("6.23", 100, 100, 1), th("6.23", 1, 100, 60)),
		steps: []step{
			{at: 0, want: Admit},
			{at: 1, want: Warn, scope: UserScope, count: 2, within: 60},
			{at: 2, want: Admit},
		},
	}, {
		name:  "ok/other SRVs and other Users are counted apart",
		users: map[eui.EUI][]adt.Threshold{alice: {th("6.23", 9, 1, 60), th("1.1.1", 9, 1, 60)}, bob: {th("6.23", 9, 1, 60)}},
		steps: []step{
			{at: 0, want: Admit},
			{at: 0, srv: "1.1.1", want: Admit},
			{at: 0, user: bob, want: Admit},
			{at: 0, want: Quarantine, scope: UserScope, count: 2},
			{at: 0, user: bob, srv: "1.1.1", want: Admit}, // Bob has no 1.1.1 row
		},
	}, {
		name:  "ok/an SRV nobody limits is admitted",
		users: one(th("6.23", 0, 0, 60)),
		dcc:   []adt.Threshold{th("6.23", 0, 0, 60)},
		steps: []step{{srv: "4.1.1", want: Admit}, {srv: "4.1.1", user: bob, want: Admit}, {do: "own", srv: "4.1.1", want: Admit}},
	}, {
		name:  "ok/DCC thresholds count every User",
		users: one(th("6.23", 10, 10, 60)),
		dcc:   []adt.Threshold{th("6.23", 1, 2, 60)},
		steps: []step{
			{at: 0, want: Admit},
			{at: 1, user: bob, want: Warn, scope: DCCScope, count: 2},
			{at: 2, user: bob, want: Quarantine, scope: DCCScope, count: 3},
			{at: 3, want: Quarantine, scope: DCCScope, count: 3},
		},
	}, {
		name:  "ok/the User's threshold decides before the DCC's",
		users: one(th("6.23", 0, 1, 60)),
		dcc:   []adt.Threshold{th("6.23", 0, 1, 60)},
		steps: []step{
			{at: 0, want: Warn, scope: UserScope, count: 1},
			{at: 1, want: Quarantine, scope: UserScope, count: 2},
			{at: 1, user: bob, want: Quarantine, scope: DCCScope, count: 2},
		},
	}, {
		name:  "ok/a User quarantined is not counted by the DCC either",
		users: one(th("6.23", 9, 0, 60)),
		dcc:   []adt.Threshold{th("6.23", 9, 1, 60)},
		steps: []step{
			{at: 0, want: Quarantine, scope: UserScope, count: 1},
			{at: 1, user: bob, want: Admit},
		},
	}, {
		name:  "ok/the CoS Party's own commands meet only the DCC's thresholds",
		users: one(th("6.23", 0, 0, 60)),
		dcc:   []adt.Threshold{th("6.23", 9, 2, 60)},
		steps: []step{
			{do: "own", want: Admit},
			{at: 1, want: Quarantine, scope: UserScope, count: 1},
			{at: 2, user: bob, want: Admit},
			{do: "own", at: 3, want: Quarantine, scope: DCCScope, count: 3},
		},
	}, {
		name:  "ok/own commands are admitted uncounted without DCC thresholds",
		users: one(th("6.23", 0, 0, 60)),
		steps: []step{{do: "own", want: Admit}, {do: "own", want: Admit}},
	}, {
		name:  "ok/Cancel gives the place back",
		users: one(th("6.23", 9, 2, 60)),
		dcc:   []adt.Threshold{th("6.23", 9, 2, 60)},
		steps: []step{
			{at: 0, want: Admit},
			{at: 1, want: Admit},
			{do: "cancel", ref: 1},
			{at: 2, want: Admit},
			{at: 3, want: Quarantine, scope: UserScope, count: 3},
			{do: "cancel", ref: 4}, // a quarantine counted nothing
			{at: 4, want: Quarantine, scope: UserScope, count: 3},
			{at: 5, user: bob, want: Quarantine, scope: DCCScope, count: 3},
		},
	}, {
		name: "ok/Cancel of an own command",
		dcc:  []adt.Threshold{th("6.23", 9, 1, 60)},
		steps: []step{
			{do: "own", want: Admit},
			{do: "cancel", ref: 0},
			{at: 1, want: Admit},
			{do: "own", at: 2, want: Quarantine, scope: DCCScope, count: 2},
		},
	}, {
		name:  "ok/Cancel after the slice slid out takes nothing from later requests",
		users: one(th("6.23", 9, 1, 60)),
		steps: []step{
			{at: 0, want: Admit},
			{at: 2 * time.Hour, want: Admit},
			{do: "cancel", ref: 0},
			{at: 2*time.Hour + 1, want: Quarantine, scope: UserScope, count: 2},
		},
	}, {
		name:  "ok/the window slides: exact on slice boundaries, a slice more between",
		users: one(th("6.23", 9, 2, 60)), // 1-minute slices
		steps: []step{
			{at: 0, want: Admit},
			{at: 1 * sec, want: Admit},
			{at: 59 * min, want: Quarantine, scope: UserScope, count: 3},
			// (0, 60m] leaves out the request at 0 exactly.
			{at: 60 * min, want: Admit},
			// (1s, 60m1s] leaves out the one at 1s, but its slice (0, 1m]
			// is still counted: the error is toward quarantine.
			{at: 60*min + 1*sec, want: Quarantine, scope: UserScope, count: 3},
			{at: 61 * min, want: Admit},
		},
	}, {
		name:  "ok/a warning again after the window empties",
		users: one(th("6.23", 1, 9, 1)),
		steps: []step{
			{at: 0, want: Admit},
			{at: 1, want: Warn, scope: UserScope, count: 2},
			{at: 2, want: Admit},
			{at: 2 * min, want: Admit},
			{at: 2*min + 1, want: Warn, scope: UserScope, count: 2},
		},
	}, {
		name:  "ok/a clock stepping back counts into the newest slice",
		users: one(th("6.23", 9, 2, 1)), // 1-second slices
		steps: []step{
			{at: 30 * sec, want: Admit},
			{at: 10 * sec, want: Admit}, // counted at 30s, not 10s
			// (29s, 89s] still holds both; had the second been counted at
			// 10s, it would have slid out.
			{at: 89 * sec, want: Quarantine, scope: UserScope, count: 3},
			{at: 90 * sec, want: Admit},
		},
	}, {
		name:  "ok/Count in the past fills the window, older than the window is ignored",
		users: one(th("6.23", 9, 3, 60)),
		steps: []step{
			{do: "count", at: -30 * min},
			{do: "count", at: -3 * time.Hour}, // older than the ring: dropped
			{do: "count", at: -59 * min},
			{at: 0, want: Admit},
			{at: 1, want: Quarantine, scope: UserScope, count: 4},
			// At 1m the request at -59m has slid out.
			{at: min, want: Admit},
		},
	}, {
		name:  "ok/Count ignores thresholds and counts for the DCC too",
		users: one(th("6.23", 9, 1, 60)),
		dcc:   []adt.Threshold{th("6.23", 9, 3, 60)},
		steps: []step{
			{do: "count"}, {do: "count"}, {do: "countOwn"},
			{at: 1, want: Quarantine, scope: UserScope, count: 3},
			{at: 1, user: bob, want: Quarantine, scope: DCCScope, count: 4},
		},
	}, {
		name: "ok/DefaultUser holds Users without a file to zero on critical SRVs",
		opts: Options{DefaultUser: (&adt.File{}).Effective()},
		steps: []step{
			{at: 0, want: Quarantine, scope: UserScope, count: 1, within: 1440},
			{at: 0, srv: "1.1.1", want: Quarantine, scope: UserScope, count: 1},
			{at: 0, srv: "4.1.1", want: Admit}, // non-critical: no threshold
		},
	}, {
		name:  "ok/a User with a file is not held to DefaultUser",
		opts:  Options{DefaultUser: (&adt.File{}).Effective()},
		users: one(th("6.23", 9, 9, 1440)),
		steps: []step{{at: 0, want: Admit}, {at: 0, srv: "1.1.1", want: Admit}, {at: 0, user: bob, want: Quarantine, scope: UserScope, count: 1}},
	}, {
		name:  "ok/without DefaultUser, Users without a file are not limited",
		steps: []step{{at: 0, want: Admit}, {at: 0, srv: "1.1.1", want: Admit}},
	}, {
		name: "ok/DefaultUser windows count per User",
		opts: Options{DefaultUser: []adt.Threshold{th("6.23", 9, 1, 60)}},
		steps: []step{
			{at: 0, want: Admit},
			{at: 0, user: bob, want: Admit},
			{at: 1, want: Quarantine, scope: UserScope, count: 2},
		},
	}} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t) })
	}
}

func TestCheckUnknownSRV(t *testing.T) {
	c := New(Options{DefaultUser: (&adt.File{}).Effective()})
	bad := SRV(adt.NumSRVs)
	if d := c.Check(alice, bad, t0); d.Outcome != Admit {
		t.Errorf("Check of an out-of-range SRV: %+v", d)
	}
	if d := c.CheckOwn(bad, t0); d.Outcome != Admit {
		t.Errorf("CheckOwn of an out-of-range SRV: %+v", d)
	}
	c.Count(alice, bad, t0)
	c.CountOwn(bad, t0)
	c.Cancel(Decision{})
}

// TestCountsReadOnly: looking at counts, even with a time ahead, must not
// slide the windows the next check sees.
func TestCountsReadOnly(t *testing.T) {
	c := New(Options{})
	c.SetUser(alice, []adt.Threshold{th("6.23", 9, 2, 60)})
	c.SetDCC([]adt.Threshold{th("6.23", 9, 5, 60)})
	srv := mustSRV(t, "6.23")
	c.Check(alice, srv, t0)
	c.Check(alice, srv, t0)
	if n := countOf(t, c, alice, "6.23", 60, t0.Add(2*time.Hour)); n != 0 {
		t.Errorf("two hours on: %d", n)
	}
	if n := dccCountOf(t, c, "6.23", 60, t0.Add(2*time.Hour)); n != 0 {
		t.Errorf("DCC two hours on: %d", n)
	}
	if d := c.Check(alice, srv, t0.Add(time.Second)); d.Outcome != Quarantine {
		t.Errorf("Counts slid the window: %+v", d)
	}
	if n := countOf(t, c, alice, "6.23", 60, t0); n != 2 {
		t.Errorf("count %d, want 2", n)
	}
	if n := dccCountOf(t, c, "6.23", 60, t0); n != 2 {
		t.Errorf("DCC count %d, want 2", n)
	}
}
