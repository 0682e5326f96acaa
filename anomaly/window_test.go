package anomaly

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
)

func TestFloorDiv(t *testing.T) {
	for _, tc := range []struct{ a, b, want int64 }{
		{0, 3, 0}, {1, 3, 0}, {3, 3, 1}, {5, 3, 1},
		{-1, 3, -1}, {-3, 3, -1}, {-4, 3, -2},
	} {
		if got := floorDiv(tc.a, tc.b); got != tc.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, tc := range []struct {
		k, n int64
		want int
	}{{0, 5, 0}, {7, 5, 2}, {-1, 5, 4}, {-5, 5, 0}} {
		if got := slot(tc.k, tc.n); got != tc.want {
			t.Errorf("slot(%d, %d) = %d, want %d", tc.k, tc.n, got, tc.want)
		}
	}
}

// TestSlicesRightClosed pins the slice arithmetic the window's exactness
// rests on: an instant on a boundary belongs to the slice it ends.
func TestSlicesRightClosed(t *testing.T) {
	w := newWindow(0, th("6.23", 0, 10, 1), 60) // 1-second slices
	if w.width != int64(time.Second) {
		t.Fatalf("width %v, want 1s", time.Duration(w.width))
	}
	for _, tc := range []struct {
		at   time.Duration
		want int64
	}{{0, -1}, {1, 0}, {time.Second, 0}, {time.Second + 1, 1}, {-1, -1}, {-time.Second, -2}, {-time.Second - 1, -2}} {
		if got := w.sliceOf(int64(tc.at)); got != tc.want {
			t.Errorf("sliceOf(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

// TestWidthRoundsUp: with a slice count that does not divide the
// interval, the slices together must still cover the whole interval.
func TestWidthRoundsUp(t *testing.T) {
	for _, s := range []int{7, 13, 3599, 3600} {
		w := newWindow(0, th("6.23", 0, 10, 1), s)
		if w.width*int64(s) < int64(time.Minute) {
			t.Errorf("%d slices of %v cover less than a minute", s, time.Duration(w.width))
		}
	}
}

func TestWindowSlides(t *testing.T) {
	rs := newRings(4, 2)
	w := newWindow(0, th("6.23", 0, 100, 4), 4) // 1-minute slices, 5 kept
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	for _, d := range []time.Duration{30 * time.Second, time.Minute, 90 * time.Second, 4 * time.Minute} {
		w.add(at(d), &rs)
	}
	for _, tc := range []struct {
		now  time.Duration
		want uint64
	}{
		{4 * time.Minute, 4},                // on a boundary: exactly (0, 4m]
		{4*time.Minute + 40*time.Second, 4}, // exact is 3: the 30s request is a slice back
		{5 * time.Minute, 2},                // (1m, 5m]
		{7*time.Minute + time.Second, 1},    // reaches back to the 4m request
		{8 * time.Minute, 0},                // (4m, 8m]
		{100 * time.Hour, 0},
	} {
		if got := w.countAt(at(tc.now), &rs); got != tc.want {
			t.Errorf("countAt(%v) = %d, want %d", tc.now, got, tc.want)
		}
	}
	// Far ahead, the ring is emptied wholesale and counting starts again.
	w.add(at(100*time.Hour), &rs)
	if got := w.count(at(100*time.Hour), &rs); got != 1 || w.sum != 1 {
		t.Errorf("after a long gap: count %d, sum %d, want 1, 1", got, w.sum)
	}
}

// TestWindowCountsNoOlderThanItsRing: a request older than the oldest
// slice kept is not counted, and removing it changes nothing.
func TestWindowCountsNoOlderThanItsRing(t *testing.T) {
	rs := newRings(4, 2)
	w := newWindow(0, th("6.23", 0, 100, 4), 4)
	now := t0.Add(time.Hour).UnixNano()
	w.add(now, &rs)
	old := t0.Add(time.Hour - 5*time.Minute).UnixNano()
	w.add(old, &rs)
	w.remove(old, &rs)
	if w.sum != 1 {
		t.Errorf("sum %d, want 1", w.sum)
	}
	// Four minutes back is within the ring (and the window).
	w.add(t0.Add(time.Hour-4*time.Minute+time.Second).UnixNano(), &rs)
	if got := w.count(now, &rs); got != 2 {
		t.Errorf("count %d, want 2", got)
	}
}

// TestRingsReuse: released rings come back empty.
func TestRingsReuse(t *testing.T) {
	rs := newRings(3, 2)
	ids := []uint32{rs.alloc(), rs.alloc(), rs.alloc()}
	if len(rs.chunks) != 2 {
		t.Fatalf("%d chunks for 3 rings of 2 per chunk", len(rs.chunks))
	}
	for _, id := range ids {
		r := rs.get(id)
		if len(r) != 4 || cap(r) != 4 {
			t.Fatalf("ring %d has len %d cap %d", id, len(r), cap(r))
		}
		r[0], r[3] = id, id
	}
	if r := rs.get(ids[0]); r[0] != ids[0] {
		t.Fatal("rings overlap")
	}
	rs.release(ids[1])
	rs.release(0)
	id := rs.alloc()
	if id != ids[1] {
		t.Fatalf("alloc after release = %d, want %d", id, ids[1])
	}
	for _, v := range rs.get(id) {
		if v != 0 {
			t.Fatalf("reused ring not cleared: %v", rs.get(id))
		}
	}
}

// TestWindowRingOnlyForSecondSlice: requests within one slice are counted
// in the window alone; the ring appears when a second slice has requests,
// whether the window moves on or a request from the past arrives.
func TestWindowRingOnlyForSecondSlice(t *testing.T) {
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	t.Run("ok/moving on", func(t *testing.T) {
		rs := newRings(4, 2)
		w := newWindow(0, th("6.23", 0, 100, 4), 4) // 1-minute slices
		for _, d := range []time.Duration{1, 10 * time.Second, time.Minute} {
			w.add(at(d), &rs)
		}
		if w.ring != 0 || w.cur != 3 || w.count(at(time.Minute), &rs) != 3 {
			t.Fatalf("one slice: ring %d, cur %d", w.ring, w.cur)
		}
		w.add(at(time.Minute+1), &rs)
		if w.ring == 0 || w.cur != 1 || w.sum != 4 {
			t.Fatalf("second slice: ring %d, cur %d, sum %d", w.ring, w.cur, w.sum)
		}
		w.remove(at(time.Minute+1), &rs) // from cur
		w.remove(at(time.Second), &rs)   // from the ring
		if w.cur != 0 || w.sum != 2 || w.countAt(at(time.Minute+1), &rs) != 2 {
			t.Fatalf("after removals: cur %d, sum %d", w.cur, w.sum)
		}
		// On the boundary at 5m the first slice is out.
		if got := w.countAt(at(5*time.Minute), &rs); got != 0 {
			t.Errorf("at 5m: %d, want 0", got)
		}
		w.add(at(5*time.Minute), &rs)
		if got := w.count(at(5*time.Minute), &rs); got != 1 {
			t.Errorf("at 5m after one more: %d, want 1", got)
		}
	})
	t.Run("ok/a request from the past", func(t *testing.T) {
		rs := newRings(4, 2)
		w := newWindow(0, th("6.23", 0, 100, 4), 4)
		w.add(at(3*time.Minute), &rs)
		w.add(at(30*time.Second), &rs)
		if w.ring == 0 || w.cur != 1 || w.sum != 2 {
			t.Fatalf("ring %d, cur %d, sum %d", w.ring, w.cur, w.sum)
		}
		if got := w.countAt(at(4*time.Minute), &rs); got != 2 {
			t.Errorf("at 4m: %d, want 2", got)
		}
		if got := w.countAt(at(5*time.Minute), &rs); got != 1 {
			t.Errorf("at 5m: %d, want 1", got)
		}
	})
	t.Run("ok/zero-threshold windows stay empty", func(t *testing.T) {
		c := New(Options{})
		c.SetUser(alice, []adt.Threshold{th("6.23", 0, 0, 60)})
		for i := range 100 {
			c.Check(alice, mustSRV(t, "6.23"), t0.Add(time.Duration(i)*time.Minute))
		}
		if sh := c.shard(userKey(alice)); sh.rings.n != 0 {
			t.Errorf("%d rings for a window that never counts", sh.rings.n)
		}
	})
}
