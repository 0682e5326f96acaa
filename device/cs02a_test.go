package device

import (
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// cs02a builds a CS02a read of roles, authorised by signer's {role, DS}
// cell.
func cs02a(t testing.TB, signer *testpki.Credential, role gbcs.Role, device eui.EUI, counter uint64, roles ...gbcs.Role) []byte {
	t.Helper()
	payload, err := (&gbcs.ProvideSecurityCredentialDetails{
		AuthorisingCell: gbcs.Cell{Role: role, KeyUsage: gbcs.KeyUsageDigitalSignature},
		Roles:           roles,
	}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return signed(t, gbcs.NewCommand(signer.EUI, device, counter, gbcs.CodeProvideSecurityCredentials, payload), signer.Key)
}

// readDetails handles a CS02a and returns its verified, decoded response.
func readDetails(t testing.TB, d *Device, f []byte) *gbcs.ProvideSecurityCredentialDetailsResponse {
	t.Helper()
	res := mustHandle(t, d, f)
	m, err := gbcs.ParseMessage(res.Response)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(d.PublicKey()); err != nil {
		t.Fatalf("CS02a response signature: %v", err)
	}
	if m.CRA != gbcs.CRAResponse || m.Code != gbcs.CodeProvideSecurityCredentials || m.DateTime != nil {
		t.Errorf("CS02a response header %+v", m)
	}
	r, err := gbcs.ParseProvideSecurityCredentialDetailsResponse(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCS02aReadsTransitionalCoSCell(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	tcos := gbcs.RoleTransitionalCoS

	r := readDetails(t, d, cs02a(t, p.TCoS, tcos, d.EUI(), 5, tcos, gbcs.RoleWanProvider, gbcs.RoleSupplier))
	if len(r.Parties) != 3 {
		t.Fatalf("parties %+v", r.Parties)
	}
	got := r.Parties[0]
	if got.Role != tcos || got.Status != gbcs.StatusSuccess || got.Credentials == nil || len(got.Credentials.Cells) != 1 {
		t.Fatalf("transitionalCoS entry %+v", got)
	}
	c := got.Credentials.Cells[0]
	if c.KeyUsage != gbcs.KeyUsageDigitalSignature || c.SubjectUniqueID != p.TCoS.EUI || c.SubjectKeyID != skiOf(p.TCoS) {
		t.Errorf("cell %+v, want TCoS %v %x", c, p.TCoS.EUI, skiOf(p.TCoS))
	}
	if got.Credentials.SeqNumber != 5 {
		t.Errorf("current seq number %d, want 5 (this command's)", got.Credentials.SeqNumber)
	}
	if r.Parties[1].Role != gbcs.RoleWanProvider || r.Parties[1].Status != gbcs.StatusTrustAnchorNotFound || r.Parties[1].Credentials != nil {
		t.Errorf("wanProvider entry %+v", r.Parties[1])
	}
	sup := r.Parties[2].Credentials
	if sup == nil || len(sup.Cells) != 3 || sup.Cells[0].KeyUsage != gbcs.KeyUsageDigitalSignature ||
		sup.Cells[1].KeyUsage != gbcs.KeyUsageKeyAgreement || sup.Cells[2].Usage != gbcs.CellPrepaymentTopUp ||
		sup.Cells[2].SubjectKeyID != skiOf(p.Suppliers[0].KATopUp) {
		t.Errorf("supplier entry %+v", sup)
	}
	if d.SeqNumber(tcos) != 5 {
		t.Errorf("CS02a did not consume its counter")
	}

	// After migration the read-back shows the ECoS certificate, and the
	// ECoS key is what authorises the read.
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), migration(t, p, p.ECoS.Cert, 6)))
	mustReject(t, d, cs02a(t, p.TCoS, tcos, d.EUI(), 7, tcos), BadSignature)
	r = readDetails(t, d, cs02a(t, p.ECoS, tcos, d.EUI(), 7, tcos))
	if c := r.Parties[0].Credentials.Cells[0]; c.SubjectKeyID != skiOf(p.ECoS) || c.SubjectUniqueID != p.ECoS.EUI {
		t.Errorf("after migration the cell reads %v %x, want ECoS %x", c.SubjectUniqueID, c.SubjectKeyID, skiOf(p.ECoS))
	}
}

func TestCS02aRefusals(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	tcos := gbcs.RoleTransitionalCoS
	mustHandle(t, d, cs02a(t, p.TCoS, tcos, d.EUI(), 9, tcos))
	t.Run("fail/replay", func(t *testing.T) { mustReject(t, d, cs02a(t, p.TCoS, tcos, d.EUI(), 9, tcos), Replay) })
	t.Run("fail/wrong-key", func(t *testing.T) { mustReject(t, d, cs02a(t, p.ECoS, tcos, d.EUI(), 10, tcos), BadSignature) })
	t.Run("fail/mac-only-form", func(t *testing.T) {
		payload, _ := (&gbcs.ProvideSecurityCredentialDetails{
			AuthorisingCell: gbcs.Cell{Role: gbcs.RoleAccessControlBroker, KeyUsage: gbcs.KeyUsageKeyAgreement},
			Roles:           []gbcs.Role{gbcs.RoleAccessControlBroker},
		}).Bytes()
		b, _ := gbcs.NewCommand(p.ACB.EUI, d.EUI(), 11, gbcs.CodeProvideSecurityCredentials, payload).Bytes()
		mustReject(t, d, b, Unsupported)
	})
	t.Run("ok/supplier-authorised", func(t *testing.T) {
		r := readDetails(t, d, cs02a(t, p.Suppliers[0].DS, gbcs.RoleSupplier, d.EUI(), 1, gbcs.RoleSupplier))
		if r.Parties[0].Credentials.SeqNumber != 1 {
			t.Errorf("supplier seq %d", r.Parties[0].Credentials.SeqNumber)
		}
	})
}
