package gbcs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// fixedKey is a P-256 key derived from a label, so tests, seeds and
// benchmarks that must not depend on $ECOS_VECTORS_DIR still sign
// reproducibly (RFC 6979 with rand == nil).
func fixedKey(tb testing.TB, label string) *ecdsa.PrivateKey {
	tb.Helper()
	d := sha256.Sum256([]byte(label))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// fakeCert is a stand-in "certificate": one DER SEQUENCE of about n octets.
// Our own seeds and benchmarks use it instead of RTDS certificates.
func fakeCert(n int, fill byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(bytesOf(n, fill))
	})
	return b.BytesOrPanic()
}

func bytesOf(n int, fill byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = fill + byte(i)
	}
	return out
}

// syntheticMode7 is a 6.23-shaped command payload built without vectors.
func syntheticMode7(counter uint64) *UpdateSecurityCredentials {
	return &UpdateSecurityCredentials{
		Control: Control{
			Mode:            ModeSupplierByTransCoS,
			AuthorisingCell: &Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature},
			SeqNumber:       counter,
			OtherSeqNumberChanges: []SeqNumberChange{{
				Role:                      RoleSupplier,
				SpecialistFloorSeqNumbers: []SpecialistSeqNumber{{Usage: SeqNumberPrepaymentTopUp}},
			}},
		},
		Replacements: []Replacement{
			{Certificate: fakeCert(440, 1), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageDigitalSignature}},
			{Certificate: fakeCert(420, 2), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageKeyAgreement}},
			{Certificate: fakeCert(420, 3), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageKeyAgreement, Usage: CellPrepaymentTopUp}},
		},
		CertificationPath: [][]byte{fakeCert(300, 4)},
	}
}
