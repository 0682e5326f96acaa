package pipeline_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// TestWaitersLeakNothing: thousands of long-polls on RequestIDs nobody
// sent, and thousands abandoned on a request that is still in flight,
// leave no waiter registered and no goroutine behind.
func TestWaitersLeakNothing(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	// Not run: the request stays authorised, never final.
	ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 100}))
	if err != nil || !ack.Accepted {
		t.Fatalf("Submit: %+v, %v", ack, err)
	}
	pending := store.RequestID(*ack.RequestID)
	baseline := runtime.NumGoroutine()

	const n = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			id := store.RequestID{Originator: eui.EUI{0xEE, 1}, Target: eui.EUI{0xEE, 2}, Counter: uint64(i + 1)}
			if _, err := f.p.WaitFinal(ctx, id); !errors.Is(err, store.ErrNotFound) {
				errs <- err
			}
		})
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
			if _, err := f.p.WaitFinal(wctx, pending); !errors.Is(err, context.DeadlineExceeded) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("WaitFinal: %v", err)
	}
	if w := f.p.Waiting(); w != 0 {
		t.Errorf("%d requests still have a waiter registered, want 0", w)
	}
	// The waiting goroutines were the test's own; once they have exited
	// nothing WaitFinal started may remain.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if g := runtime.NumGoroutine(); g > baseline {
		t.Errorf("%d goroutines, %d before the waits", g, baseline)
	}
}
