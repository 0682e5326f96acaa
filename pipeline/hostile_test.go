package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// signEdited encodes r, applies edit to the document text and signs the
// result as r's supplier: a request whose signature is good, so only the
// checks under test can refuse it.
func (f *fixture) signEdited(t *testing.T, r demoworld.Request, from, to string) []byte {
	t.Helper()
	doc := f.encode(t, r)
	s := f.world.PKI.Suppliers[r.Supplier-1]
	if !strings.Contains(string(doc), from) {
		t.Fatalf("test bug: %q not in\n%s", from, doc)
	}
	edited := strings.Replace(string(doc), from, to, 1)
	signed, err := xmldsig.Sign([]byte(edited), s.XMLSign.Key, mustParse(t, s.XMLSign.Cert), nil)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// editedRequests makes supplier 2's requests to dev, each with the next
// counter, edited before they are signed.
type editedRequests struct {
	f       *fixture
	dev     eui.EUI
	counter uint64
}

// edited is a request with from replaced by to.
func (e *editedRequests) edited(from, to string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		e.counter++
		return e.f.signEdited(t, demoworld.Request{Supplier: 2, Device: e.dev, Counter: e.counter}, from, to)
	}
}

// dated is a request with at as its ExecutionDateTime, written as given.
func (e *editedRequests) dated(at string) func(t *testing.T) []byte {
	return e.edited("<sr:SupplierFloorSeqNumber>", "<sr:ExecutionDateTime>"+at+"</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>")
}

// TestHostileIntake: requests that are well signed by a registered
// supplier, yet carry what the DUIS XSD refuses, a Command Variant this
// service does not take, or an ExecutionDateTime no CS02b can carry, are
// refused at intake with their own code: never acknowledged I99, nothing
// recorded (the counter is not spent), nothing signed, no meter reached.
func TestHostileIntake(t *testing.T) {
	f := newFixture(t, options{})
	f.run(t)
	ctx := context.Background()
	dev := demoworld.Device(3)
	reqs := &editedRequests{f: f, dev: dev}
	edited, dated := reqs.edited, reqs.dated
	cv := func(v string) func(t *testing.T) []byte {
		return edited("<sr:CommandVariant>1<", "<sr:CommandVariant>"+v+"<")
	}
	mpan := demoworld.MPANOf(dev)
	cases := []struct {
		name   string
		doc    func(t *testing.T) []byte
		reason ecoserr.Reason
		code   duis.ResponseCode
	}{
		// Command Variants other than 1: E12, as docs/response-codes.md says.
		{"command-variant/2", cv("2"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/3", cv("3"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/4", cv("4"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/5", cv("5"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/6", cv("6"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/7", cv("7"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/8", cv("8"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/+2", cv("+2"), ecoserr.UnsupportedRequest, "E12"},
		{"command-variant/9", cv("9"), ecoserr.Malformed, "E062301"}, // not in the XSD's enumeration
		{"other-service-body", edited("<sr:UpdateSecurityCredentialsCoS>", "<sr:ReadInventory/><sr:UpdateSecurityCredentialsCoS>"), ecoserr.UnsupportedRequest, "E12"},
		// ExecutionDateTimes the CS02b cannot carry.
		{"execution/fraction", dated("2030-01-02T00:00:00.5Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/millisecond", dated("2030-01-02T00:00:00.001Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/nanosecond-offset", dated("2030-01-02T01:00:00.000000001+01:00"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/fraction-near-gbcs-cancellation", dated("9999-12-31T23:59:59.5Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/fraction-of-duis-cancellation", dated("3000-12-31T00:00:00.25Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/year-10000", dated("10000-01-01T00:00:00Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/year-10000-by-offset", dated("9999-12-31T23:59:59-01:00"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/negative-year", dated("-0001-01-01T00:00:00Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{"execution/year-0-by-offset", dated("0001-01-01T00:00:00+01:00"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		// What the XSD refuses: Unicode spaces are not XML white space.
		{"xsd/mpxn-nbsp", edited(">"+mpan+"<", ">"+mpan+"\u00a0<"), ecoserr.Malformed, "E062301"},
		{"xsd/mpxn-nel", edited(">"+mpan+"<", ">\u0085"+mpan+"<"), ecoserr.Malformed, "E062301"},
		{"xsd/mpxn-space", edited(">"+mpan+"<", "> "+mpan+"<"), ecoserr.Malformed, "E062301"},
		{"xsd/command-variant-line-separator", cv("1\u2028"), ecoserr.Malformed, "E062301"},
		{"xsd/command-variant-ideographic-space", cv("\u30001"), ecoserr.Malformed, "E062301"},
		{"xsd/service-reference-padded", edited("<sr:ServiceReference>6.23<", "<sr:ServiceReference>6.23 <"), ecoserr.Malformed, "E062301"},
		{"xsd/nbsp-between-elements", edited("</sr:CommandVariant>", "</sr:CommandVariant>\u00a0"), ecoserr.Malformed, "E062301"},
		{"xsd/boolean-nbsp", edited(">true<", ">true\u00a0<"), ecoserr.Malformed, "E062301"},
		{"xsd/datetime-nbsp", dated("2030-01-02T00:00:00Z\u00a0"), ecoserr.Malformed, "E062301"},
		{"xsd/datetime-comma", dated("2030-01-02T00:00:00,5Z"), ecoserr.Malformed, "E062301"},
		{"xsd/datetime-one-digit-hour", dated("2030-01-02T0:00:00Z"), ecoserr.Malformed, "E062301"},
		{"xsd/datetime-offset-beyond-14h", dated("2030-01-02T00:00:00+14:30"), ecoserr.Malformed, "E062301"},
		{"xsd/datetime-without-zone", dated("2030-01-02T00:00:00"), ecoserr.Malformed, "E062301"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.deviceCounters()
			countsBefore, err := f.db.CountRequests(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ack, err := f.p.Submit(ctx, c.doc(t))
			if err != nil {
				t.Fatal(err)
			}
			if ack.Accepted || ack.Code == duis.ResponseAcknowledged || ecoserr.ReasonOf(ack.Err) != c.reason || ack.Code != c.code {
				t.Fatalf("got accepted=%v %s (%v), want %s %s", ack.Accepted, ack.Code, ack.Err, c.reason.Name(), c.code)
			}
			if ecoserr.PublicMessage(ack.Err) == "" {
				t.Error("refusal without a public message")
			}
			f.checkDocument(t, ack.Document, c.code)
			if ack.RequestID != nil {
				if req, err := f.db.Request(ctx, store.RequestID(*ack.RequestID)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("recorded, want nothing changed: %+v %v", req, err)
				}
			}
			countsAfter, err := f.db.CountRequests(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !equalCounts(countsBefore, countsAfter) {
				t.Errorf("requests stored: %v → %v", countsBefore, countsAfter)
			}
			// Nothing was recorded, so nothing can be on its way; a meter
			// that moved got something already.
			if after := f.deviceCounters(); after != before {
				t.Errorf("a meter counted a command: %v → %v", before, after)
			}
		})
	}
}

func equalCounts(a, b map[store.RequestState]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestReleasedHoldStaysPending: a future-dated request that anomaly
// detection held and then released is on the meter like any other once
// sent. The quarantine's DCC alert (AD1) stored with it is not the
// meter's execution alert (8F66/8F67): it must not make the request look
// executed, or its owner could no longer cancel it while another
// supplier, whose own change is pending too, could cancel both.
func TestReleasedHoldStaysPending(t *testing.T) {
	o, c := withCounter()
	f := newFixture(t, o)
	ctx := context.Background()
	dev := demoworld.Device(3)
	gain3 := f.gains(t, 3, dev, t0.Add(30*24*time.Hour))
	f.run(t)
	submit := func(r demoworld.Request) *pipeline.Ack { t.Helper(); return f.submit(t, r) }
	final := func(ack *pipeline.Ack) store.Request { t.Helper(); return f.final(t, ack) }

	// Supplier 2's future-dated change is held, then released, and sent.
	f.limit(c, 0, 0)
	exec2 := t0.Add(48 * time.Hour)
	held := submit(demoworld.Request{Supplier: 2, Device: dev, Counter: 1, ExecuteAt: &exec2})
	if !held.Accepted || held.QuarantineRef == 0 {
		t.Fatalf("not held: %+v", held)
	}
	f.limit(c, 100, 100)
	if _, err := f.p.DecideHolds(ctx, nil, []pipeline.HoldAction{{Ref: held.QuarantineRef, Release: true}}, "operator"); err != nil {
		t.Fatal(err)
	}
	if req := final(held); req.State != store.RequestResponded {
		t.Fatalf("released request %s %s", req.State, req.Reason)
	}
	// Supplier 3's own future-dated change, after it gains the MPAN.
	exec3 := gain3.Add(time.Hour)
	if ack := submit(demoworld.Request{Supplier: 3, Device: dev, Counter: 1, ExecuteAt: &exec3}); !ack.Accepted {
		t.Fatalf("supplier 3's future-dated change refused: %s %v", ack.Code, ack.Err)
	} else if req := final(ack); req.State != store.RequestResponded {
		t.Fatalf("supplier 3's change %s %s", req.State, req.Reason)
	}
	// Supplier 3 may not cancel: supplier 2's change is pending too.
	ack := submit(demoworld.Request{Supplier: 3, Device: dev, Counter: 2, ExecuteAt: &duis.Cancellation})
	if ack.Accepted || ecoserr.ReasonOf(ack.Err) != ecoserr.CancelNotOwner || ack.Code != "E4" {
		t.Fatalf("supplier 3 cancelled supplier 2's released change: accepted=%v %s (%v)", ack.Accepted, ack.Code, ack.Err)
	}
	// Nor may supplier 2, for the same reason, but it is told so: its
	// change is pending, not forgotten.
	ack = submit(demoworld.Request{Supplier: 2, Device: dev, Counter: 2, ExecuteAt: &duis.Cancellation})
	if ack.Accepted || ecoserr.ReasonOf(ack.Err) != ecoserr.CancelNotOwner || !strings.Contains(ack.Err.Error(), "another party") {
		t.Fatalf("supplier 2's cancellation: accepted=%v %s (%v), want cancel-not-owner naming another party's pending change", ack.Accepted, ack.Code, ack.Err)
	}
}

// TestReleasedHoldOutlivesEarlierCancellation: a cancellation drops what
// the meter holds when it executes it, so a future-dated change that was
// held while a cancellation went out, and released after it, reaches the
// meter after the cancellation and stays pending: its receipt time is
// not when it went to the meter.
func TestReleasedHoldOutlivesEarlierCancellation(t *testing.T) {
	o, c := withCounter()
	f := newFixture(t, o)
	ctx := context.Background()
	dev := demoworld.Device(3)
	gain3 := f.gains(t, 3, dev, t0.Add(30*24*time.Hour))
	f.run(t)
	later := func() {
		f.mu.Lock()
		f.now = f.now.Add(time.Minute)
		f.mu.Unlock()
	}
	submit := func(name string, r demoworld.Request, wantAccepted bool) *pipeline.Ack {
		t.Helper()
		later()
		ack := f.submit(t, r)
		if ack.Accepted != wantAccepted {
			t.Fatalf("%s: accepted=%v %s (%v), want accepted=%v", name, ack.Accepted, ack.Code, ack.Err, wantAccepted)
		}
		if ack.Accepted && ack.QuarantineRef == 0 {
			if req := f.final(t, ack); req.State != store.RequestResponded {
				t.Fatalf("%s: %+v", name, req)
			}
		}
		return ack
	}
	exec3 := gain3.Add(time.Hour)
	exec2 := t0.Add(48 * time.Hour)
	submit("supplier 3's future-dated change", demoworld.Request{Supplier: 3, Device: dev, Counter: 1, ExecuteAt: &exec3}, true)
	f.limit(c, 0, 0)
	held := submit("supplier 2's future-dated change, held", demoworld.Request{Supplier: 2, Device: dev, Counter: 1, ExecuteAt: &exec2}, true)
	if held.QuarantineRef == 0 {
		t.Fatal("not held")
	}
	submit("supplier 3 cancels its own", demoworld.Request{Supplier: 3, Device: dev, Counter: 2, ExecuteAt: &duis.Cancellation}, true)
	f.limit(c, 100, 100)
	later()
	if _, err := f.p.DecideHolds(ctx, nil, []pipeline.HoldAction{{Ref: held.QuarantineRef, Release: true}}, "operator"); err != nil {
		t.Fatal(err)
	}
	if req := f.final(t, held); req.State != store.RequestResponded {
		t.Fatalf("released: %+v", req)
	}
	// Supplier 2's change is on the meter now, after the cancellation.
	submit("supplier 3's second future-dated change", demoworld.Request{Supplier: 3, Device: dev, Counter: 3, ExecuteAt: &exec3}, true)
	ack := submit("supplier 3 cancels again", demoworld.Request{Supplier: 3, Device: dev, Counter: 4, ExecuteAt: &duis.Cancellation}, false)
	if ecoserr.ReasonOf(ack.Err) != ecoserr.CancelNotOwner || ack.Code != "E4" {
		t.Fatalf("supplier 3's cancellation: %s (%v), want cancel-not-owner E4", ack.Code, ack.Err)
	}
}

// TestUnansweredFutureDatedStaysPending: a future-dated command that
// reached the meter but whose answer was lost (E21: the device may have
// carried it out) may be held by the meter. It stays pending for the
// cancellation rules: another supplier, whose own change is pending too,
// may not cancel it with its own.
func TestUnansweredFutureDatedStaysPending(t *testing.T) {
	var first atomic.Bool
	first.Store(true)
	lose := func(ctx context.Context, next pipeline.Gateway, frame []byte) (*dispatch.Reply, error) {
		r, err := next.Send(ctx, frame)
		if err != nil || !first.Swap(false) {
			return r, err
		}
		return &dispatch.Reply{NoResponseReason: "drop-response"}, nil
	}
	f := newFixture(t, options{gateway: func(g pipeline.Gateway) pipeline.Gateway { return sendFunc{g, lose} }})
	dev := demoworld.Device(3)
	gain3 := f.gains(t, 3, dev, t0.Add(30*24*time.Hour))
	f.run(t)
	submit := func(r demoworld.Request) (*pipeline.Ack, store.Request) {
		t.Helper()
		ack := f.submit(t, r)
		if !ack.Accepted {
			return ack, store.Request{}
		}
		return ack, f.final(t, ack)
	}
	exec2, exec3 := t0.Add(48*time.Hour), gain3.Add(time.Hour)
	if _, req := submit(demoworld.Request{Supplier: 2, Device: dev, Counter: 1, ExecuteAt: &exec2}); req.State != store.RequestFailed || req.ResponseCode != "E21" {
		t.Fatalf("supplier 2's change: %s %s %s, want failed E21", req.State, req.Reason, req.ResponseCode)
	}
	if _, req := submit(demoworld.Request{Supplier: 3, Device: dev, Counter: 1, ExecuteAt: &exec3}); req.State != store.RequestResponded {
		t.Fatalf("supplier 3's change: %s %s", req.State, req.Reason)
	}
	meter, _ := f.fleet.Device(dev)
	if n := meter.Pending(); n != 2 {
		t.Fatalf("test premise: the meter holds %d future-dated commands, want both", n)
	}
	ack, _ := submit(demoworld.Request{Supplier: 3, Device: dev, Counter: 2, ExecuteAt: &duis.Cancellation})
	if ack.Accepted || ecoserr.ReasonOf(ack.Err) != ecoserr.CancelNotOwner || ack.Code != "E4" {
		t.Fatalf("supplier 3 cancelled supplier 2's unanswered change: accepted=%v %s (%v)", ack.Accepted, ack.Code, ack.Err)
	}
}

// TestHostileSpellings: every spelling of a cancellation the device would
// execute as one goes through the cancellation rules (nothing is pending
// on the meter, so each is refused cancel-not-owner), near misses are
// ordinary dates (beyond the horizon), times XML Schema or GBCS cannot
// hold are refused at intake, and MPxNs in other scripts' digits are not
// MPxNs.
func TestHostileSpellings(t *testing.T) {
	f := newFixture(t, options{})
	f.run(t)
	ctx := context.Background()
	dev := demoworld.Device(3)
	mpan := demoworld.MPANOf(dev)
	reqs := &editedRequests{f: f, dev: dev}
	edited, dated := reqs.edited, reqs.dated
	cases := []struct {
		doc    func(t *testing.T) []byte
		reason ecoserr.Reason
		code   duis.ResponseCode
	}{
		{dated("3000-12-31T00:00:00.000Z"), ecoserr.CancelNotOwner, "E4"},
		{dated("3000-12-31T05:30:00+05:30"), ecoserr.CancelNotOwner, "E4"},
		{dated("3000-12-30T20:00:00-04:00"), ecoserr.CancelNotOwner, "E4"},
		{dated("3000-12-31T14:00:00+14:00"), ecoserr.CancelNotOwner, "E4"},
		{dated(" 3000-12-31T00:00:00Z\n"), ecoserr.CancelNotOwner, "E4"},
		{dated("9999-12-31T23:59:59.000Z"), ecoserr.CancelNotOwner, "E4"},
		{dated("9999-12-31T23:59:59.0000000000Z"), ecoserr.CancelNotOwner, "E4"},
		{dated("9999-12-31T23:59:59+00:00"), ecoserr.CancelNotOwner, "E4"},
		{dated("9999-12-31T23:59:59-00:00"), ecoserr.CancelNotOwner, "E4"},
		{dated("\t9999-12-31T23:59:59Z "), ecoserr.CancelNotOwner, "E4"},
		{dated("3000-12-31T00:00:00+14:00"), ecoserr.BeyondHorizon, "E062304"},
		{dated("3000-12-31T00:00:01Z"), ecoserr.BeyondHorizon, "E062304"},
		{dated("9999-12-31T23:59:58Z"), ecoserr.BeyondHorizon, "E062304"},
		{dated("2036-02-27T12:00:01Z"), ecoserr.BeyondHorizon, "E062304"}, // the default horizon is ten years (3650 days) from t0
		{dated("2036-02-27T13:00:01+01:00"), ecoserr.BeyondHorizon, "E062304"},
		{dated("9999-12-31T23:59:60Z"), ecoserr.Malformed, "E062301"}, // no leap seconds in xs:dateTime
		{dated("2999-12-31T23:59:60Z"), ecoserr.Malformed, "E062301"},
		{dated("3000-12-30T24:00:00Z"), ecoserr.Malformed, "E062301"},
		{dated("+3000-12-31T00:00:00Z"), ecoserr.Malformed, "E062301"},
		{dated("03000-12-31T00:00:00Z"), ecoserr.ExecutionTimeUnsupported, "E062301"},
		{edited(">"+mpan+"<", ">١٩٠٠٠٠٠٠٠٠٠٣١<"), ecoserr.InvalidMPxN, "E062304"},
		{edited(">"+mpan+"<", ">１"+mpan[1:]+"<"), ecoserr.InvalidMPxN, "E062304"},
		{edited(">"+mpan+"<", ">+"+mpan[1:]+"<"), ecoserr.InvalidMPxN, "E062304"},
		{edited(">"+mpan+"<", ">0"+mpan+"<"), ecoserr.Malformed, "E062301"},
	}
	for _, c := range cases {
		doc := c.doc(t)
		ack, err := f.p.Submit(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Accepted || ecoserr.ReasonOf(ack.Err) != c.reason || ack.Code != c.code {
			t.Errorf("request %d: accepted=%v %s (%v), want %s %s", reqs.counter, ack.Accepted, ack.Code, ack.Err, c.reason.Name(), c.code)
		}
	}
	if n := f.deviceCounters(); n != 0 {
		t.Errorf("a meter counted %d commands", n)
	}
}

// TestReplayOfHeldRequestReservesNothing: a replay is refused and leaves
// nothing behind, even when its User is over the quarantine threshold:
// no QuarantineEventRef is reserved for a request that is not held.
func TestReplayOfHeldRequestReservesNothing(t *testing.T) {
	o, c := withCounter()
	f := newFixture(t, o)
	f.limit(c, 0, 0)
	ctx := context.Background()
	doc := f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 100})
	first, err := f.p.Submit(ctx, doc)
	if err != nil || first.QuarantineRef == 0 {
		t.Fatalf("first: %+v %v", first, err)
	}
	for _, replay := range [][]byte{doc, f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 99})} {
		ack, err := f.p.Submit(ctx, replay)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Accepted || ecoserr.ReasonOf(ack.Err) != ecoserr.Replay || ack.QuarantineRef != 0 {
			t.Fatalf("replay: accepted=%v %s (%v) ref %d, want a replay refusal", ack.Accepted, ack.Code, ack.Err, ack.QuarantineRef)
		}
	}
	next, _ := f.submitN(t, 1, 101)
	if next.QuarantineRef != first.QuarantineRef+1 {
		t.Errorf("the next held request has QuarantineEventRef %d after %d: the replays reserved %d", next.QuarantineRef, first.QuarantineRef, next.QuarantineRef-first.QuarantineRef-1)
	}
}
