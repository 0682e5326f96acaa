package devicesim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/dispatch"
)

// InProcess is a device gateway to a simulated fleet in this process: the
// pipeline sends to it as it sends to dispatch.HTTP. It is plugged in
// where the service is wired, so no production package imports the
// simulated meters.
type InProcess struct {
	fleet *device.Fleet

	mu     sync.Mutex
	alerts [][]byte
}

// NewInProcess sends to f.
func NewInProcess(f *device.Fleet) *InProcess { return &InProcess{fleet: f} }

// Send hands the frame to the simulated device and honours an injected
// delay against ctx, as a slow network would.
func (g *InProcess) Send(ctx context.Context, frame []byte) (*dispatch.Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := g.fleet.Handle(frame)
	if err != nil {
		if rej, ok := errors.AsType[*device.RejectError](err); ok {
			return &dispatch.Reply{NoResponseReason: "rejected; reason=" + rej.Reason.String()}, nil
		}
		// The device had the frame when it failed.
		return nil, fmt.Errorf("%w: %w", dispatch.ErrUnreadable, err)
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
		return &dispatch.Reply{NoResponseReason: res.Fault.Kind.String()}, nil
	}
	return &dispatch.Reply{Response: res.Response}, nil
}

// Tick runs the fleet's due future-dated commands at now and keeps their
// alerts for Alerts.
func (g *InProcess) Tick(now time.Time) error {
	alerts, err := g.fleet.Tick(now)
	g.mu.Lock()
	for _, a := range alerts {
		g.alerts = append(g.alerts, a.Frame)
	}
	g.mu.Unlock()
	return err
}

// Alerts returns and forgets the alerts collected so far.
func (g *InProcess) Alerts(context.Context) ([][]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.alerts
	g.alerts = nil
	return out, nil
}

// Devices is the fleet behind the gateway.
func (g *InProcess) Devices() *device.Fleet { return g.fleet }
