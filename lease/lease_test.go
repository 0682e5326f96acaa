package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

func TestOneHolderAtATime(t *testing.T) {
	tab := New()
	d := eui.EUI{1}
	if !tab.TryAcquire(d) {
		t.Fatal("first TryAcquire failed")
	}
	if tab.TryAcquire(d) {
		t.Fatal("second TryAcquire succeeded while held")
	}
	if !tab.TryAcquire(eui.EUI{2}) {
		t.Fatal("another device's lease is not independent")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tab.Acquire(ctx, d); err == nil {
		t.Fatal("Acquire of a held lease returned without it when ctx ended")
	}
	tab.Release(d)
	if err := tab.Acquire(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	tab.Release(d)
	tab.Release(d) // not held: no-op
	tab.Release(eui.EUI{2})
	if n := tab.Held(); n != 0 {
		t.Fatalf("%d leases held after every release", n)
	}
}

// Many goroutines taking one device's lease never overlap.
func TestMutualExclusion(t *testing.T) {
	tab := New()
	d := eui.EUI{9}
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 200 {
				if i%2 == 0 {
					if err := tab.Acquire(context.Background(), d); err != nil {
						t.Error(err)
						return
					}
				} else if !tab.TryAcquire(d) {
					continue
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				inside.Add(-1)
				tab.Release(d)
			}
		})
	}
	wg.Wait()
	if overlaps.Load() != 0 {
		t.Fatalf("%d overlapping holders", overlaps.Load())
	}
}
