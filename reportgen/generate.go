package reportgen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// MonthTakenError: the month already holds requests and Append was not
// set.
type MonthTakenError struct{ Month time.Time }

func (e *MonthTakenError) Error() string {
	return "the database already holds requests received in " + e.Month.Format("2006-01")
}

// Summary is what a run made.
type Summary struct {
	Month                        time.Time // its first instant, UTC
	Parties, SilentParties       int
	MPIDs, Certificates          int
	Meters                       int // devices, each with a registration
	Requests                     int
	Correct, Incorrect, Missing  int
	FirstRequest, LastRequest    time.Time
	ReferenceData, RequestsTaken time.Duration
}

// Generate makes the month o describes and records it in st: parties,
// devices and registrations through the reference-data imports, then the
// requests through RecordRequests, Batch at a time. A month that already
// holds requests is refused (*MonthTakenError) unless o.Append.
//
// now times the run for the summary.
func Generate(ctx context.Context, st Store, o Options, now func() time.Time) (Summary, error) {
	if err := o.check(); err != nil {
		return Summary{}, err
	}
	from, to := monthOf(o.Month)
	taken, err := st.AnyRequestReceived(ctx, from, to)
	if err != nil {
		return Summary{}, err
	}
	if taken && !o.Append {
		return Summary{}, &MonthTakenError{Month: from}
	}
	// Requests are numbered after every counter the replay guard holds,
	// so they pass it whatever was recorded before.
	base, err := st.HighestAcceptedCounter(ctx)
	if err != nil {
		return Summary{}, err
	}
	if base > math.MaxUint64-uint64(o.Requests) {
		return Summary{}, fmt.Errorf("the replay guard holds counter %d: no room after it for %d requests", base, o.Requests)
	}
	start := now()
	rng := rand.New(rand.NewPCG(o.Seed, 0x6e6572617465))
	w := newWorld(&o, rng)
	t := newTraffic(&o, w, rng)
	s := Summary{
		Month: from, Parties: o.Parties, SilentParties: o.SilentParties, MPIDs: len(w.mpids),
		Meters: len(w.devices), Requests: len(t.at),
		Correct: t.count('S'), Incorrect: t.count('I'), Missing: t.count('M'),
		FirstRequest: time.Unix(0, t.at[0]).UTC(), LastRequest: time.Unix(0, t.at[len(t.at)-1]).UTC(),
	}
	// The certificates I and M requests are signed with exist before any
	// is.
	for i, m := range t.mpid {
		switch t.outcome[i] {
		case 'I':
			w.wrongCert(int(m))
		case 'M':
			w.noMPID(w.mpids[m].party)
		}
	}
	s.Certificates = w.certificates
	if err := st.ImportParties(ctx, w.parties); err != nil {
		return s, fmt.Errorf("parties: %w", err)
	}
	if err := st.ImportDevices(ctx, w.devices); err != nil {
		return s, fmt.Errorf("devices: %w", err)
	}
	if err := st.ImportRegistrations(ctx, w.registrations); err != nil {
		return s, fmt.Errorf("registrations: %w", err)
	}
	s.ReferenceData = now().Sub(start)
	start = now()
	if err := record(ctx, st, &o, w, t, base); err != nil {
		return s, err
	}
	s.RequestsTaken = now().Sub(start)
	return s, nil
}

// received is request i as the pipeline records it after step 8 under the
// report policy: authorised, with its MPID outcome.
func (t *traffic) received(w *world, i int, base uint64) store.Received {
	mp := &w.mpids[t.mpid[i]]
	rec := &store.MPIDRecord{Outcome: string(t.outcome[i]), Expected: mp.code}
	switch t.outcome[i] {
	case 'S':
		rec.Presented, rec.SignerSerial = mp.code, mp.serial
	case 'I':
		rec.Presented, rec.SignerSerial = mp.wrong.code, mp.wrong.serial
	case 'M':
		rec.SignerSerial = w.noMPIDCert[mp.party]
	}
	return store.Received{
		ID: store.RequestID{
			Originator: w.users[mp.party],
			Target:     w.devices[t.meter[i]].EUI,
			Counter:    base + 1 + uint64(i),
		},
		At:    time.Unix(0, t.at[i]).UTC(),
		Party: w.parties[mp.party].ID,
		State: store.RequestAuthorised,
		MPID:  rec,
	}
}

// record writes the requests, Batch to a transaction, on Writers
// connections at once. A meter's requests all go through one writer, in
// the order they arrive, so the replay guard sees the counters of each
// sender to it rise.
func record(ctx context.Context, st Store, o *Options, w *world, t *traffic, base uint64) error {
	size, writers := o.Batch, o.Writers
	if size == 0 {
		size = 2000
	}
	if writers == 0 {
		writers = 1
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	queues := make([]chan []store.Received, writers)
	for q := range queues {
		queues[q] = make(chan []store.Received, 2)
		wg.Go(func() {
			for batch := range queues[q] {
				if ctx.Err() != nil {
					continue
				}
				if err := st.RecordRequests(ctx, batch); err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				done += len(batch)
				if o.Progress != nil {
					o.Progress(done)
				}
				mu.Unlock()
			}
		})
	}
	pending := make([][]store.Received, writers)
	send := func(q int) {
		select {
		case queues[q] <- pending[q]:
		case <-ctx.Done():
		}
		pending[q] = make([]store.Received, 0, size)
	}
	for i := range t.at {
		if ctx.Err() != nil {
			break
		}
		q := int(t.meter[i]) % writers
		pending[q] = append(pending[q], t.received(w, i, base))
		if len(pending[q]) == size {
			send(q)
		}
	}
	for q := range pending {
		if len(pending[q]) > 0 {
			send(q)
		}
		close(queues[q])
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("after %d of %d requests were recorded: %w", done, len(t.at), err)
	}
	return nil
}
