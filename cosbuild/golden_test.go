package cosbuild

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"encoding/hex"
	"testing"

	ctx509 "github.com/google/certificate-transparency-go/x509"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
)

var (
	transCoS = eui.MustParse("90-B3-D5-1F-30-00-00-04")
	esme     = eui.MustParse("00-DB-12-34-56-78-90-A0")
)

// TestGoldenSupplierByTransCoS is the DUIS-in, GBCS-out conformance check:
// each RTDS 6.23 request, mapped with the RTDS counter, gives every byte of
// the RTDS command up to the signature; with the RTDS signature in place our
// ACB MAC gives the rest, so the whole frame is equal.
func TestGoldenSupplierByTransCoS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counter uint64
	}{{"IMMEDIATE", 6001}, {"FUTURE_DATED", 6002}, {"CANCELLATION", 6003}} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := duis.DecodeRequest(testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_"+tc.name+"_SUCCESS_REQUEST_DUIS.XML"))
			if err != nil {
				t.Fatal(err)
			}
			payload, err := SupplierByTransCoS(req.UpdateSecurityCredentialsCoS, tc.counter)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := Command(transCoS, req.Header.RequestID.Target, payload)
			if err != nil {
				t.Fatal(err)
			}
			rtds := testkit.HexVector(t, "gbcs/CS02bSupplierByTransCoS_6.23_"+tc.name+"_SUCCESS_COMMAND_GBCS.HEX")
			checkAgainstRTDS(t, msg, rtds, "keys/90b3d51f30000004-ds")
		})
	}
}

// TestGoldenTransCoSByTransCoS checks the migration command: installing the
// Z1b transitionalCoS certificate, signed with the old Z1 key, counter 6000.
func TestGoldenTransCoSByTransCoS(t *testing.T) {
	req, err := duis.DecodeRequest(testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := TransCoSByTransCoS(Migration{
		NewCertificate:    testkit.PEMBlock(t, "keys/Z1b-transitionalCoS-ds.pem"),
		CertificationPath: req.UpdateSecurityCredentialsCoS.CertificationPath, // the Z1 CA
	}, 6000)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Command(transCoS, esme, payload)
	if err != nil {
		t.Fatal(err)
	}
	rtds := testkit.HexVector(t, "gbcs/CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS.HEX")
	checkAgainstRTDS(t, msg, rtds, "keys/Z1-transitionalCoS-ds")
}

func checkAgainstRTDS(t *testing.T, msg *gbcs.Message, rtds []byte, keyStem string) {
	t.Helper()
	want, err := gbcs.ParseFrame(rtds)
	if err != nil {
		t.Fatal(err)
	}
	wantTBS, err := want.Message.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	gotTBS, err := msg.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotTBS, wantTBS) {
		t.Fatalf("signed bytes differ from RTDS\n got %s\nwant %s", firstDiff(gotTBS, wantTBS), hex.EncodeToString(wantTBS[:min(64, len(wantTBS))]))
	}

	// Our signature, made with the RTDS key, verifies with its certificate.
	cert := parseCert(t, keyStem+".pem")
	signed := *msg
	if err := signed.Sign(nil, testkit.ECKey(t, keyStem+".key")); err != nil {
		t.Fatal(err)
	}
	if err := signed.Verify(cert); err != nil {
		t.Errorf("our signature does not verify: %v", err)
	}
	// The RTDS signature verifies over our bytes, and with it in place the
	// MAC we compute makes the whole frame equal to RTDS.
	withRTDS := *msg
	withRTDS.Sig, withRTDS.Signature = gbcs.SigPresent, want.Message.Signature
	if err := withRTDS.Verify(cert); err != nil {
		t.Errorf("RTDS signature does not verify over our bytes: %v", err)
	}
	acb := testkit.ECKey(t, "keys/90b3d51f30000002-ka.key")
	acbKA, err := acb.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	frame, err := gbcs.Wrap(&withRTDS, &gbcs.MACKeys{Private: acbKA, Peer: deviceKA(t)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := frame.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rtds) {
		t.Errorf("frame with RTDS signature and our MAC differs from RTDS:\n%s", firstDiff(got, rtds))
	}
}

func parseCert(t *testing.T, rel string) *ecdsa.PublicKey {
	t.Helper()
	c, err := ctx509.ParseCertificate(testkit.PEMBlock(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("%s: not an ECDSA key", rel)
	}
	return pub
}

func deviceKA(t *testing.T) *ecdh.PublicKey {
	pub, err := parseCert(t, "keys/00db1234567890a0-ka.pem").ECDH()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func firstDiff(a, b []byte) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(0, i-8)
			return hex.EncodeToString(a[lo:min(len(a), i+16)]) + " vs " + hex.EncodeToString(b[lo:min(len(b), i+16)]) + " at offset " + itoa(i)
		}
	}
	return "lengths " + itoa(len(a)) + " and " + itoa(len(b))
}

func itoa(i int) string { return hex.EncodeToString([]byte{byte(i >> 8), byte(i)}) }
