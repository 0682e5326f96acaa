package anomaly

import (
	"math"
	"time"

	"github.com/ecos-cos/ecos/adt"
)

// window is the state of one threshold row: for one (User or the DCC, SRV,
// interval), the requests counted in each of the last S+1 slices. It holds
// no pointers, so that the arenas of windows cost the garbage collector
// nothing to scan.
//
// Slices are right-closed, (k·width, (k+1)·width], numbered from the Unix
// epoch: a check exactly on a slice boundary then covers exactly S slices,
// and requests made on boundaries are counted exactly; off a boundary the
// window reaches back into one more slice, which is the error toward
// quarantine.
//
// The newest slice's count lives in the window itself (cur), not in its
// ring, so that a check in steady state touches one cache line of window
// and none of ring; the ring, and its memory, is needed only once a second
// slice has requests.
type window struct {
	warn, quar uint64
	width      int64  // ns per slice: interval/S rounded up, so S slices never cover less than the interval
	id         uint64 // unique in the Counter; a window kept across SetUser keeps it
	last       int64  // newest instant checked or counted (Unix ns); math.MinInt64 before the first
	head       int64  // slice of last
	sum        uint64 // cur plus the ring's slots
	cur        uint32 // requests in slice head; its ring slot stays 0
	ring       uint32 // 1-based id in the owner's rings; 0 until a second slice has requests
	interval   uint16 // minutes
	srv        SRV
	dflt       bool // adt.Threshold.Default, handed back in decisions
}

// newWindow is the empty window for a threshold row.
func newWindow(srv SRV, t adt.Threshold, slices int) window {
	span := int64(t.Interval) * int64(time.Minute)
	return window{
		warn: t.Warning, quar: t.Quarantine,
		width:    (span + int64(slices) - 1) / int64(slices),
		last:     math.MinInt64,
		interval: uint16(t.Interval),
		srv:      srv,
		dflt:     t.Default,
	}
}

// rule is the threshold the window counts against.
func (w *window) rule() adt.Threshold {
	return adt.Threshold{SRV: w.srv.String(), Warning: w.warn, Quarantine: w.quar,
		Interval: uint64(w.interval), Default: w.dflt}
}

func (w *window) span() int64 { return int64(w.interval) * int64(time.Minute) }

// sliceOf is the slice holding instant t.
func (w *window) sliceOf(t int64) int64 { return floorDiv(t-1, w.width) }

// advance moves the window on to now, emptying the slices that have slid
// out. It never moves back: a clock that steps back leaves the window where
// it is, and what is then counted goes into the newest slice.
func (w *window) advance(now int64, rs *rings) {
	if now <= w.last {
		return
	}
	first := w.last == math.MinInt64
	w.last = now
	k := w.sliceOf(now)
	if first || k == w.head || w.sum == 0 {
		// Nothing counted has to move: every slot is zero.
		w.head = k
		return
	}
	n := int64(rs.size)
	if k-w.head >= n {
		if w.ring != 0 {
			clear(rs.get(w.ring))
		}
		w.sum, w.cur, w.head = 0, 0, k
		return
	}
	if w.cur > 0 {
		if w.ring == 0 {
			w.ring = rs.alloc()
		}
		rs.get(w.ring)[slot(w.head, n)] += w.cur
		w.cur = 0
	}
	if w.ring != 0 {
		r := rs.get(w.ring)
		for j := w.head + 1; j <= k; j++ {
			s := slot(j, n)
			w.sum -= uint64(r[s])
			r[s] = 0
		}
	}
	w.head = k
}

// count is the number of requests in the window ending at now, which must
// be the instant of the last advance: every slice overlapping (now −
// interval, now].
func (w *window) count(now int64, rs *rings) uint64 {
	if w.ring == 0 {
		return w.sum // all in slice head, which every window at now covers
	}
	n := int64(rs.size)
	oldest := w.head - n + 1
	if floorDiv(now-w.span(), w.width) > oldest {
		// now is on a slice boundary: the oldest slice lies wholly before
		// the window.
		return w.sum - uint64(rs.get(w.ring)[slot(oldest, n)])
	}
	return w.sum
}

// countAt is count without moving the window, for reports: the requests in
// the window ending at t, or at the newest instant seen if t is older.
func (w *window) countAt(t int64, rs *rings) uint64 {
	if w.sum == 0 {
		return 0
	}
	t = max(t, w.last)
	n := int64(rs.size)
	lo := max(floorDiv(t-w.span(), w.width), w.head-n+1)
	var c uint64
	if lo <= w.head {
		c = uint64(w.cur)
	}
	if w.ring != 0 {
		r := rs.get(w.ring)
		for j := lo; j < w.head; j++ {
			c += uint64(r[slot(j, n)])
		}
	}
	return c
}

// add counts one request made at instant at into its slice, or into the
// newest slice if the clock has stepped back; a request older than the
// oldest slice kept has slid out already and is not counted. A slice
// saturates rather than wrapping: 2³²−1 requests in one slice is beyond
// anything the service can receive, and wrapping would admit.
func (w *window) add(at int64, rs *rings) {
	w.advance(at, rs)
	k := w.sliceOf(at)
	if k >= w.head {
		if w.cur < math.MaxUint32 {
			w.cur++
			w.sum++
		}
		return
	}
	n := int64(rs.size)
	if k <= w.head-n {
		return
	}
	if w.ring == 0 {
		w.ring = rs.alloc()
	}
	if r, s := rs.get(w.ring), slot(k, n); r[s] < math.MaxUint32 {
		r[s]++
		w.sum++
	}
}

// remove takes back one request that add counted at instant at, if its
// slice is still kept.
func (w *window) remove(at int64, rs *rings) {
	k := w.sliceOf(at)
	n := int64(rs.size)
	switch {
	case w.sum == 0 || k > w.head || k <= w.head-n:
	case k == w.head:
		if w.cur > 0 {
			w.cur--
			w.sum--
		}
	case w.ring != 0:
		if r, s := rs.get(w.ring), slot(k, n); r[s] > 0 {
			r[s]--
			w.sum--
		}
	}
}

// keep carries the counts of old, a window for the same (SRV, interval)
// under the previous thresholds, into w.
func (w *window) keep(old *window) {
	w.id, w.last, w.head, w.sum, w.cur, w.ring = old.id, old.last, old.head, old.sum, old.cur, old.ring
}

// latest is the newest instant among t and what ws have seen: the instant a
// check counts at, so that a clock stepping back counts into the newest
// slice of every window.
func latest(t int64, ws []window) int64 {
	for i := range ws {
		t = max(t, ws[i].last)
	}
	return t
}

// floorDiv is a/b rounded toward −∞, for b > 0, so that instants before
// the epoch fall into the right slice too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func slot(k, n int64) int {
	m := k % n
	if m < 0 {
		m += n
	}
	return int(m)
}
