package anomaly

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// TestConcurrentChecksNeverExceedQuarantine: many goroutines racing for the
// last places below a User's and the DCC's thresholds, some cancelling and
// some reloading thresholds meanwhile, never get more requests through
// than the thresholds allow, and the counts left are exactly what went
// through.
func TestConcurrentChecksNeverExceedQuarantine(t *testing.T) {
	const (
		users      = 24
		perUser    = 7
		dccQ       = 100
		goroutines = 32
		attempts   = 40
	)
	srv := mustSRV(t, adt.SRVCoS)
	rows := []adt.Threshold{th(adt.SRVCoS, 3, perUser, 1440), th(adt.SRVCoS, 9, 1000, 60)}
	dcc := []adt.Threshold{th(adt.SRVCoS, 50, dccQ, 1440)}
	c := New(Options{})
	var ids []eui.EUI
	for i := range users {
		u := eui.EUI{0x90, 0xB3, 0xD5, 0x1F, 0x30, 0, 0, byte(i)}
		ids = append(ids, u)
		c.SetUser(u, rows)
	}
	c.SetDCC(dcc)

	var (
		through  [users]atomic.Int64 // admitted minus cancelled, per User
		own      atomic.Int64
		warnings atomic.Int64
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	at := t0.Add(time.Hour)
	// Reloads that keep every window must not disturb the counting: they
	// go on for as long as any checker runs, however slow the machine.
	var reloader sync.WaitGroup
	reloading := make(chan struct{}) // closed once the first reload is done
	reloader.Go(func() {
		for first := true; ; first = false {
			select {
			case <-stop:
				return
			default:
			}
			c.SetUser(ids[3], rows)
			c.SetDCC(dcc)
			_ = c.Counts(ids[5], at)
			_ = c.DCCCounts(at)
			if first {
				close(reloading)
			}
		}
	})
	for g := range goroutines {
		wg.Go(func() {
			<-reloading
			for i := range attempts {
				// Clocks read just before the lock may arrive out of order.
				when := at.Add(time.Duration((g*attempts+i)%17) * time.Millisecond)
				if g == 0 {
					d := c.CheckOwn(srv, when)
					if d.Outcome == Warn {
						warnings.Add(1)
					}
					if d.Outcome != Quarantine {
						own.Add(1)
					}
					continue
				}
				u := (g + i) % users
				d := c.Check(ids[u], srv, when)
				if d.Outcome == Warn {
					warnings.Add(1)
				}
				if d.Outcome == Quarantine {
					continue
				}
				through[u].Add(1)
				if i%5 == 0 {
					c.Cancel(d)
					through[u].Add(-1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	reloader.Wait()

	var total int64
	for u := range users {
		n := through[u].Load()
		total += n
		if n > perUser {
			t.Errorf("User %d got %d requests through, quarantine threshold %d", u, n, perUser)
		}
		if got := countOf(t, c, ids[u], adt.SRVCoS, 1440, at.Add(time.Second)); got != uint64(n) {
			t.Errorf("User %d: counter holds %d, %d went through", u, got, n)
		}
	}
	total += own.Load()
	if total > dccQ {
		t.Errorf("%d requests through, DCC quarantine threshold %d", total, dccQ)
	}
	if total < dccQ/2 {
		t.Errorf("only %d requests through: the race did not reach the thresholds", total)
	}
	if got := dccCountOf(t, c, adt.SRVCoS, 1440, at.Add(time.Second)); got != uint64(total) {
		t.Errorf("DCC counter holds %d, %d went through", got, total)
	}
	if warnings.Load() == 0 {
		t.Errorf("%d requests through, none warned", total)
	}
}

// TestConcurrentOneSlotLeft: with one place left, exactly one of many
// simultaneous checks takes it.
func TestConcurrentOneSlotLeft(t *testing.T) {
	srv := mustSRV(t, adt.SRVCoS)
	for range 50 {
		c := New(Options{})
		c.SetUser(alice, []adt.Threshold{th(adt.SRVCoS, 9, 1, 1440)})
		var admitted atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 16 {
			wg.Go(func() {
				<-start
				if c.Check(alice, srv, t0).Outcome != Quarantine {
					admitted.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := admitted.Load(); n != 1 {
			t.Fatalf("%d checks took the one place", n)
		}
	}
}
