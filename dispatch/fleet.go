package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/device"
)

// Fleet is a Gateway to an in-process simulated fleet.
type Fleet struct {
	fleet *device.Fleet

	mu     sync.Mutex
	alerts [][]byte
}

var _ Gateway = (*Fleet)(nil)

// NewFleet sends to f.
func NewFleet(f *device.Fleet) *Fleet { return &Fleet{fleet: f} }

// Send hands the frame to the simulated device and honours an injected
// delay against ctx, as a slow network would.
func (g *Fleet) Send(ctx context.Context, frame []byte) (*Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := g.fleet.Handle(frame)
	if err != nil {
		if rej, ok := errors.AsType[*device.RejectError](err); ok {
			return &Reply{NoResponseReason: "rejected; reason=" + rej.Reason.String()}, nil
		}
		// The device had the frame when it failed.
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if res.Delay > 0 {
		t := time.NewTimer(res.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	if res.Response == nil {
		return &Reply{NoResponseReason: res.Fault.Kind.String()}, nil
	}
	return &Reply{Response: res.Response}, nil
}

// Tick runs the fleet's due future-dated commands at now and keeps their
// alerts for Alerts.
func (g *Fleet) Tick(now time.Time) error {
	alerts, err := g.fleet.Tick(now)
	g.mu.Lock()
	for _, a := range alerts {
		g.alerts = append(g.alerts, a.Frame)
	}
	g.mu.Unlock()
	return err
}

// Alerts returns and forgets the alerts collected so far.
func (g *Fleet) Alerts(context.Context) ([][]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.alerts
	g.alerts = nil
	return out, nil
}

// Devices is the fleet behind the gateway.
func (g *Fleet) Devices() *device.Fleet { return g.fleet }
