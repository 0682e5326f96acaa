package xmldsig

import (
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// XML-DSig writes an ECDSA P-256 signature as the two 32-byte big-endian
// integers r‖s (RFC 4050 / XML-DSig 1.1), while crypto.Signer and
// ecdsa.VerifyASN1 speak ASN.1 DER. These two functions translate.

// rsToDER encodes a 64-byte r‖s as an ECDSA-Sig-Value.
func rsToDER(rs []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[:32]))
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[32:]))
	})
	return b.BytesOrPanic() // cannot fail: non-negative integers only
}

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
	r, s, ok := parseDER(der)
	if !ok {
		return nil, false
	}
	// ReadASN1Integer into []byte refuses negative values and keeps a
	// leading zero only where DER needs one.
	r, s = trimZero(r), trimZero(s)
	if len(r) == 0 || len(s) == 0 || len(r) > 32 || len(s) > 32 {
		return nil, false
	}
	out := make([]byte, 64)
	copy(out[32-len(r):32], r)
	copy(out[64-len(s):], s)
	return out, true
}

func trimZero(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}
