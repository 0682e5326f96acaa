package every

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunKeepsGoingAfterErrors: a failing run is reported and the next
// one still happens; the loop stops when ctx ends.
func TestRunKeepsGoingAfterErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls, reported := 0, 0
		done := make(chan struct{})
		go func() {
			Run(ctx, time.Second, func(context.Context) error {
				calls++
				return errors.New("boom")
			}, func(error) { reported++ })
			close(done)
		}()
		time.Sleep(3500 * time.Millisecond)
		cancel()
		<-done
		if calls != 3 || reported != 3 {
			t.Errorf("calls %d, reported %d; want 3 and 3", calls, reported)
		}
	})
}
