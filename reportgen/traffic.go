package reportgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// traffic is the month's requests, in the order they arrive: each one's
// time, the MPID it is sent under (which names its party), the meter it
// targets, and its MPID outcome.
type traffic struct {
	at      []int64 // Unix nanoseconds, ascending
	mpid    []int32 // into world.mpids
	meter   []int32 // into world.devices
	outcome []byte  // 'S', 'I' or 'M'
}

// The shape of a supplier's week: weekdays busy, weekends quiet; the
// working day busiest, the small hours near idle (batch runs at night).
var (
	dayWeight  = [7]float64{time.Sunday: 0.3, time.Saturday: 0.45, time.Monday: 1, time.Tuesday: 1.05, time.Wednesday: 1.05, time.Thursday: 1, time.Friday: 0.9}
	hourWeight = [24]float64{0.15, 0.1, 0.25, 0.1, 0.05, 0.05, 0.1, 0.35, 0.8, 1, 1, 1, 0.8, 0.9, 1, 1, 0.9, 0.7, 0.45, 0.35, 0.3, 0.25, 0.2, 0.15}
)

func newTraffic(o *Options, w *world, rng *rand.Rand) *traffic {
	n := o.Requests
	from, to := monthOf(o.Month)
	t := &traffic{at: make([]int64, n), mpid: make([]int32, n), meter: make([]int32, n), outcome: make([]byte, n)}

	var slots []float64 // one per hour of the month
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		slots = append(slots, dayWeight[h.Weekday()]*hourWeight[h.Hour()])
	}
	hours := newSampler(slots)
	for i := range t.at {
		t.at[i] = from.Add(time.Duration(hours.draw(rng))*time.Hour + time.Duration(rng.Int64N(int64(time.Hour)))).UnixNano()
	}
	slices.Sort(t.at)

	// Every MPID is sent under once at least, at a random moment; the
	// rest by weight.
	weights := make([]float64, len(w.mpids))
	for m, mp := range w.mpids {
		weights[m] = mp.weight
	}
	mpids := newSampler(weights)
	for i := range t.mpid {
		t.mpid[i] = int32(mpids.draw(rng))
	}
	for m, i := range rng.Perm(n)[:len(w.mpids)] {
		t.mpid[i] = int32(m)
	}
	for i, m := range t.mpid {
		meters := w.mpids[m].meters
		t.meter[i] = int32(meters[rng.IntN(len(meters))])
		t.outcome[i] = 'S'
	}

	// Incorrect outcomes come from a few careless MPIDs, missing ones
	// from a few parties: draw them one by one until their traffic is
	// enough, then mark exactly the share asked for among it.
	nI := int(math.Round(o.Incorrect * float64(n)))
	nM := min(int(math.Round(o.Missing*float64(n))), n-nI)
	perMPID := make([]int, len(w.mpids))
	for _, m := range t.mpid {
		perMPID[m]++
	}
	careless := map[int32]bool{}
	sum := 0
	for _, m := range rng.Perm(len(w.mpids)) {
		if sum >= min(3*nI, n) || nI == 0 {
			break
		}
		careless[int32(m)] = true
		sum += perMPID[m]
	}
	t.mark(rng, 'I', nI, func(i int) bool { return careless[t.mpid[i]] })
	if nI > 0 && t.count('I') < nI { // the careless MPIDs were not enough
		t.mark(rng, 'I', nI-t.count('I'), func(int) bool { return true })
	}
	perParty := make([]int, len(w.parties))
	for i, m := range t.mpid {
		if t.outcome[i] == 'S' {
			perParty[w.mpids[m].party]++
		}
	}
	forgetful := map[int]bool{}
	sum = 0
	for _, p := range rng.Perm(o.Parties) {
		if sum >= min(3*nM, n) || nM == 0 {
			break
		}
		forgetful[p] = true
		sum += perParty[p]
	}
	t.mark(rng, 'M', nM, func(i int) bool { return forgetful[w.mpids[t.mpid[i]].party] })
	if nM > 0 && t.count('M') < nM {
		t.mark(rng, 'M', nM-t.count('M'), func(int) bool { return true })
	}
	return t
}

// mark sets outcome o on k requests still S that eligible accepts, drawn
// at random (or on all of them if fewer).
func (t *traffic) mark(rng *rand.Rand, o byte, k int, eligible func(int) bool) {
	var cands []int32
	for i, x := range t.outcome {
		if x == 'S' && eligible(i) {
			cands = append(cands, int32(i))
		}
	}
	for j := 0; j < k && j < len(cands); j++ {
		r := j + rng.IntN(len(cands)-j)
		cands[j], cands[r] = cands[r], cands[j]
		t.outcome[cands[j]] = o
	}
}

func (t *traffic) count(o byte) int {
	n := 0
	for _, x := range t.outcome {
		if x == o {
			n++
		}
	}
	return n
}
