package pipeline_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
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
	// The waiting goroutines were the test's own and every one of them
	// has returned (wg.Wait): a goroutine still running pipeline code was
	// started by WaitFinal and left behind. Read from the stacks, not a
	// count, so the database's own goroutines coming and going (and the
	// test's, still exiting) cannot fail it.
	if left := goroutinesIn("github.com/ecos-cos/ecos/pipeline."); len(left) > 0 {
		t.Errorf("%d goroutines still in the pipeline after every wait returned, e.g.\n%s", len(left), left[0])
	}
}

// goroutinesIn returns the stacks of the goroutines with a frame in a
// function whose full name starts with prefix.
func goroutinesIn(prefix string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "\n"+prefix) {
			out = append(out, g)
		}
	}
	return out
}
