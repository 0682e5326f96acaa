package cosbuild

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/testpki"
)

// TestGoldenReadBack checks the read-back against RTDS's signature-
// authorised CS02a (CoS party 90B3D51F30000004 → ESME 00DB1234567890A0,
// counter 6000). RTDS reads two other roles; the read-back reads only the
// transitionalCoS one, so the payload is RTDS's authorising cell followed
// by a one-role list shaped as in RTDS's other CS02a (which reads role 4).
// Everything else, the whole header included, is RTDS's byte for byte, and
// the RTDS TCoS key's signature over it verifies with its certificate.
func TestGoldenReadBack(t *testing.T) {
	rtdsFrame := testkit.HexVector(t, "gbcs/CS02aSignature_NA_ERROR_COMMAND_GBCS.HEX")
	rtds, err := gbcs.ParseFrame(rtdsFrame)
	if err != nil {
		t.Fatal(err)
	}
	if rtds.Ciphering != nil {
		t.Fatal("the RTDS signature-authorised CS02a is wrapped: the vector changed")
	}
	oneRole, err := gbcs.ParseFrame(testkit.HexVector(t, "gbcs/CS02aSignature_NA_SUCCESS_COMMAND_GBCS.HEX"))
	if err != nil {
		t.Fatal(err)
	}
	rc, oc := rtds.Message.Content, oneRole.Message.Content
	// RTDS: 30 11 | 30 07 02 01 05 03 02 07 80 | 30 06 02 01 03 02 01 06
	// one role: 30 0E | 30 07 … | 30 03 02 01 04
	if len(rc) != 19 || len(oc) != 16 || !bytes.Equal(oc[11:15], []byte{0x30, 0x03, 0x02, 0x01}) {
		t.Fatalf("RTDS CS02a payloads are not the expected shape: %X, %X", rc, oc)
	}
	want := slices.Concat([]byte{0x30, 0x0E}, rc[2:11], oc[11:15], []byte{byte(gbcs.RoleTransitionalCoS)})

	msg, err := ReadBack(rtds.Message.Originator, rtds.Message.Recipient, rtds.Message.Counter)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg.Content, want) {
		t.Errorf("payload %X, want %X", msg.Content, want)
	}
	gotTBS, err := msg.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	wantTBS, err := rtds.Message.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	// The header runs to the content's one-octet length.
	hdr := len(wantTBS) - len(rc) - 1
	if !bytes.Equal(gotTBS[:hdr], wantTBS[:hdr]) || len(gotTBS) != hdr+1+len(want) || gotTBS[hdr] != byte(len(want)) {
		t.Errorf("header differs from RTDS:\n%s", firstDiff(gotTBS, wantTBS))
	}

	const key = "keys/90b3d51f30000004-ds"
	if err := rtds.Message.Verify(parseCert(t, key+".pem")); err != nil {
		t.Fatalf("the RTDS CS02a is not signed by %s: %v", key, err)
	}
	if err := msg.Sign(nil, testkit.ECKey(t, key+".key")); err != nil {
		t.Fatal(err)
	}
	if err := msg.Verify(parseCert(t, key+".pem")); err != nil {
		t.Errorf("our signature does not verify: %v", err)
	}
	b, err := msg.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// The APDU's tag, the signed bytes, the signature's length and r‖s.
	if len(b) != 1+len(gotTBS)+1+64 || b[0] != rtdsFrame[0] || !bytes.Equal(b[1:1+len(gotTBS)], gotTBS) {
		t.Errorf("signed frame %X: want the General Signing APDU RTDS sends, unwrapped", b[:min(len(b), 4)])
	}
}

// TestReadBackRoundTrip: whatever the counter and parties, what ReadBack
// builds decodes to a command from originator to device with that
// counter, message code 0x0008, no date-time, authorised by
// {transitionalCoS, DS} and asking for the transitionalCoS role only.
func TestReadBackRoundTrip(t *testing.T) {
	key := testkit.ECKey(t, "keys/90b3d51f30000004-ds.key")
	for _, counter := range []uint64{0, 1, 127, 128, 6000, 1 << 32, 1<<64 - 1} {
		msg, err := ReadBack(transCoS, esme, counter)
		if err != nil {
			t.Fatal(err)
		}
		if err := msg.Sign(nil, key); err != nil {
			t.Fatal(err)
		}
		b, err := msg.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		m, err := gbcs.ParseMessage(b)
		if err != nil {
			t.Fatalf("counter %d: %v", counter, err)
		}
		if m.CRA != gbcs.CRACommand || m.Counter != counter || m.Originator != transCoS || m.Recipient != esme ||
			m.DateTime != nil || m.Code != gbcs.CodeProvideSecurityCredentials || m.Sig != gbcs.SigPresent {
			t.Errorf("counter %d: header %+v", counter, m)
		}
		p, err := gbcs.ParseProvideSecurityCredentialDetails(m.Content)
		if err != nil {
			t.Fatalf("counter %d: %v", counter, err)
		}
		wantCell := gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}
		if p.AuthorisingCell != wantCell || !slices.Equal(p.Roles, []gbcs.Role{gbcs.RoleTransitionalCoS}) {
			t.Errorf("counter %d: payload %+v", counter, p)
		}
		if err := m.Verify(&key.PublicKey); err != nil {
			t.Errorf("counter %d: %v", counter, err)
		}
	}
}

// readBackWorld is a commissioned simulated ESME trusting the TCoS
// credential of a seeded test PKI.
func readBackWorld(t *testing.T) (*testpki.PKI, *device.Device) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, err := testpki.Generate(testpki.Options{Now: now, Rand: rand.NewChaCha8([32]byte{12}), Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := device.ESMEConfig(p, 1, func() time.Time { return now.Add(24 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	d, err := device.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// readBack signs a read-back with signer and hands it to d.
func readBack(t *testing.T, d *device.Device, signer *testpki.Credential, counter uint64) (*device.Result, error) {
	t.Helper()
	msg, err := ReadBack(signer.EUI, d.EUI(), counter)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Sign(nil, signer.Key); err != nil {
		t.Fatal(err)
	}
	b, err := msg.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return d.Handle(b)
}

// checkCell: the device's signed response to a read-back from signer says
// the transitionalCoS cell holds holder's certificate, at counter.
func checkCell(t *testing.T, d *device.Device, res *device.Result, signer, holder *testpki.Credential, counter uint64) {
	t.Helper()
	m, err := gbcs.ParseMessage(res.Response)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(d.PublicKey()); err != nil {
		t.Fatalf("the device's response does not verify: %v", err)
	}
	if m.CRA != gbcs.CRAResponse || m.Code != gbcs.CodeProvideSecurityCredentials || m.Counter != counter ||
		m.Originator != d.EUI() || m.Recipient != signer.EUI {
		t.Errorf("response header %+v", m)
	}
	r, err := gbcs.ParseProvideSecurityCredentialDetailsResponse(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Parties) != 1 {
		t.Fatalf("%d parties in the response, want the transitionalCoS one", len(r.Parties))
	}
	got := r.Parties[0]
	if got.Role != gbcs.RoleTransitionalCoS || got.Status != gbcs.StatusSuccess || got.Credentials == nil ||
		got.Credentials.SeqNumber != counter || len(got.Credentials.Cells) != 1 {
		t.Fatalf("transitionalCoS details %+v", got)
	}
	c := got.Credentials.Cells[0]
	if c.KeyUsage != gbcs.KeyUsageDigitalSignature || c.SubjectUniqueID != holder.EUI || !bytes.Equal(c.SubjectKeyID[:], holder.SKI) {
		t.Errorf("the cell reports %v SKI %X, want %s %v SKI %X", c.SubjectUniqueID, c.SubjectKeyID, holder.Name, holder.EUI, holder.SKI)
	}
}

// TestReadBackOnDevice: the simulated meter answers a read-back signed
// with the key its cell holds with that certificate's SKI (TCoS before
// the migration, ECoS after it), and refuses one signed with the other
// key, before and after, without consuming the counter.
func TestReadBackOnDevice(t *testing.T) {
	p, d := readBackWorld(t)
	mustRefuse := func(signer *testpki.Credential, counter uint64) {
		t.Helper()
		var re *device.RejectError
		if res, err := readBack(t, d, signer, counter); !errors.As(err, &re) || re.Reason != device.BadSignature {
			t.Errorf("read-back signed by %s: %+v, %v; want refused with BadSignature", signer.Name, res, err)
		}
	}

	mustRefuse(p.ECoS, 1) // not yet trusted
	res, err := readBack(t, d, p.TCoS, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkCell(t, d, res, p.TCoS, p.TCoS, 1)

	mig, err := TransCoSByTransCoS(Migration{NewCertificate: p.ECoS.Cert, CertificationPath: [][]byte{p.OrgCA.Cert}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Command(p.TCoS.EUI, d.EUI(), mig)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Sign(nil, p.TCoS.Key); err != nil {
		t.Fatal(err)
	}
	b, err := msg.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// The response is lost: only a read-back can tell the party the cell
	// changed.
	d.SetFaults(device.Faults{Fixed: device.Fault{Kind: device.FaultDropResponse}})
	if res, err := d.Handle(b); err != nil || res.Response != nil {
		t.Fatalf("migration with its response dropped: %+v, %v", res, err)
	}
	d.SetFaults(device.Faults{})

	mustRefuse(p.TCoS, 3) // the TCoS key no longer authorises anything
	res, err = readBack(t, d, p.ECoS, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkCell(t, d, res, p.ECoS, p.ECoS, 3)
	// A read-back is replay-protected like any command.
	var re *device.RejectError
	if _, err := readBack(t, d, p.ECoS, 3); !errors.As(err, &re) || re.Reason != device.Replay {
		t.Errorf("a replayed read-back: %v, want Replay", err)
	}
}

// TestReadBackBusy: a busy meter answers the read-back, signed, with the
// transitionalCoS role resourcesBusy and no credentials, and keeps its
// counter, so the same read-back can be sent again.
func TestReadBackBusy(t *testing.T) {
	p, d := readBackWorld(t)
	d.SetFaults(device.Faults{Fixed: device.Fault{Kind: device.FaultBusy}})
	res, err := readBack(t, d, p.TCoS, 7)
	if err != nil {
		t.Fatal(err)
	}
	d.SetFaults(device.Faults{})
	m, err := gbcs.ParseMessage(res.Response)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(d.PublicKey()); err != nil {
		t.Fatal(err)
	}
	r, err := gbcs.ParseProvideSecurityCredentialDetailsResponse(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	want := []gbcs.RemotePartyDetails{{Role: gbcs.RoleTransitionalCoS, Status: gbcs.StatusResourcesBusy}}
	if len(r.Parties) != 1 || r.Parties[0].Role != want[0].Role || r.Parties[0].Status != want[0].Status || r.Parties[0].Credentials != nil {
		t.Errorf("busy read-back %+v, want %+v", r.Parties, want)
	}
	res, err = readBack(t, d, p.TCoS, 7)
	if err != nil {
		t.Fatal(err)
	}
	checkCell(t, d, res, p.TCoS, p.TCoS, 7)
}
