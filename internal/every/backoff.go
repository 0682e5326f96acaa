package every

import (
	"context"
	"time"
)

// Backoff shapes the waits after failures in RunBackoff.
type Backoff struct {
	// Max caps the wait; at or below the interval there is no backing off.
	Max time.Duration
	// Jitter returns a number in [0, 1) that shortens a wait after a
	// failure by up to half, so that instances that failed together do
	// not retry in step; nil: no jitter.
	Jitter func() float64
}

// wait is how long to wait after failures failures in a row.
func (b Backoff) wait(interval time.Duration, failures int) time.Duration {
	if failures == 0 {
		return interval
	}
	d := interval
	for range failures {
		if d >= b.Max/2 {
			d = b.Max
			break
		}
		d *= 2
	}
	d = max(d, interval)
	if b.Jitter != nil {
		j := min(max(b.Jitter(), 0), 1)
		d -= time.Duration(j * float64(d/2))
	}
	return d
}

// RunBackoff calls fn every interval while it succeeds, until ctx ends.
// After n failures in a row it waits interval·2ⁿ, capped at b.Max and
// less b.Jitter's share; the first success goes back to interval. Each
// failure goes to onErr with the wait before the next try: a peer that is
// down is asked less and less often, and its recovery is noticed within
// b.Max.
func RunBackoff(ctx context.Context, interval time.Duration, b Backoff, fn func(context.Context) error, onErr func(err error, retryIn time.Duration)) {
	failures := 0
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := fn(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			next := b.wait(interval, failures)
			onErr(err, next)
			t.Reset(next)
			continue
		}
		failures = 0
		t.Reset(interval)
	}
}
