package device

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
)

var bareAcceptance = []byte{0x30, 0x02, 0x05, 0x00}

func futureBody(t *testing.T, b *duis.UpdateSecurityCredentialsCoS, at time.Time) *duis.UpdateSecurityCredentialsCoS {
	t.Helper()
	b.ExecutionDateTime = &at
	return b
}

func TestFutureDated(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, clk := newESME(t, p)
	at := deviceNow.Add(48 * time.Hour)

	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 2), at), 70)))

	m, r := parseResponse(t, d, res.Response)
	if r.Outcome != nil || !bytes.Equal(m.Content, bareAcceptance) {
		t.Fatalf("response content %x, want bare acceptance", m.Content)
	}
	if !res.Pending || !res.ExecuteAt.Equal(at) || d.Pending() != 1 {
		t.Fatalf("result %+v, pending %d", res, d.Pending())
	}
	if next, ok := d.NextDue(); !ok || !next.Equal(at) {
		t.Errorf("NextDue %v %v", next, ok)
	}
	// The counter is consumed at receipt: the same frame is a replay.
	mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 2), at), 70)), Replay)

	// Nothing changes before the time.
	clk.Set(at.Add(-time.Second))
	alerts, err := d.Tick(at.Add(-time.Second))
	if err != nil || len(alerts) != 0 {
		t.Fatalf("early Tick: %v %v", alerts, err)
	}
	if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 1); !slices.Equal(got, want) {
		t.Fatalf("cells changed early: %x", got)
	}

	alerts, err = d.Tick(at)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("Tick at the time: %v %v", alerts, err)
	}
	a := alerts[0]
	am, err := gbcs.ParseMessage(a.Frame)
	if err != nil {
		t.Fatal(err)
	}
	if err := am.Verify(d.PublicKey()); err != nil {
		t.Fatalf("alert signature: %v", err)
	}
	if am.CRA != gbcs.CRAAlert || am.Code != gbcs.CodeFutureDatedAlert || am.Originator != d.EUI() ||
		am.Recipient != p.TCoS.EUI || am.Counter != 1 || a.Counter != 1 || a.CommandCounter != 70 {
		t.Errorf("alert header %+v / %+v", am, a)
	}
	payload, err := gbcs.ParseUpdateSecurityCredentialsAlert(am.Content)
	if err != nil {
		t.Fatal(err)
	}
	if payload.AlertCode != gbcs.AlertFutureDatedSuccess || !payload.ExecutionDateTime.Equal(at) || payload.Outcome.SeqNumber != 70 {
		t.Errorf("alert payload %+v", payload)
	}
	s1, s2 := p.Suppliers[0], p.Suppliers[1]
	checkOutcomes(t, payload.Outcome.Outcomes, []gbcs.ReplacementOutcome{
		wantOutcome(cellSupplierDS, gbcs.StatusSuccess, s1.DS, s2.DS),
		wantOutcome(cellSupplierKA, gbcs.StatusSuccess, s1.KA, s2.KA),
		wantOutcome(cellSupplierKATopUp, gbcs.StatusSuccess, s1.KATopUp, s2.KATopUp),
	})
	if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 2); !slices.Equal(got, want) {
		t.Errorf("cells after Tick %x, want %x", got, want)
	}
	if d.Pending() != 0 || d.AlertCounter() != 1 {
		t.Errorf("pending %d, alert counter %d", d.Pending(), d.AlertCounter())
	}
	if alerts, _ := d.Tick(at.Add(time.Hour)); len(alerts) != 0 {
		t.Errorf("command ran twice")
	}
}

func TestFutureDatedFailureAlert(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	at := deviceNow.Add(time.Hour)
	b := futureBody(t, body623(p, 2), at)
	b.KeyAgreementCertificate = p.NetworkOperator.KA.Cert
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, b, 1)))
	alerts, err := d.Tick(at)
	if err != nil || len(alerts) != 1 {
		t.Fatal(alerts, err)
	}
	if alerts[0].Code != gbcs.AlertFutureDatedFailure || alerts[0].Payload.Outcome.Outcomes[1].Status != gbcs.StatusBadCertificate {
		t.Errorf("alert %v %+v", alerts[0].Code, alerts[0].Payload.Outcome.Outcomes)
	}
}

func TestFutureDatedRunsInOrderWithTickClock(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	t1, t2 := deviceNow.Add(2*time.Hour), deviceNow.Add(time.Hour)
	// Sent first, runs second: supplier 1 back in.
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 1), t1), 1)))
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 2), t2), 2)))
	alerts, err := d.Tick(t1)
	if err != nil || len(alerts) != 2 {
		t.Fatal(alerts, err)
	}
	if alerts[0].CommandCounter != 2 || alerts[1].CommandCounter != 1 || alerts[0].Counter != 1 || alerts[1].Counter != 2 {
		t.Errorf("order: %+v", alerts)
	}
	if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 1); !slices.Equal(got, want) {
		t.Errorf("cells %x, want supplier 1's (the later command) %x", got, want)
	}

	// Certificate checks use the clock at execution: a command accepted
	// now but run after the replacement certificates expire fails.
	late := pkiNow.AddDate(11, 0, 0)
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 2), late), 3)))
	alerts, _ = d.Tick(late)
	if len(alerts) != 1 || alerts[0].Code != gbcs.AlertFutureDatedFailure {
		t.Fatalf("late alert %+v", alerts)
	}
}

func TestFutureDateAlreadyPassedRunsNow(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 2), deviceNow.Add(-time.Minute)), 1)))
	if res.Pending || res.Outcome == nil || d.Pending() != 0 {
		t.Fatalf("past execution time: %+v", res)
	}
}

func TestCancellation(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	at := deviceNow.Add(time.Hour)
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, futureBody(t, body623(p, 2), at), 10)))
	// A migration held for the same time is another use case: not cancelled.
	mig := migration(t, p, p.ECoS.Cert, 11)
	mig.ExecutionDateTime = &at
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), mig))
	if d.Pending() != 2 {
		t.Fatalf("pending %d", d.Pending())
	}

	cancel := cmd623(t, futureBody(t, body623(p, 2), duis.Cancellation), 12)
	if !cancel.ExecutionDateTime.Equal(gbcs.CancellationTime()) {
		t.Fatalf("not a cancellation: %v", cancel.ExecutionDateTime)
	}
	t.Run("fail/cancellation-by-another-key", func(t *testing.T) {
		mustReject(t, d, frame(t, p.ECoS, d.EUI(), cancel), BadSignature)
	})
	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cancel))
	m, _ := parseResponse(t, d, res.Response)
	if !bytes.Equal(m.Content, bareAcceptance) || res.Cancelled != 1 || res.Pending {
		t.Errorf("cancellation response %x, result %+v", m.Content, res)
	}
	if d.Pending() != 1 {
		t.Errorf("pending %d, want only the migration left", d.Pending())
	}
	alerts, err := d.Tick(at)
	if err != nil || len(alerts) != 1 || alerts[0].CommandCounter != 11 {
		t.Fatalf("alerts %+v %v", alerts, err)
	}
	if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 1); !slices.Equal(got, want) {
		t.Errorf("cancelled command ran: cells %x", got)
	}
	if ski, _ := d.AnchorSKI(cellTransCoSDS.cell()); ski != skiOf(p.ECoS) {
		t.Errorf("migration did not run")
	}
}
