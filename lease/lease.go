// Package lease gives one command at a time to each device: a device
// accepts an originator counter only above the last it accepted, so two
// commands racing to one device (a 6.23 and a migration command, or two
// migration workers) can make it refuse the lower one (product.md §5).
// Whoever reserves a counter for a device holds its lease from before the
// reservation until the command's outcome is recorded.
//
// The table is in memory: it orders the roles of one service process.
// Several processes on one database are kept apart by the database's own
// checks (a device's migration state, one open migration command per
// device), which refuse rather than wait.
package lease

import (
	"context"
	"sync"

	"github.com/ecos-cos/ecos/eui"
)

// Table holds the leases of devices with a command in hand. Its memory is
// the number of leases held, not the number of devices.
type Table struct {
	mu   sync.Mutex
	held map[eui.EUI]chan struct{} // closed on release
}

// New returns an empty table.
func New() *Table { return &Table{held: map[eui.EUI]chan struct{}{}} }

// TryAcquire takes d's lease if nobody holds it.
func (t *Table) TryAcquire(d eui.EUI) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, busy := t.held[d]; busy {
		return false
	}
	t.held[d] = make(chan struct{})
	return true
}

// Acquire waits until it holds d's lease, or ctx ends.
func (t *Table) Acquire(ctx context.Context, d eui.EUI) error {
	for {
		t.mu.Lock()
		released, busy := t.held[d]
		if !busy {
			t.held[d] = make(chan struct{})
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		select {
		case <-released:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Release gives d's lease back. Releasing a lease not held is a no-op.
func (t *Table) Release(d eui.EUI) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.held[d]; ok {
		close(c)
		delete(t.held, d)
	}
}

// Held is how many leases are held.
func (t *Table) Held() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.held)
}
