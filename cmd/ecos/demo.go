package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

func demoCommand() *command {
	return &command{name: "demo", summary: "walk through a change of supplier and a TCoS → ECoS migration on simulated meters", run: runDemo}
}

// demo holds the world the walkthrough plays in: a test PKI, a fleet of
// simulated meters that trust supplier 1 and the TCoS credential, and the
// CoS Party's next originator counter per device.
type demo struct {
	out     io.Writer
	pki     *testpki.PKI
	fleet   *device.Fleet
	now     time.Time
	counter map[eui.EUI]uint64
	steps   int
	failed  int
}

func runDemo(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos demo", "")
	devices := fs.Int("devices", 3, "simulated meters (2..9999)")
	seed := fs.String("seed", "", "derive the test PKI from this seed (reproducible)")
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	if *devices < 2 || *devices > 9999 {
		return usagef("--devices %d: want 2..9999", *devices)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var r io.Reader = rand.Reader
	if *seed != "" {
		r = seededReader(*seed)
	}
	// The PKI starts a day ago so every certificate is already valid.
	p, err := testpki.Generate(testpki.Options{Now: now.Add(-24 * time.Hour), Rand: r, Suppliers: 2, Devices: *devices})
	if err != nil {
		return err
	}
	d := &demo{out: std.out, pki: p, now: now, counter: map[eui.EUI]uint64{}}
	d.fleet, err = device.NewFleet(device.FleetConfig{PKI: p, Now: func() time.Time { return d.now }, Rand: r})
	if err != nil {
		return err
	}
	return d.run()
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

func (d *demo) run() error {
	p := d.pki
	m1, m2 := p.Devices[0].EUI, p.Devices[1].EUI
	d.say("ecos demo: a test PKI (root %s, TCoS %s, ECoS %s), suppliers %s and %s,", "TA", p.TCoS.EUI, p.ECoS.EUI, p.Suppliers[0].EUI, p.Suppliers[1].EUI)
	d.say("and %d simulated meters that trust supplier 1 and the TCoS credential.", d.fleet.Len())

	d.step("Supplier 2 gains meter %s (SR 6.23 → CS02b supplierByTransCoS, signed with the TCoS key)", m1)
	frame, err := d.cos(m1, 2, p.TCoS.Key, nil)
	if err != nil {
		return err
	}
	d.expectAccepted(frame)

	d.step("The same command again: the meter refuses a replayed counter")
	d.expectRefused(frame, device.Replay)

	d.step("Migrate meter %s from TCoS to ECoS (CS02b transCoSByTransCoS, signed with the TCoS key)", m1)
	if frame, err = d.migrate(m1); err != nil {
		return err
	}
	d.expectAccepted(frame)

	d.step("A change of supplier signed with the old TCoS key is now refused")
	if frame, err = d.cos(m1, 1, p.TCoS.Key, nil); err != nil {
		return err
	}
	d.expectRefused(frame, device.BadSignature)

	d.step("…and accepted when signed with the ECoS key")
	if frame, err = d.cos(m1, 1, p.ECoS.Key, nil); err != nil {
		return err
	}
	d.expectAccepted(frame)

	at := d.now.Add(time.Hour)
	d.step("A future-dated change of supplier for meter %s at %s", m2, at.Format(time.RFC3339))
	if frame, err = d.cos(m2, 2, p.TCoS.Key, &at); err != nil {
		return err
	}
	d.expectAccepted(frame)
	d.now = at
	alerts, err := d.fleet.Tick(at)
	if err != nil {
		return err
	}
	for _, a := range alerts {
		d.reportAlert(a)
	}
	if len(alerts) != 1 {
		d.fail("expected one 0x00CB alert, got %d", len(alerts))
	}

	if d.failed > 0 {
		return fmt.Errorf("%d of %d steps did not behave as expected", d.failed, d.steps)
	}
	d.say("\nAll %d steps behaved as a GBCS meter should. Next: `ecos gbcs decode` any frame, `ecos pki init` your own PKI.", d.steps)
	return nil
}

func (d *demo) step(format string, a ...any) {
	d.steps++
	d.say("\n%d. "+format, append([]any{d.steps}, a...)...)
}

func (d *demo) fail(format string, a ...any) {
	d.failed++
	d.say("   UNEXPECTED: "+format, a...)
}

func (d *demo) next(m eui.EUI) uint64 {
	d.counter[m]++
	return d.counter[m]
}

// cos builds the SR 6.23 body supplier n would send, maps it to CS02b mode
// 7 and signs it with key, as the CoS Party does once a request is
// authorised.
func (d *demo) cos(meter eui.EUI, n int, key *ecdsa.PrivateKey, at *time.Time) ([]byte, error) {
	s := d.pki.Suppliers[n-1]
	zero := uint64(0)
	body := &duis.UpdateSecurityCredentialsCoS{
		ExecutionDateTime:                     at,
		SupplierPrepaymentTopUpFloorSeqNumber: &zero,
		DigitalSigningCertificate:             s.DS.Cert,
		KeyAgreementCertificate:               s.KA.Cert,
		KeyAgreementTopUpCertificate:          s.KATopUp.Cert,
		CertificationPath:                     [][]byte{d.pki.OrgCA.Cert},
		ApplyTimeBasedCPVChecks:               true,
		ImportMPxN:                            "1312345678333",
	}
	payload, err := cosbuild.SupplierByTransCoS(body, d.next(meter))
	if err != nil {
		return nil, err
	}
	return d.sign(meter, payload, key)
}

func (d *demo) migrate(meter eui.EUI) ([]byte, error) {
	payload, err := cosbuild.TransCoSByTransCoS(cosbuild.Migration{
		NewCertificate: d.pki.ECoS.Cert, CertificationPath: [][]byte{d.pki.OrgCA.Cert},
	}, d.next(meter))
	if err != nil {
		return nil, err
	}
	return d.sign(meter, payload, d.pki.TCoS.Key)
}

// sign always signs as the TCoS/ECoS entity whose key it is given.
func (d *demo) sign(meter eui.EUI, payload *gbcs.UpdateSecurityCredentials, key *ecdsa.PrivateKey) ([]byte, error) {
	originator := d.pki.TCoS.EUI
	if key == d.pki.ECoS.Key {
		originator = d.pki.ECoS.EUI
	}
	msg, err := cosbuild.Command(originator, meter, payload)
	if err != nil {
		return nil, err
	}
	if err := msg.Sign(nil, key); err != nil {
		return nil, err
	}
	d.say("   → %s counter %d, %d bytes, signed by %s", msg.Code.Name(), msg.Counter, len(msg.Content), originator)
	return msg.Bytes()
}

func (d *demo) expectAccepted(frame []byte) {
	res, err := d.fleet.Handle(frame)
	if err != nil {
		d.fail("refused: %v", err)
		return
	}
	resp, err := gbcs.ParseMessage(res.Response)
	if err != nil {
		d.fail("response does not decode: %v", err)
		return
	}
	pub, _ := d.fleet.PublicKey(resp.Originator)
	if err := resp.Verify(pub); err != nil {
		d.fail("response signature: %v", err)
		return
	}
	d.say("   ← signed response from %s, counter %d (signature verified)", resp.Originator, resp.Counter)
	if res.Pending {
		d.say("     accepted, held until %s", res.ExecuteAt.Format(time.RFC3339))
		return
	}
	d.reportOutcome(res.Outcome)
}

func (d *demo) reportOutcome(o *gbcs.ExecutionOutcome) {
	if o == nil {
		d.fail("no execution outcome")
		return
	}
	for _, c := range o.Outcomes {
		d.say("     %-44s %-8s %s → %s", fmt.Sprintf("{%s, %s, %s}", c.Cell.Role, c.Cell.KeyUsage, c.Cell.Usage), c.Status, c.ExistingSubjectUniqueID, c.ReplacingSubjectUniqueID)
		if c.Status != gbcs.StatusSuccess {
			d.fail("cell %v: %s", c.Cell, c.Status)
		}
	}
}

func (d *demo) expectRefused(frame []byte, want device.Reason) {
	_, err := d.fleet.Handle(frame)
	if err == nil {
		d.fail("accepted")
		return
	}
	if !errors.Is(err, want) {
		d.fail("refused for the wrong reason: %v", err)
		return
	}
	d.say("   ✗ refused: %v (nothing changed, nothing sent back)", err)
}

func (d *demo) reportAlert(a device.Alert) {
	m, err := gbcs.ParseMessage(a.Frame)
	if err != nil {
		d.fail("alert does not decode: %v", err)
		return
	}
	pub, _ := d.fleet.PublicKey(a.Device)
	if err := m.Verify(pub); err != nil {
		d.fail("alert signature: %v", err)
		return
	}
	d.say("   ← at %s the meter ran it and sent alert %s (%s) for counter %d (signature verified)",
		a.Payload.ExecutionDateTime.Format(time.RFC3339), a.Code, a.Code.Name(), a.CommandCounter)
	d.reportOutcome(&a.Payload.Outcome)
}
