package every

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunBackoff: while fn fails the waits double up to the cap, jitter
// shortens them by its share, and a success goes back to the interval.
func TestRunBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := calls(t, Backoff{Max: 10 * time.Second}, 6, 9)
		want := seconds(1, 3, 7, 15, 25, 35, 45, 46, 47)
		check(t, "no jitter", got, want)
	})
	synctest.Test(t, func(t *testing.T) {
		got := calls(t, Backoff{Max: 10 * time.Second, Jitter: func() float64 { return 0.5 }}, 4, 6)
		// waits 1.5, 3, 6, 7.5: 2ⁿ seconds, capped at 10, less a quarter
		want := []time.Duration{time.Second, 2500 * time.Millisecond, 5500 * time.Millisecond,
			11500 * time.Millisecond, 19 * time.Second, 20 * time.Second}
		check(t, "jitter 0.5", got, want)
	})
	synctest.Test(t, func(t *testing.T) {
		// A Max at or below the interval: a fixed pace, failing or not.
		got := calls(t, Backoff{}, 3, 4)
		check(t, "no cap", got, seconds(1, 2, 3, 4))
	})
}

// calls runs RunBackoff with a one-second interval and an fn that fails
// its first fails calls, and returns when the first n calls happened.
func calls(t *testing.T, b Backoff, fails, n int) []time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	var at []time.Duration
	var retries []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunBackoff(ctx, time.Second, b, func(context.Context) error {
			at = append(at, time.Since(start))
			if len(at) == n {
				cancel()
			}
			if len(at) <= fails {
				return errors.New("gateway down")
			}
			return nil
		}, func(_ error, retryIn time.Duration) { retries = append(retries, retryIn) })
	}()
	<-done
	if len(retries) != min(fails, n-1) {
		t.Errorf("%d failures reported, want %d", len(retries), min(fails, n-1))
	}
	return at
}

func seconds(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, v := range s {
		out[i] = time.Duration(v) * time.Second
	}
	return out
}

func check(t *testing.T, name string, got, want []time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: calls at %v, want %v", name, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: calls at %v, want %v", name, got, want)
		}
	}
}
