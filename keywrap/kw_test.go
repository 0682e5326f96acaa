package keywrap

import (
	"crypto/subtle"
	"fmt"
)

// RFC 3394 on its own is only the core WrapPad and UnwrapPad run on; the
// tests drive it whole, as the RFC defines it, so its vectors and OpenSSL's
// id-aes*-wrap check that core.

// wrapKW wraps plaintext, a multiple of 8 bytes and at least 16, under
// kek (RFC 3394).
func wrapKW(kek, plaintext []byte) ([]byte, error) {
	b, err := newCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(plaintext) < 16 || len(plaintext)%8 != 0 {
		return nil, fmt.Errorf("keywrap: RFC 3394 wraps a multiple of 8 bytes, at least 16; got %d (use WrapPad)", len(plaintext))
	}
	return wrap(b, defaultIV, plaintext), nil
}

// unwrapKW reverses wrapKW.
func unwrapKW(kek, wrapped []byte) ([]byte, error) {
	b, err := newCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, ErrUnwrap
	}
	iv, p := unwrap(b, wrapped)
	if subtle.ConstantTimeCompare(iv[:], defaultIV[:]) != 1 {
		clear(p)
		return nil, ErrUnwrap
	}
	return p, nil
}
