// Package ecdsars translates ECDSA P-256 signatures between the ASN.1 DER
// ECDSA-Sig-Value that crypto.Signer and ecdsa.VerifyASN1 speak and the
// fixed 64-byte r‖s that GBCS, XML-DSig and ADT files carry.
//
// Role: codec helper, shared by gbcs, xmldsig and adt.
//
// Trust level: parses untrusted bytes; refuses anything but a DER
// SEQUENCE of two positive INTEGERs of at most 256 bits.
package ecdsars

import (
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// FromDER converts a DER ECDSA-Sig-Value to r‖s.
func FromDER(der []byte) ([64]byte, bool) {
	var out [64]byte
	var inner cryptobyte.String
	var r, s []byte
	in := cryptobyte.String(der)
	// ReadASN1Integer into []byte refuses negative values and strips the
	// leading zero DER adds to a value whose top bit is set.
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() {
		return out, false
	}
	r, s = trimZero(r), trimZero(s)
	if len(r) == 0 || len(s) == 0 || len(r) > 32 || len(s) > 32 {
		return out, false
	}
	copy(out[32-len(r):32], r)
	copy(out[64-len(s):], s)
	return out, true
}

// ToDER encodes a 64-byte r‖s as a DER ECDSA-Sig-Value; nil if rs is not
// 64 bytes, which no verifier accepts.
func ToDER(rs []byte) []byte {
	if len(rs) != 64 {
		return nil
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[:32]))
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[32:]))
	})
	return b.BytesOrPanic() // cannot fail: two non-negative integers
}

func trimZero(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}
