package pipeline_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
)

// TestFutureDatedAlertDocument: when a future-dated CS02b runs, the
// device's 0x00CB alert reaches the User as DUIS's
// ResponseMessage/FutureDatedDeviceAlertMessage (8F66, the alert as
// GBCSPayload, instruction 1 of 1), once, even when the network delivers
// it twice and even when the request already has another alert.
func TestFutureDatedAlertDocument(t *testing.T) {
	q := &alertQueue{}
	f := newFixture(t, options{gateway: func(g pipeline.Gateway) pipeline.Gateway { q.Gateway = g; return q }})
	f.run(t)
	ctx := context.Background()
	d := demoworld.Device(2)
	execAt := t0.Add(2 * time.Hour)
	ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: d, Counter: 300, ExecuteAt: &execAt}))
	if err != nil || !ack.Accepted {
		t.Fatalf("ack %+v %v", ack, err)
	}
	id := store.RequestID(*ack.RequestID)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if req, err := f.p.WaitFinal(wctx, id); err != nil || req.State != store.RequestResponded {
		t.Fatalf("request %+v %v", req, err)
	}
	// Another alert about the same request (a quarantine's, AD1) must not
	// pass for the forwarded device alert.
	if _, err := f.db.AddResponse(ctx, store.Response{RequestID: id, Kind: store.ResponseAlert, Code: "AD1", Document: []byte("<other/>"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	f.mu.Lock()
	f.now = execAt
	f.mu.Unlock()
	due, err := f.fleet.Tick(execAt)
	if err != nil || len(due) != 1 {
		t.Fatalf("the meter raised %d alerts (%v), want 1", len(due), err)
	}
	alert := due[0].Frame
	q.push(alert, alert) // the network delivers it twice
	if err := f.p.PollAlerts(q.mine(ctx)); err != nil {
		t.Fatal(err)
	}
	q.push(alert)
	if err := f.p.PollAlerts(q.mine(ctx)); err != nil {
		t.Fatal(err)
	}

	docs, err := f.db.Responses(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var forwarded []store.Response
	for _, r := range docs {
		if r.Kind == store.ResponseAlert && r.Code != "AD1" {
			forwarded = append(forwarded, r)
		}
	}
	if len(forwarded) != 1 || forwarded[0].Code != "8F66" {
		t.Fatalf("forwarded alerts %+v, want one with code 8F66", forwarded)
	}
	resp := f.checkDocument(t, forwarded[0].Document, duis.ResponseSuccess)
	m := resp.ResponseMessage
	if m == nil || m.GBCSPayload != nil || m.FutureDatedDeviceAlert == nil {
		t.Fatalf("alert body %+v, want a FutureDatedDeviceAlertMessage", m)
	}
	a := m.FutureDatedDeviceAlert
	if a.AlertCode != duis.FutureDatedSuccess || a.InstructionNumber != 1 || a.TotalCommandInstructions != 1 || !bytes.Equal(a.GBCSPayload, alert) {
		t.Errorf("FutureDatedDeviceAlertMessage %+v", a)
	}
	gm, err := gbcs.ParseMessage(a.GBCSPayload)
	if err != nil || gm.Code != gbcs.CodeFutureDatedAlert || gm.Originator != d {
		t.Errorf("GBCSPayload: %v %+v", err, gm)
	}
	if resp.Header.RequestID == nil || store.RequestID(*resp.Header.RequestID) != id || resp.Header.ResponseID == nil || resp.Header.ResponseID.Originator != d {
		t.Errorf("header %+v", resp.Header)
	}
}

// alertQueue hands the test's alert frames to the PollAlerts calls the
// test makes (their context says so), and none to the pipeline's own
// poller, so what is forwarded does not depend on timing.
type alertQueue struct {
	pipeline.Gateway
	mu     sync.Mutex
	frames [][]byte
}

type testPoll struct{}

func (q *alertQueue) mine(ctx context.Context) context.Context {
	return context.WithValue(ctx, testPoll{}, true)
}

func (q *alertQueue) push(frames ...[]byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.frames = append(q.frames, frames...)
}

func (q *alertQueue) Alerts(ctx context.Context) ([][]byte, error) {
	if ctx.Value(testPoll{}) == nil {
		return nil, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.frames
	q.frames = nil
	return out, nil
}
