package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
)

// sendFunc is a Gateway whose Send the test writes.
type sendFunc struct {
	pipeline.Gateway
	send func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error)
}

func (g sendFunc) Send(ctx context.Context, frame []byte) (*dispatch.Reply, error) {
	return g.send(ctx, g.Gateway, frame)
}

// TestDeliveryOutcomes: the User is told "not sent" (E20) only when the
// frame never reached the device, and otherwise that the device may have
// carried it out, whether nothing or something unreadable came back.
func TestDeliveryOutcomes(t *testing.T) {
	cases := []struct {
		name     string
		send     func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error)
		reason   ecoserr.Reason
		code     string
		executed bool // the meter now trusts supplier 2
	}{
		{"not delivered", func(context.Context, pipeline.Gateway, []byte) (*dispatch.Reply, error) {
			return nil, fmt.Errorf("%w: connection refused", dispatch.ErrUnreachable)
		}, ecoserr.DeviceUnreachable, "E20", false},
		{"delivered, connection lost on the way back", func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error) {
			if _, err := next.Send(ctx, frame); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: connection reset", dispatch.ErrUnreadable)
		}, ecoserr.ResponseUnverifiable, "E21", true},
		{"delivered, answer corrupted", func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error) {
			r, err := next.Send(ctx, frame)
			if err != nil || r.Response == nil {
				return r, err
			}
			r.Response[len(r.Response)-1] ^= 1 // the device's signature no longer verifies
			return r, nil
		}, ecoserr.ResponseUnverifiable, "E21", true},
		{"delivered, answer cut short", func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error) {
			r, err := next.Send(ctx, frame)
			if err != nil || r.Response == nil {
				return r, err
			}
			r.Response = r.Response[:len(r.Response)/2]
			return r, nil
		}, ecoserr.ResponseUnverifiable, "E21", true},
		{"delivered, no answer", func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error) {
			if _, err := next.Send(ctx, frame); err != nil {
				return nil, err
			}
			return &dispatch.Reply{NoResponseReason: "drop-response"}, nil
		}, ecoserr.NoResponse, "E21", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, options{gateway: func(g pipeline.Gateway) pipeline.Gateway { return sendFunc{g, c.send} }})
			f.run(t)
			ctx := context.Background()
			ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 100}))
			if err != nil || !ack.Accepted {
				t.Fatalf("Submit: %+v, %v", ack, err)
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			req, err := f.p.WaitFinal(wctx, store.RequestID(*ack.RequestID))
			if err != nil {
				t.Fatal(err)
			}
			if req.State != store.RequestFailed || req.Reason != c.reason.Name() || req.ResponseCode != c.code {
				t.Errorf("request %s %s %s, want failed %s %s", req.State, req.Reason, req.ResponseCode, c.reason.Name(), c.code)
			}
			dev, _ := f.fleet.Device(demoworld.Device(1))
			if got := trustsSupplier(dev.Anchors(), f.world.PKI.Suppliers[1].EUI); got != c.executed {
				t.Errorf("meter trusts supplier 2: %v, want %v", got, c.executed)
			}
		})
	}
}
