package prove

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/testpki"
)

// The counters the proof's commands carry: each meter is fresh (its
// transitionalCoS counter at 0), so mode 7 goes first with 1 and mode 6
// follows with 2. The control, refused, consumes nothing.
const (
	counterMode7 = 1
	counterMode6 = 2
)

var (
	cellTransCoS = gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}
	cellSupplier = gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageDigitalSignature}
)

// proveOn sends a control, a mode 7 and a mode 6 to a fresh meter at
// m.Clock whose transitionalCoS anchor is cert. Its error is the proof's
// own failure (a throwaway PKI that cannot be made), never a check's.
func proveOn(r *Report, o Options, cert *smki.Certificate, m Meter) error {
	pki, err := testpki.Generate(testpki.Options{Now: m.Clock.Add(-time.Hour), Rand: o.Rand, Suppliers: 2, Devices: 1})
	if err != nil {
		return fmt.Errorf("prove: the meters' test PKI: %w", err)
	}
	clock := func() time.Time { return m.Clock }
	cfg, err := device.ESMEConfig(pki, 1, clock)
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	for i := range cfg.Anchors {
		if cfg.Anchors[i].Cell == cellTransCoS {
			cfg.Anchors[i].Cert = cert
		}
	}
	dev, err := device.New(cfg)
	if err != nil {
		return fmt.Errorf("prove: a meter trusting the certificate: %w", err)
	}
	m.EUI = dev.EUI().String()
	r.Meters = append(r.Meters, m)
	p := &proof{r: r, o: o, cert: cert, dev: dev, meter: m.Name}
	key, err := signer.NewKey(string(store.CredentialTCoS), o.Signer, o.Cert)
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	// The service's own signer: the signature, its verification after
	// signing for a token key, and the re-parse of the frame, as when the
	// service signs a command.
	p.signer, err = signer.New(signer.Config{Log: noLog{}, TCoS: key, Now: clock, Rand: o.Rand, Audit: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}

	zero := uint64(0)
	s := pki.Suppliers[1]
	mode7, err := cosbuild.SupplierByTransCoS(&duis.UpdateSecurityCredentialsCoS{
		SupplierPrepaymentTopUpFloorSeqNumber: &zero,
		DigitalSigningCertificate:             s.DS.Cert,
		KeyAgreementCertificate:               s.KA.Cert,
		KeyAgreementTopUpCertificate:          s.KATopUp.Cert,
		CertificationPath:                     [][]byte{pki.OrgCA.Cert},
		ApplyTimeBasedCPVChecks:               true,
	}, counterMode7)
	if err != nil {
		return fmt.Errorf("prove: mode 7: %w", err)
	}
	mode6, err := cosbuild.TransCoSByTransCoS(cosbuild.Migration{NewCertificate: pki.ECoS.Cert, CertificationPath: [][]byte{pki.OrgCA.Cert}}, counterMode6)
	if err != nil {
		return fmt.Errorf("prove: mode 6: %w", err)
	}
	if err := p.control(mode7); err != nil {
		return err
	}
	p.command(mode7, cellSupplier, s.DS.Cert, "supplier 2's digital-signing certificate")
	p.command(mode6, cellTransCoS, pki.ECoS.Cert, "the incoming (ECoS) certificate")
	return nil
}

// proof is the state of one meter's checks.
type proof struct {
	r      *Report
	o      Options
	cert   *smki.Certificate
	dev    *device.Device
	signer *signer.Signer
	meter  string
}

func (p *proof) add(step string, mode gbcs.Mode, counter uint64, ok bool, format string, a ...any) {
	p.r.add(Check{Meter: p.meter, Step: step, Mode: int(mode), Counter: counter, OK: ok, Detail: fmt.Sprintf(format, a...)})
}

// control sends the mode 7 command signed with a throwaway key under the
// certificate's name: the meter must refuse it, or its acceptance of the
// real ones would prove nothing.
func (p *proof) control(payload *gbcs.UpdateSecurityCredentials) error {
	other, err := ecdsa.GenerateKey(elliptic.P256(), p.o.Rand)
	if err != nil {
		return fmt.Errorf("prove: a throwaway key: %w", err)
	}
	msg, err := cosbuild.Command(p.cert.EUI, p.dev.EUI(), payload)
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	if err := msg.Sign(p.o.Rand, other); err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	frame, err := msg.Bytes()
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	res, err := p.dev.Handle(frame)
	mode := payload.Control.Mode
	switch {
	case errors.Is(err, device.BadSignature):
		p.add("control", mode, msg.Counter, true, "mode 7 counter %d signed with a throwaway key instead: refused (%s), so the meter does check signatures against the certificate", msg.Counter, device.BadSignature)
	case err != nil:
		p.add("control", mode, msg.Counter, false, "mode 7 counter %d signed with a throwaway key instead: refused, but not for its signature: %v", msg.Counter, err)
	default:
		p.add("control", mode, msg.Counter, false, "mode 7 counter %d signed with a throwaway key instead: ACCEPTED (%s), so the meter does not check signatures and its answers below prove nothing", msg.Counter, outcome(res.Outcome))
	}
	return nil
}

// command signs payload with the key under proof, verifies the signature
// with the certificate, sends it to the meter and checks its answer and
// that cell now holds want.
func (p *proof) command(payload *gbcs.UpdateSecurityCredentials, cell gbcs.Cell, want []byte, wantName string) {
	mode, counter := payload.Control.Mode, payload.Control.SeqNumber
	code, _ := mode.MessageCode()
	what := fmt.Sprintf("CS02b mode %d (%s, %s) counter %d, %s → %s", mode, mode, code, counter, p.cert.EUI, p.dev.EUI())
	msg, err := cosbuild.Command(p.cert.EUI, p.dev.EUI(), payload)
	if err != nil {
		p.add("sign", mode, counter, false, "building %s: %v", what, err)
		return
	}
	tbs, err := msg.SignedBytes()
	if err != nil {
		p.add("sign", mode, counter, false, "encoding %s: %v", what, err)
		return
	}
	frame, err := p.signer.SignOwn(msg, string(store.CredentialTCoS))
	if err != nil {
		p.add("sign", mode, counter, false, "signing %s with %s: %v", what, p.o.Label, err)
		return
	}
	sum := sha256.Sum256(tbs)
	p.add("sign", mode, counter, true, "%s: signed with %s (SHA-256 of the signed bytes %X…)", what, p.o.Label, sum[:8])

	back, err := gbcs.ParseMessage(frame)
	if err == nil {
		err = back.Verify(p.cert.PublicKey)
	}
	if err != nil {
		p.add("verify", mode, counter, false, "mode %d counter %d: the signature does NOT verify with the certificate (SKI %s): %v", mode, counter, p.r.Certificate.SKI, err)
	} else {
		p.add("verify", mode, counter, true, "mode %d counter %d: the signature verifies in software with the certificate's public key (SKI %s)", mode, counter, p.r.Certificate.SKI)
	}

	res, err := p.dev.Handle(frame)
	if err != nil {
		p.add("device", mode, counter, false, "mode %d counter %d: REFUSED by the meter: %v", mode, counter, err)
		return
	}
	answer, err := p.checkResponse(res, counter)
	if err != nil {
		p.add("device", mode, counter, false, "mode %d counter %d: accepted, but the meter's response is wrong: %v", mode, counter, err)
		return
	}
	if !allSuccess(answer) {
		p.add("device", mode, counter, false, "mode %d counter %d: accepted, but not every cell replaced: %s", mode, counter, outcome(answer))
		return
	}
	if !p.dev.Trusts(cell, want) {
		p.add("device", mode, counter, false, "mode %d counter %d: answered %s, but the %s cell does not hold %s", mode, counter, outcome(answer), cellName(cell), wantName)
		return
	}
	p.add("device", mode, counter, true, "mode %d counter %d: accepted; the meter's signed response (verified with its key) says %s; the %s cell now holds %s",
		mode, counter, outcome(answer), cellName(cell), wantName)
}

// checkResponse checks the meter's answer as the service does: a signed
// CS02b response from the meter, to our counter, carrying an outcome.
func (p *proof) checkResponse(res *device.Result, counter uint64) (*gbcs.ExecutionOutcome, error) {
	if res.Response == nil {
		return nil, errors.New("no response")
	}
	m, err := gbcs.ParseMessage(res.Response)
	if err != nil {
		return nil, err
	}
	switch {
	case m.CRA != gbcs.CRAResponse:
		return nil, fmt.Errorf("CRA flag %s, want response", m.CRA)
	case m.Originator != p.dev.EUI():
		return nil, fmt.Errorf("response from %s", m.Originator)
	case m.Counter != counter:
		return nil, fmt.Errorf("response counter %d, command counter %d", m.Counter, counter)
	}
	if err := m.Verify(p.dev.PublicKey()); err != nil {
		return nil, fmt.Errorf("the response's signature: %w", err)
	}
	body, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	if err != nil {
		return nil, err
	}
	if body.Outcome == nil {
		return nil, errors.New("no execution outcome (held for later?)")
	}
	return body.Outcome, nil
}

func allSuccess(o *gbcs.ExecutionOutcome) bool {
	if o == nil || len(o.Outcomes) == 0 {
		return false
	}
	for _, c := range o.Outcomes {
		if c.Status != gbcs.StatusSuccess {
			return false
		}
	}
	return true
}

// outcome lists each cell's status, e.g. "{supplier, digitalSignature}:
// success, …".
func outcome(o *gbcs.ExecutionOutcome) string {
	if o == nil {
		return "no outcome"
	}
	parts := make([]string, len(o.Outcomes))
	for i, c := range o.Outcomes {
		parts[i] = cellName(c.Cell) + ": " + c.Status.String()
	}
	return strings.Join(parts, ", ")
}

func cellName(c gbcs.Cell) string {
	if c.Usage == gbcs.CellManagement {
		return fmt.Sprintf("{%s, %s}", c.Role, c.KeyUsage)
	}
	return fmt.Sprintf("{%s, %s, %s}", c.Role, c.KeyUsage, c.Usage)
}

// noLog is the command log of a proof's signer: SignOwn, the only call a
// proof makes, records nothing (the proof's commands go to simulated
// meters and are never sent), so nothing may reserve or record here.
type noLog struct{}

var errNoLog = errors.New("prove: a proof records no commands")

func (noLog) ReserveIntent(context.Context, string, func(uint64) (store.Intent, error)) (store.Intent, store.CommandID, error) {
	return store.Intent{}, 0, errNoLog
}

func (noLog) MarkSigned(context.Context, store.CommandID, []byte, time.Time) error { return errNoLog }
