package peers

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// frameWant is what a case must be, so that a scenario step that went
// astray (no alert, a refused command) fails instead of checking less.
type frameWant struct {
	cra   gbcs.CRA
	code  gbcs.MessageCode
	mac   bool           // ACB-wrapped
	alert gbcs.AlertCode // for 0x00CB
	fail  bool           // some cell did not succeed
}

// scenario drives one meter through every frame type ecos and its device
// model emit and collects the frames, in order.
type scenario struct {
	tb     testing.TB
	w      *world
	job    *job
	frames map[string][]byte
	wants  map[string]frameWant
	order  []string
}

func newScenario(tb testing.TB) *scenario {
	w := newWorld(tb)
	return &scenario{tb: tb, w: w, job: &job{Keys: w.keys(tb), ACB: w.pki.ACB.DS.EUI.String()},
		frames: map[string][]byte{}, wants: map[string]frameWant{}}
}

func (s *scenario) add(name string, b []byte, want frameWant) {
	s.tb.Helper()
	s.job.frame(s.tb, name, b)
	s.frames[name], s.wants[name] = b, want
	s.order = append(s.order, name)
}

// body is a 6.23 body installing supplier n's credentials, as suppliers
// send it (demoworld's shape).
func (s *scenario) body(n int, at *time.Time) *duis.UpdateSecurityCredentialsCoS {
	p := s.w.pki
	sup := p.Suppliers[n-1]
	zero := uint64(0)
	return &duis.UpdateSecurityCredentialsCoS{
		ExecutionDateTime: at, SupplierPrepaymentTopUpFloorSeqNumber: &zero,
		DigitalSigningCertificate: sup.DS.Cert, KeyAgreementCertificate: sup.KA.Cert, KeyAgreementTopUpCertificate: sup.KATopUp.Cert,
		CertificationPath: [][]byte{p.OrgCA.Cert}, ApplyTimeBasedCPVChecks: true, ImportMPxN: "1900000000018",
	}
}

// cs02b is what cosbuild built, or the test's end.
func (s *scenario) cs02b(payload *gbcs.UpdateSecurityCredentials, err error) *gbcs.UpdateSecurityCredentials {
	s.tb.Helper()
	if err != nil {
		s.tb.Fatal(err)
	}
	return payload
}

// command is the unsigned CS02b command for payload from signer.
func (s *scenario) command(signer *testpki.Credential, payload *gbcs.UpdateSecurityCredentials) *gbcs.Message {
	s.tb.Helper()
	m, err := cosbuild.Command(signer.EUI, s.w.meter.EUI(), payload)
	if err != nil {
		s.tb.Fatal(err)
	}
	return m
}

// signed signs m with key and, when wrap, adds the ACB's MAC as the ACB
// would for the meter.
func (s *scenario) signed(m *gbcs.Message, key *ecdsa.PrivateKey, wrap bool) []byte {
	s.tb.Helper()
	if err := m.Sign(nil, key); err != nil {
		s.tb.Fatal(err)
	}
	if !wrap {
		b, err := m.Bytes()
		if err != nil {
			s.tb.Fatal(err)
		}
		return b
	}
	acb, err := s.w.pki.ACB.KA.Key.ECDH()
	if err != nil {
		s.tb.Fatal(err)
	}
	meterKA, err := s.w.pki.Devices[0].KA.Key.PublicKey.ECDH()
	if err != nil {
		s.tb.Fatal(err)
	}
	f, err := gbcs.Wrap(m, &gbcs.MACKeys{Private: acb, Peer: meterKA})
	if err != nil {
		s.tb.Fatal(err)
	}
	b, err := f.Bytes()
	if err != nil {
		s.tb.Fatal(err)
	}
	return b
}

// send hands frame to the meter under faults and returns its result.
func (s *scenario) send(frame []byte, faults device.Faults) *device.Result {
	s.tb.Helper()
	s.w.meter.SetFaults(faults)
	defer s.w.meter.SetFaults(device.Faults{})
	res, err := s.w.meter.Handle(frame)
	if err != nil {
		s.tb.Fatalf("the meter refused the command: %v", err)
	}
	if res.Response == nil {
		s.tb.Fatalf("the meter did not answer: %+v", res)
	}
	return res
}

// tick advances the meter's clock to t and returns the one alert due.
func (s *scenario) tick(t time.Time) device.Alert {
	s.tb.Helper()
	s.w.set(t)
	alerts, err := s.w.meter.Tick(t)
	if err != nil || len(alerts) != 1 {
		s.tb.Fatalf("Tick(%v): %d alerts, %v; want one", t, len(alerts), err)
	}
	return alerts[0]
}

func respWant(code gbcs.MessageCode) frameWant { return frameWant{cra: gbcs.CRAResponse, code: code} }

var supplierKA = gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageKeyAgreement}

// run plays the scenario: every CS02b mode ecos builds (7 immediate,
// future-dated and cancelling; 6), signed by the TCoS and the ECoS key,
// with and without the ACB wrapper, and modes 2 and 3 as gbcs builds them; the meter's responses (full outcome,
// bare acceptance, partial failure, busy), its 0x00CB alerts (8F66, 8F67),
// a CS02a read and its response.
func (s *scenario) run() {
	p, meter := s.w.pki, s.w.meter
	code7, code6 := gbcs.CodeSupplierByTransCoS, gbcs.CodeTransCoSByTransCoS
	cmd := func(c gbcs.MessageCode) frameWant { return frameWant{cra: gbcs.CRACommand, code: c, mac: true} }

	// 1. Immediate 6.23 to supplier 2.
	f := s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(2, nil), 1))), p.TCoS.Key, true)
	s.add("command/mode7-immediate", f, cmd(code7))
	s.add("response/mode7-immediate", s.send(f, device.Faults{}).Response, respWant(code7))

	// 2. Future-dated back to supplier 1, executed an hour later: 8F66.
	at := meterNow.Add(time.Hour)
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(1, &at), 2))), p.TCoS.Key, true)
	s.add("command/mode7-future-dated", f, cmd(code7))
	s.add("response/mode7-future-dated", s.send(f, device.Faults{}).Response, respWant(code7))
	s.add("alert/8F66", s.tick(at).Frame, frameWant{cra: gbcs.CRAAlert, code: gbcs.CodeFutureDatedAlert, alert: gbcs.AlertFutureDatedSuccess})

	// 3. Future-dated whose KA cell fails at execution: 8F67.
	at2 := at.Add(time.Hour)
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(2, &at2), 3))), p.TCoS.Key, true)
	partial := device.Faults{Fixed: device.Fault{Kind: device.FaultPartial, Cell: supplierKA, Status: gbcs.StatusNoTrustAnchor}}
	s.send(f, partial)
	s.add("alert/8F67", s.tick(at2).Frame, frameWant{cra: gbcs.CRAAlert, code: gbcs.CodeFutureDatedAlert, alert: gbcs.AlertFutureDatedFailure, fail: true})

	// 4. A held future-dated command, then its cancellation.
	at3 := at2.Add(24 * time.Hour)
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(1, &at3), 4))), p.TCoS.Key, true)
	s.send(f, device.Faults{})
	cancel := duis.Cancellation
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(1, &cancel), 5))), p.TCoS.Key, true)
	s.add("command/mode7-cancellation", f, cmd(code7))
	res := s.send(f, device.Faults{})
	if res.Cancelled != 1 {
		s.tb.Fatalf("cancellation removed %d held commands, want 1", res.Cancelled)
	}
	s.add("response/mode7-cancellation", res.Response, respWant(code7))

	// 5. Immediate, one cell failing; then a busy meter.
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(1, nil), 6))), p.TCoS.Key, true)
	w := respWant(code7)
	w.fail = true
	s.add("response/mode7-partial-failure", s.send(f, partial).Response, w)
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(1, nil), 7))), p.TCoS.Key, true)
	s.add("response/mode7-busy", s.send(f, device.Faults{Fixed: device.Fault{Kind: device.FaultBusy}}).Response, w)

	// 6. CS02a: what the meter holds for four roles (one it has none for).
	read := &gbcs.ProvideSecurityCredentialDetails{
		AuthorisingCell: gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature},
		Roles:           []gbcs.Role{gbcs.RoleTransitionalCoS, gbcs.RoleSupplier, gbcs.RoleRoot, gbcs.RoleWanProvider},
	}
	payload, err := read.Bytes()
	if err != nil {
		s.tb.Fatal(err)
	}
	f = s.signed(gbcs.NewCommand(p.TCoS.EUI, meter.EUI(), 8, gbcs.CodeProvideSecurityCredentials, payload), p.TCoS.Key, false)
	s.add("command/cs02a", f, frameWant{cra: gbcs.CRACommand, code: gbcs.CodeProvideSecurityCredentials})
	s.add("response/cs02a", s.send(f, device.Faults{}).Response, respWant(gbcs.CodeProvideSecurityCredentials))

	// 7. Migration to the ECoS credential, then a 6.23 the ECoS key signs.
	f = s.signed(s.command(p.TCoS, s.cs02b(cosbuild.TransCoSByTransCoS(cosbuild.Migration{NewCertificate: p.ECoS.Cert, CertificationPath: [][]byte{p.OrgCA.Cert}}, 9))), p.TCoS.Key, true)
	s.add("command/mode6-migration", f, cmd(code6))
	s.add("response/mode6-migration", s.send(f, device.Faults{}).Response, respWant(code6))
	f = s.signed(s.command(p.ECoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(2, nil), 10))), p.ECoS.Key, true)
	s.add("command/mode7-by-ecos", f, cmd(code7))
	s.add("response/mode7-by-ecos", s.send(f, device.Faults{}).Response, respWant(code7))

	// 8. The other modes gbcs builds and the meter answers: a supplier
	// renewing its own KA cell (2), the network operator its own (3).
	sup := p.Suppliers[1]
	for _, m := range []struct {
		name   string
		mode   gbcs.Mode
		signer *testpki.Credential
		role   gbcs.Role
		ka     []byte
	}{
		{"mode2-supplier", gbcs.ModeSupplierBySupplier, sup.DS, gbcs.RoleSupplier, sup.KA.Cert},
		{"mode3-network-operator", gbcs.ModeNetworkOperatorByNetworkOperator, p.NetworkOperator.DS, gbcs.RoleNetworkOperator, p.NetworkOperator.KA.Cert},
	} {
		code, _ := m.mode.MessageCode()
		u := &gbcs.UpdateSecurityCredentials{
			Control:           gbcs.Control{Mode: m.mode, AuthorisingCell: &gbcs.Cell{Role: m.role, KeyUsage: gbcs.KeyUsageDigitalSignature}, SeqNumber: 1},
			Replacements:      []gbcs.Replacement{{Certificate: m.ka, Target: gbcs.Cell{Role: m.role, KeyUsage: gbcs.KeyUsageKeyAgreement}}},
			CertificationPath: [][]byte{p.OrgCA.Cert},
		}
		msg, err := gbcs.NewUpdateSecurityCredentialsCommand(m.signer.EUI, meter.EUI(), 1, u)
		if err != nil {
			s.tb.Fatal(err)
		}
		f = s.signed(msg, m.signer.Key, true)
		s.add("command/"+m.name, f, cmd(code))
		s.add("response/"+m.name, s.send(f, device.Faults{}).Response, respWant(code))
	}
}

// TestGBCSPeerDecodes: SmartDCC's gbcs-parser decodes every GBCS frame
// type ecos emits (CS02b modes 7 and 6 as the CoS Party signs them and the
// ACB wraps them, CS02a) and every frame the simulated meter answers with
// (CS02b responses with full, bare, partly failed and busy outcomes,
// 0x00CB alerts 8F66 and 8F67, the CS02a response); it verifies every KRP
// signature and ACB MAC with our test PKI's keys, and every field it reads
// equals ours: EUI-64s, counters, message codes, modes, cells, statuses,
// subject IDs and key IDs, certificates, times, floors.
func TestGBCSPeerDecodes(t *testing.T) {
	peersAvailable(t)
	s := newScenario(t)
	s.run()
	r := run(t, s.job)
	for _, name := range s.order {
		got, ok := r.GBCS[name]
		if !ok {
			t.Errorf("%s: gbcs-parser gave no answer", name)
			continue
		}
		c := newChecker(t, name, got)
		if c == nil {
			continue
		}
		f, err := gbcs.ParseFrame(s.frames[name])
		if err != nil {
			t.Fatalf("%s: our decoder: %v", name, err)
		}
		checkWant(t, name, f, s.wants[name])
		c.frame(f)
		c.payload(&f.Message)
	}
}

// checkWant: the scenario produced the frame it meant to.
func checkWant(t *testing.T, name string, f *gbcs.Frame, w frameWant) {
	t.Helper()
	m := &f.Message
	if m.CRA != w.cra || m.Code != w.code || (f.Ciphering != nil) != w.mac || m.Sig != gbcs.SigPresent {
		t.Fatalf("%s: CRA %v code %v wrapped %v signature %v; want %v %v %v present", name, m.CRA, m.Code, f.Ciphering != nil, m.Sig, w.cra, w.code, w.mac)
	}
	var outcome *gbcs.ExecutionOutcome
	switch {
	case w.code == gbcs.CodeFutureDatedAlert:
		a, err := gbcs.ParseUpdateSecurityCredentialsAlert(m.Content)
		if err != nil || a.AlertCode != w.alert {
			t.Fatalf("%s: alert %v, want %v", name, a, w.alert)
		}
		outcome = &a.Outcome
	case w.cra == gbcs.CRAResponse && w.code.IsCS02b():
		r, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
		if err != nil {
			t.Fatal(err)
		}
		outcome = r.Outcome
	}
	failed := false
	if outcome != nil {
		for _, o := range outcome.Outcomes {
			failed = failed || o.Status != gbcs.StatusSuccess
		}
	}
	if failed != w.fail {
		t.Fatalf("%s: a cell failed: %v, want %v", name, failed, w.fail)
	}
}

// TestGBCSPeerRefusesTampering: gbcs-parser's checks are real: a flipped
// signature octet makes it report the signature invalid, a flipped MAC
// octet the MAC, and a frame for a key it does not know is refused.
func TestGBCSPeerRefusesTampering(t *testing.T) {
	peersAvailable(t)
	s := newScenario(t)
	p := s.w.pki
	wrapped := s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(2, nil), 1))), p.TCoS.Key, true)
	bare := s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(2, nil), 1))), p.TCoS.Key, false)
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	s.job.frame(t, "signature", flip(bare, len(bare)-1))
	s.job.frame(t, "mac", flip(wrapped, len(wrapped)-1))
	r := run(t, s.job)
	// A key store that no longer knows the TCoS key.
	unknown := &job{Keys: slices.DeleteFunc(s.w.keys(t), func(k peerKey) bool { return k.EUI == strings.ToLower(p.TCoS.EUI.Hex()) })}
	unknown.frame(t, "unknown-signer", bare)
	r2 := run(t, unknown)

	if c := newChecker(t, "signature", r.GBCS["signature"]); c != nil {
		c.notes("Signature/Valid", "false")
	}
	if c := newChecker(t, "mac", r.GBCS["mac"]); c != nil {
		c.notes("MAC/MAC", "invalid")
		c.notes("Signature/Valid", "true") // the MAC alone was touched
	}
	if got := r2.GBCS["unknown-signer"]; got.Error == "" {
		t.Errorf("unknown-signer: gbcs-parser decoded a frame whose signer it has no key for: %+v", got.Tree["Signature"])
	}
}

// TestGBCSPeerSigns: frames gbcs-parser signs (its signGroupingHeader, as
// DCC Boxed signs pre-commands) verify with our verifier and the meter
// obeys them: a 6.23 command signed by it with the TCoS key, and a
// response and an alert it signs with the meter's key. And the ACB MAC it
// computes (its own GCM and key derivation) is the one we compute, and the
// meter accepts the command it MACed.
func TestGBCSPeerSigns(t *testing.T) {
	peersAvailable(t)
	s := newScenario(t)
	p, meter := s.w.pki, s.w.meter

	cmd := s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(2, nil), 1)))
	unsigned, err := cmd.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s.job.sign(t, "command", p.TCoS.EUI, unsigned)

	// The meter's own response and alert with their signatures taken off.
	resp := gbcs.NewResponse(cmd, meterNow, []byte{0x30, 0x02, 0x05, 0x00})
	respBytes, err := resp.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s.job.sign(t, "response", meter.EUI(), respBytes)
	alert, err := gbcs.NewFutureDatedAlert(meter.EUI(), p.TCoS.EUI, 1, &gbcs.UpdateSecurityCredentialsAlert{
		AlertCode: gbcs.AlertFutureDatedSuccess, ExecutionDateTime: meterNow,
		Outcome: gbcs.ExecutionOutcome{SeqNumber: 1, Mode: gbcs.ModeSupplierByTransCoS},
	})
	if err != nil {
		t.Fatal(err)
	}
	alertBytes, err := alert.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s.job.sign(t, "alert", meter.EUI(), alertBytes)

	// A signed command in an ACB wrapper whose MAC is left zero.
	macCmd := s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(s.body(1, nil), 2)))
	if err := macCmd.Sign(nil, p.TCoS.Key); err != nil {
		t.Fatal(err)
	}
	unMACed, err := gbcs.Wrap(macCmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	zeroMAC, err := unMACed.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s.job.MAC = append(s.job.MAC, gbcsJob{Name: "command", Hex: hex.EncodeToString(zeroMAC)})
	r := run(t, s.job)

	for name, signer := range map[string]*ecdsa.PublicKey{"command": &p.TCoS.Key.PublicKey, "response": meter.PublicKey(), "alert": meter.PublicKey()} {
		got := r.Sign[name]
		if got.Error != "" {
			t.Errorf("%s: gbcs-parser did not sign: %s", name, got.Error)
			continue
		}
		b, err := hex.DecodeString(got.Hex)
		if err != nil {
			t.Fatal(err)
		}
		m, err := gbcs.ParseMessage(b)
		if err != nil {
			t.Errorf("%s: our decoder refuses the frame gbcs-parser signed: %v", name, err)
			continue
		}
		if m.Sig != gbcs.SigPresent {
			t.Errorf("%s: signature field %v", name, m.Sig)
			continue
		}
		if err := m.Verify(signer); err != nil {
			t.Errorf("%s: the signature gbcs-parser made does not verify here: %v", name, err)
		}
		if name != "command" {
			continue
		}
		res, err := meter.Handle(b)
		if err != nil {
			t.Fatalf("the meter refused the command gbcs-parser signed: %v", err)
		}
		for _, o := range res.Outcome.Outcomes {
			if o.Status != gbcs.StatusSuccess || o.ReplacingSubjectUniqueID != p.Suppliers[1].EUI {
				t.Errorf("cell %v: %v, replaced by %v", o.Cell, o.Status, o.ReplacingSubjectUniqueID)
			}
		}
		// And the same bytes with one signature octet flipped are refused.
		b[len(b)-1] ^= 1
		var re *device.RejectError
		if _, err := meter.Handle(b); !errors.As(err, &re) || re.Reason != device.BadSignature {
			t.Errorf("a tampered peer-signed command: %v, want BadSignature", err)
		}
	}
	checkPeerMAC(t, s, r.MAC["command"])
}

// checkPeerMAC: the frame gbcs-parser MACed carries the MAC we compute for
// it, our verifier accepts it from the meter's side, and the meter obeys it.
func checkPeerMAC(t *testing.T, s *scenario, got signResult) {
	t.Helper()
	if got.Error != "" {
		t.Fatalf("gbcs-parser did not MAC the command: %s", got.Error)
	}
	b, err := hex.DecodeString(got.Hex)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gbcs.ParseFrame(b)
	if err != nil || f.Ciphering == nil {
		t.Fatalf("our decoder on the frame gbcs-parser MACed: %v", err)
	}
	acb, err := s.w.pki.ACB.KA.Key.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	meterKA, err := s.w.pki.Devices[0].KA.Key.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := gbcs.ComputeMAC(f, acb, meterKA.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if ours != f.Ciphering.MAC {
		t.Errorf("gbcs-parser's MAC %X, ours %X", f.Ciphering.MAC, ours)
	}
	if err := gbcs.VerifyMAC(f, meterKA, acb.PublicKey()); err != nil {
		t.Errorf("the MAC gbcs-parser made does not verify on the meter's side: %v", err)
	}
	tampered := bytes.Clone(b)
	tampered[len(tampered)-1] ^= 1
	var re *device.RejectError
	if _, err := s.w.meter.Handle(tampered); !errors.As(err, &re) || re.Reason != device.BadMAC {
		t.Errorf("the peer-MACed command with a flipped MAC octet: %v, want BadMAC", err)
	}
	if _, err := s.w.meter.Handle(b); err != nil {
		t.Errorf("the meter refused the command gbcs-parser MACed: %v", err)
	}
}
