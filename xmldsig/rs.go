package xmldsig

import (
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/internal/ecdsars"
)

// XML-DSig writes an ECDSA P-256 signature as the two 32-byte big-endian
// integers r‖s (RFC 4050 / XML-DSig 1.1), while crypto.Signer and
// ecdsa.VerifyASN1 speak ASN.1 DER. These two functions translate.

// rsToDER encodes a 64-byte r‖s as an ECDSA-Sig-Value.
func rsToDER(rs []byte) []byte { return ecdsars.ToDER(rs) }

// parseDER decodes an ECDSA-Sig-Value into minimal big-endian r and s.
func parseDER(der []byte) (r, s []byte, ok bool) {
	var inner cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() {
		return nil, nil, false
	}
	return r, s, true
}

// derToRS converts a P-256 DER signature to the 64-byte r‖s.
func derToRS(der []byte) ([]byte, bool) {
	rs, ok := ecdsars.FromDER(der)
	if !ok {
		return nil, false
	}
	return rs[:], true
}
