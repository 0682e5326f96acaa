package device

import (
	"bytes"
	"testing"

	"github.com/ecos-cos/ecos/gbcs"
)

func TestMigrationTCoSToECoS(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)

	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), migration(t, p, p.ECoS.Cert, 40)))

	_, r := parseResponse(t, d, res.Response)
	if r.Outcome == nil || r.Outcome.Mode != gbcs.ModeTransCoSByTransCoS || len(r.Outcome.SeqNumberChanges) != 0 {
		t.Fatalf("outcome %+v", r.Outcome)
	}
	checkOutcomes(t, r.Outcome.Outcomes, []gbcs.ReplacementOutcome{
		wantOutcome(cellTransCoSDS, gbcs.StatusSuccess, p.TCoS, p.ECoS),
	})
	cert, ok := d.TransitionalCoS()
	if !ok || !bytes.Equal(cert.Raw, p.ECoS.Cert) {
		t.Fatalf("transitionalCoS cell holds %v", cert)
	}
	if ski, _ := d.AnchorSKI(cellTransCoSDS.cell()); ski != skiOf(p.ECoS) {
		t.Errorf("AnchorSKI %x, want ECoS %x", ski, skiOf(p.ECoS))
	}
	if !d.Trusts(cellTransCoSDS.cell(), p.ECoS.Cert) || d.Trusts(cellTransCoSDS.cell(), p.TCoS.Cert) {
		t.Error("Trusts does not follow the cell")
	}

	// The TCoS key no longer authorises anything, even with a fresh counter.
	mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 41)), BadSignature)
	mustReject(t, d, frame(t, p.TCoS, d.EUI(), migration(t, p, p.TCoS.Cert, 42)), BadSignature)

	// The counter is kept per role, not per key: the migration command
	// (no [4] floor) left the transitionalCoS counter at 40, so the ECoS
	// key must continue above it.
	mustReject(t, d, frame(t, p.ECoS, d.EUI(), cmd623(t, body623(p, 2), 40)), Replay)
	res = mustHandle(t, d, frame(t, p.ECoS, d.EUI(), cmd623(t, body623(p, 2), 43)))
	m, r := parseResponse(t, d, res.Response)
	if m.Recipient != p.ECoS.EUI {
		t.Errorf("response to %v, want the ECoS originator %v", m.Recipient, p.ECoS.EUI)
	}
	for _, o := range r.Outcome.Outcomes {
		if o.Status != gbcs.StatusSuccess {
			t.Errorf("ECoS-signed 6.23: %v %v", keyOf(o.Cell), o.Status)
		}
	}
}

func TestMigrationRefusals(t *testing.T) {
	p := genPKI(t, pkiNow)
	t.Run("fail/supplier-cert-into-transcos-cell", func(t *testing.T) {
		d, _ := newESME(t, p)
		res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), migration(t, p, p.Suppliers[1].DS.Cert, 1)))
		if res.Outcome.Outcomes[0].Status != gbcs.StatusBadCertificate {
			t.Errorf("status %v", res.Outcome.Outcomes[0].Status)
		}
		if ski, _ := d.AnchorSKI(cellTransCoSDS.cell()); ski != skiOf(p.TCoS) {
			t.Errorf("cell changed to %x", ski)
		}
	})
	t.Run("fail/mode6-signed-by-ecos-before-migration", func(t *testing.T) {
		d, _ := newESME(t, p)
		mustReject(t, d, frame(t, p.ECoS, d.EUI(), migration(t, p, p.ECoS.Cert, 1)), BadSignature)
	})
	t.Run("fail/mode6-supplier-target", func(t *testing.T) {
		d, _ := newESME(t, p)
		c := migration(t, p, p.Suppliers[1].DS.Cert, 1)
		c.Replacements[0].Target = cellSupplierDS.cell()
		res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), c))
		if res.Outcome.Outcomes[0].Status != gbcs.StatusOther {
			t.Errorf("status %v", res.Outcome.Outcomes[0].Status)
		}
	})
}
