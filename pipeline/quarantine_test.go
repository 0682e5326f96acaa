package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// withCounter gives the fixture a threshold counter with dcc as the
// DCC-wide thresholds; limit sets supplier 2's.
func withCounter(dcc ...adt.Threshold) (options, *anomaly.Counter) {
	c := anomaly.New(anomaly.Options{})
	c.SetDCC(dcc)
	return options{pipeline: func(cfg *pipeline.Config) {
		cfg.Anomaly = c
		cfg.HoldFor = time.Hour
	}}, c
}

func (f *fixture) limit(c *anomaly.Counter, warning, quarantine uint64) {
	c.SetUser(f.world.PKI.Suppliers[1].EUI, []adt.Threshold{{SRV: "6.23", Warning: warning, Quarantine: quarantine, Interval: 1440}})
}

func (f *fixture) submitN(t *testing.T, device int, counter uint64) (*pipeline.Ack, store.RequestID) {
	t.Helper()
	doc := f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(device), Counter: counter})
	ack, err := f.p.Submit(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	return ack, store.RequestID(*ack.RequestID)
}

// TestHoldExpiry: a held request whose hold runs out is deleted and its
// User told; nothing else expires.
func TestHoldExpiry(t *testing.T) {
	o, c := withCounter()
	f := newFixture(t, o)
	f.limit(c, 0, 0)
	ctx := context.Background()
	ack, id := f.submitN(t, 1, 100)
	if !ack.Accepted || ack.Code != duis.ResponseAcknowledged || ack.QuarantineRef == 0 {
		t.Fatalf("ack %+v", ack)
	}
	if n, err := f.p.ExpireHolds(ctx); err != nil || n != 0 {
		t.Fatalf("expired early: %d %v", n, err)
	}
	f.mu.Lock()
	f.now = f.now.Add(time.Hour)
	f.mu.Unlock()
	if n, err := f.p.ExpireHolds(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireHolds = %d, %v; want 1", n, err)
	}
	if n, err := f.p.ExpireHolds(ctx); err != nil || n != 0 {
		t.Fatalf("second ExpireHolds = %d, %v; want 0", n, err)
	}
	req, err := f.db.Request(ctx, id)
	if err != nil || req.State != store.RequestRejected || req.Reason != "quarantine-expired" {
		t.Fatalf("expired request: %+v %v", req, err)
	}
	h, err := f.db.Hold(ctx, ack.QuarantineRef)
	if err != nil || h.State != store.HoldExpired || h.DecidedBy != "expiry" {
		t.Fatalf("hold %+v %v", h, err)
	}
	docs, err := f.db.Responses(ctx, id)
	if err != nil || len(docs) != 3 {
		t.Fatalf("documents %+v %v", docs, err)
	}
	f.checkDocument(t, docs[2].Document, duis.ResponseCode(req.ResponseCode))
	if f.deviceCounters() != 0 {
		t.Error("an expired request reached a meter")
	}
}

// TestWarningOnce: the request that crosses the warning threshold raises
// one warning; the ones after it, under the quarantine threshold, none.
func TestWarningOnce(t *testing.T) {
	o, c := withCounter()
	f := newFixture(t, o)
	f.limit(c, 1, 10)
	for i := range 4 {
		if ack, _ := f.submitN(t, 1+i, uint64(100+i)); !ack.Accepted || ack.QuarantineRef != 0 {
			t.Fatalf("request %d: %+v", i, ack)
		}
	}
	got := f.crossed(t, "warning", "user")
	if got != 1 || strings.Count(f.audit.String(), `"outcome":"warning"`) != 1 {
		t.Errorf("%v warnings counted, audit:\n%s", got, f.audit.String())
	}
}

// TestReplayNotCounted: a replayed request is refused at step 3 and takes
// nothing from its sender's threshold.
func TestReplayNotCounted(t *testing.T) {
	o, c := withCounter()
	f := newFixture(t, o)
	f.limit(c, 2, 2)
	doc := f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 100})
	for i, want := range []bool{true, false, false} {
		ack, err := f.p.Submit(context.Background(), doc)
		if err != nil || ack.Accepted != want {
			t.Fatalf("submission %d: %+v %v", i, ack, err)
		}
	}
	if ack, _ := f.submitN(t, 2, 101); !ack.Accepted || ack.QuarantineRef != 0 {
		t.Fatalf("second distinct request held after replays: %+v", ack)
	}
	if ack, _ := f.submitN(t, 3, 102); ack.QuarantineRef == 0 {
		t.Fatalf("third request not held: %+v", ack)
	}
}

// TestDCCThresholdBreach: a DCC-wide threshold holds a request its User's
// own would let through, and the alert says whose threshold it was.
func TestDCCThresholdBreach(t *testing.T) {
	o, c := withCounter(adt.Threshold{SRV: "6.23", Warning: 1, Quarantine: 1, Interval: 60})
	f := newFixture(t, o)
	f.limit(c, 100, 100)
	if ack, _ := f.submitN(t, 1, 100); ack.QuarantineRef != 0 {
		t.Fatalf("first request held: %+v", ack)
	}
	ack, id := f.submitN(t, 2, 101)
	if ack.QuarantineRef == 0 {
		t.Fatalf("second request not held: %+v", ack)
	}
	h, err := f.db.Hold(context.Background(), ack.QuarantineRef)
	if err != nil || h.Breach != store.BreachDCC || h.Interval != 60 || h.Quarantine != 1 || h.Request != id {
		t.Fatalf("hold %+v %v", h, err)
	}
	docs, err := f.db.Responses(context.Background(), id)
	if err != nil || len(docs) != 2 {
		t.Fatalf("documents %+v %v", docs, err)
	}
	v, err := xmldsig.Verify(docs[1].Document, f.dsp)
	if err != nil {
		t.Fatal(err)
	}
	alert, err := duis.DecodeResponse(v.Digested)
	if err != nil {
		t.Fatal(err)
	}
	if q, ok := alert.DCCAlertMessage.Alert.(*duis.QuarantinedRequest); !ok || q.Breach != duis.DCCThresholdBreach || q.QuarantineEventRef != ack.QuarantineRef {
		t.Errorf("alert %+v", alert.DCCAlertMessage)
	}
	if f.crossed(t, "quarantined", "dcc") != 1 {
		t.Error("DCC hold not counted in the metric")
	}
}

// crossed reads ecos_anomaly_thresholds_crossed_total{outcome, scope}.
func (f *fixture) crossed(t *testing.T, outcome, scope string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ecos_anomaly_thresholds_crossed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["outcome"] == outcome && got["scope"] == scope {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
