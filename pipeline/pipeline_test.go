package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// TestAcceptedChangeOfSupplier follows one 6.23 from the supplier's bytes
// to the meter's new trust anchors and the signed response.
func TestAcceptedChangeOfSupplier(t *testing.T) {
	f := newFixture(t, options{})
	f.run(t)
	ctx := context.Background()
	d := demoworld.Device(1)
	doc := f.sign(t, demoworld.Request{Supplier: 2, Device: d, Counter: 100})

	ack, err := f.p.Submit(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Accepted || ack.Code != duis.ResponseAcknowledged {
		t.Fatalf("ack %s accepted=%v: %v", ack.Code, ack.Accepted, ack.Err)
	}
	f.checkDocument(t, ack.Document, duis.ResponseAcknowledged)

	id := store.RequestID(*ack.RequestID)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := f.p.WaitFinal(wctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if req.State != store.RequestResponded || req.ResponseCode != "I0" {
		t.Fatalf("request %s (%s, %s), want responded I0", req.State, req.Reason, req.ResponseCode)
	}
	_, docs, err := f.p.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Kind != store.ResponseAcknowledgement || docs[1].Kind != store.ResponseService {
		t.Fatalf("documents %+v, want acknowledgement then response", kinds(docs))
	}
	resp := f.checkDocument(t, docs[1].Document, duis.ResponseSuccess)
	m, err := gbcs.ParseMessage(resp.ResponseMessage.GBCSPayload)
	if err != nil {
		t.Fatal(err)
	}
	if m.Originator != d || m.CRA != gbcs.CRAResponse {
		t.Errorf("payload from %s CRA %s", m.Originator, m.CRA)
	}
	if resp.Header.ResponseID == nil || resp.Header.ResponseID.Originator != d || resp.Header.ResponseID.Target != f.world.PKI.Suppliers[1].EUI {
		t.Errorf("ResponseID %v", resp.Header.ResponseID)
	}

	// The meter now trusts supplier 2, and the registry knows it.
	dev, _ := f.fleet.Device(d)
	if !trustsSupplier(dev.Anchors(), f.world.PKI.Suppliers[1].EUI) {
		t.Error("meter does not trust supplier 2's certificates")
	}
	stored, err := f.db.Device(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Supplier != demoworld.PartyID(2) {
		t.Errorf("registry supplier %q, want %s", stored.Supplier, demoworld.PartyID(2))
	}
	for _, want := range []string{`"msg":"request authorised"`, `"msg":"signed cs02b"`, `"msg":"dispatching cs02b"`, `"msg":"cs02b answered"`} {
		if !strings.Contains(f.audit.String(), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// TestRefusals: each failure of product.md §2 gives its documented code,
// and nothing reaches the device.
//
// No workers run: Drain does the queued work in the test's goroutine, so
// "nothing was queued" is known the moment Submit returns, not guessed
// after a pause.
func TestRefusals(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	replayed := f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(2), Counter: 7})
	ack, err := f.p.Submit(ctx, replayed)
	if err != nil || !ack.Accepted {
		t.Fatalf("first submission: %v %v", ack, err)
	}
	if n := f.p.Drain(ctx); n != 1 {
		t.Fatalf("first submission queued %d jobs, want 1", n)
	}
	if req, err := f.db.Request(ctx, store.RequestID(*ack.RequestID)); err != nil || req.State != store.RequestResponded {
		t.Fatalf("first submission: %+v %v; want responded", req, err)
	}

	tampered := f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(3), Counter: 1})
	tampered = bytes.Replace(tampered, []byte(demoworld.MPAN(3)), []byte(demoworld.MPAN(4)), 1)

	// Supplier 1's XML-signing key over a request in supplier 2's name.
	foreign := f.signAs(t, 0, demoworld.Request{Supplier: 2, Device: demoworld.Device(3), Counter: 2})

	cases := []struct {
		name   string
		doc    []byte
		reason ecoserr.Reason
		code   duis.ResponseCode
		stored bool // the request is recorded (rejected) rather than left unrecorded
	}{
		{"bad signature", tampered, ecoserr.BadSignature, "E062302", false},
		{"wrong signer EUI", foreign, ecoserr.SignerNotUser, "E062302", false},
		{"replayed RequestID", replayed, ecoserr.Replay, "E062303", false},
		{"not the registered supplier", f.sign(t, demoworld.Request{Supplier: 1, Device: demoworld.Device(3), Counter: 3}), ecoserr.NotRegisteredSupplier, "E4", true},
		{"bad replacement certificate", f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(3), Counter: 4, Certificates: 1}), ecoserr.BadReplacementCertificate, "E062305", true},
		{"unknown device", f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(99), MPxN: demoworld.MPAN(3), Counter: 5}), ecoserr.UnknownDevice, "E19", true},
		{"malformed", []byte("<sr:Request"), ecoserr.Malformed, "E062301", false},
		{"too large", bytes.Repeat([]byte(" "), 70<<10), ecoserr.TooLarge, "E062301", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.deviceCounters()
			ack, err := f.p.Submit(ctx, c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if ack.Accepted || ecoserr.ReasonOf(ack.Err) != c.reason || ack.Code != c.code {
				t.Fatalf("got accepted=%v %s (%v), want %s %s", ack.Accepted, ack.Code, ack.Err, c.reason.Name(), c.code)
			}
			f.checkDocument(t, ack.Document, c.code)
			if ack.RequestID != nil {
				req, err := f.db.Request(ctx, store.RequestID(*ack.RequestID))
				switch {
				case c.stored && err != nil:
					t.Errorf("not recorded: %v", err)
				case c.stored && (req.State != store.RequestRejected || req.Reason != c.reason.Name() || req.ResponseCode != string(c.code)):
					t.Errorf("recorded %s %s %s", req.State, req.Reason, req.ResponseCode)
				case !c.stored && c.reason != ecoserr.Replay && !errors.Is(err, store.ErrNotFound):
					t.Errorf("recorded, want nothing changed: %+v %v", req, err)
				}
				cmds, _ := f.db.CommandsForRequest(ctx, store.RequestID(*ack.RequestID))
				if c.reason != ecoserr.Replay && len(cmds) != 0 {
					t.Errorf("%d commands signed", len(cmds))
				}
			}
			// A wrongly admitted request would be queued now: run it.
			if n := f.p.Drain(ctx); n != 0 {
				t.Errorf("%d jobs queued for a refused request", n)
			}
			if after := f.deviceCounters(); after != before {
				t.Errorf("a meter counted a command: %v → %v", before, after)
			}
		})
	}
}

// TestMPIDEnforce: a request signed under an MPID other than the
// registered one is refused under enforce and let through under report.
func TestMPIDEnforce(t *testing.T) {
	for _, policy := range []authorise.Policy{authorise.PolicyEnforce, authorise.PolicyReport} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFixture(t, options{authorise: func(c *authorise.Config) {
				c.MPID.Policy = policy
				for serial, mpid := range c.MPID.BySerial {
					if mpid == demoworld.MPID(2) {
						c.MPID.BySerial[serial] = "WRONG"
					}
				}
			}})
			f.run(t)
			ack, err := f.p.Submit(context.Background(), f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 1}))
			if err != nil {
				t.Fatal(err)
			}
			if policy == authorise.PolicyEnforce {
				if ack.Accepted || ecoserr.ReasonOf(ack.Err) != ecoserr.MPIDIncorrect || ack.Code != "E062306" {
					t.Fatalf("got %s %v, want mpid-incorrect E062306", ack.Code, ack.Err)
				}
			} else if !ack.Accepted {
				t.Fatalf("refused under report: %v", ack.Err)
			}
			req, err := f.db.Request(context.Background(), store.RequestID(*ack.RequestID))
			if err != nil {
				t.Fatal(err)
			}
			if req.MPID == nil || req.MPID.Outcome != "I" || req.MPID.Presented != "WRONG" || req.MPID.Expected != demoworld.MPID(2) {
				t.Errorf("MPID recorded %+v, want I WRONG/%s", req.MPID, demoworld.MPID(2))
			}
		})
	}
}

// encode is r as r's supplier sends it, not yet signed.
func (f *fixture) encode(t *testing.T, r demoworld.Request) []byte {
	t.Helper()
	body, err := f.world.Body(r)
	if err != nil {
		t.Fatal(err)
	}
	s := f.world.PKI.Suppliers[r.Supplier-1]
	req, err := duis.NewUpdateSecurityCredentialsCoS(duis.RequestID{Originator: s.EUI, Target: r.Device, Counter: r.Counter}, body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func (f *fixture) signAs(t *testing.T, signer int, r demoworld.Request) []byte {
	t.Helper()
	doc := f.encode(t, r)
	other := f.world.PKI.Suppliers[signer]
	signed, err := xmldsig.Sign(doc, other.XMLSign.Key, mustParse(t, other.XMLSign.Cert), nil)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// checkDocument verifies a document the pipeline sent with the DSP
// certificate and checks its code.
func (f *fixture) checkDocument(t *testing.T, doc []byte, code duis.ResponseCode) *duis.Response {
	t.Helper()
	v, err := xmldsig.Verify(doc, f.dsp)
	if err != nil {
		t.Fatalf("document signature: %v", err)
	}
	r, err := duis.DecodeResponse(v.Digested)
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.ResponseCode != code {
		t.Errorf("ResponseCode %s, want %s", r.Header.ResponseCode, code)
	}
	return r
}

// deviceCounters sums every meter's transitionalCoS counter: it moves
// only when a meter accepts a CoS command.
func (f *fixture) deviceCounters() uint64 {
	var sum uint64
	for _, e := range f.fleet.EUIs() {
		d, _ := f.fleet.Device(e)
		sum += d.SeqNumber(gbcs.RoleTransitionalCoS)
	}
	return sum
}

func trustsSupplier(anchors []device.Anchor, supplier eui.EUI) bool {
	n := 0
	for _, a := range anchors {
		if a.Cell.Role == gbcs.RoleSupplier && a.Cert != nil {
			if a.Cert.EUI != supplier {
				return false
			}
			n++
		}
	}
	return n > 0
}

func kinds(rs []store.Response) []store.ResponseKind {
	var out []store.ResponseKind
	for _, r := range rs {
		out = append(out, r.Kind)
	}
	return out
}
