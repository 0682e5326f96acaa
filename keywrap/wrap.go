package keywrap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrUnwrap means a wrapped key did not unwrap: the key-encryption key is
// not the one it was wrapped with, or the blob was changed. Which check
// failed is deliberately not said.
var ErrUnwrap = errors.New("keywrap: the wrapped key fails its integrity check (wrong key-encryption key, or the blob was changed)")

// defaultIV is RFC 3394's initial value; kwpPrefix starts RFC 5649's.
var defaultIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

const kwpPrefix = 0xA65959A6

func newCipher(kek []byte) (cipher.Block, error) {
	switch len(kek) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("keywrap: a key-encryption key of %d bytes (want 16, 24 or 32: AES-128, -192 or -256)", len(kek))
	}
	return aes.NewCipher(kek)
}

// WrapPad wraps plaintext of any length from 1 byte to 2³²−1 under kek
// (RFC 5649).
func WrapPad(kek, plaintext []byte) ([]byte, error) {
	b, err := newCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 || uint64(len(plaintext)) > math.MaxUint32 {
		return nil, fmt.Errorf("keywrap: RFC 5649 wraps 1 to 2³²−1 bytes; got %d", len(plaintext))
	}
	var iv [8]byte
	binary.BigEndian.PutUint32(iv[:4], kwpPrefix)
	binary.BigEndian.PutUint32(iv[4:], uint32(len(plaintext)))
	padded := make([]byte, (len(plaintext)+7)/8*8)
	copy(padded, plaintext)
	defer clear(padded)
	if len(padded) == 8 {
		// One block: AIV | P, encrypted once (RFC 5649 §4.1).
		out := make([]byte, 16)
		copy(out, iv[:])
		copy(out[8:], padded)
		b.Encrypt(out, out)
		return out, nil
	}
	return wrap(b, iv, padded), nil
}

// UnwrapPad reverses WrapPad.
func UnwrapPad(kek, wrapped []byte) ([]byte, error) {
	b, err := newCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 16 || len(wrapped)%8 != 0 {
		return nil, ErrUnwrap
	}
	var iv [8]byte
	var p []byte
	if len(wrapped) == 16 {
		block := make([]byte, 16)
		b.Decrypt(block, wrapped)
		copy(iv[:], block)
		p = block[8:]
	} else {
		iv, p = unwrap(b, wrapped)
	}
	// The checks of RFC 5649 §4.2, all made whatever the first found.
	mli := binary.BigEndian.Uint32(iv[4:])
	ok := subtle.ConstantTimeEq(int32(binary.BigEndian.Uint32(iv[:4])^kwpPrefix), 0)
	n := uint64(len(p))
	inRange := uint64(mli) > n-8 && uint64(mli) <= n
	if !inRange {
		ok = 0
		mli = uint32(n) // keep the padding check in bounds
	}
	var pad byte
	for _, c := range p[mli:] {
		pad |= c
	}
	ok &= subtle.ConstantTimeByteEq(pad, 0)
	if ok != 1 {
		clear(p)
		return nil, ErrUnwrap
	}
	return p[:mli:mli], nil
}

// wrap is RFC 3394 §2.2.1 with the initial value iv, for n ≥ 2 blocks.
func wrap(b cipher.Block, iv [8]byte, plaintext []byte) []byte {
	n := len(plaintext) / 8
	out := make([]byte, 8+len(plaintext))
	copy(out[8:], plaintext)
	a := iv
	var block [16]byte
	for j := range 6 {
		for i := 1; i <= n; i++ {
			r := out[8*i : 8*i+8]
			copy(block[:8], a[:])
			copy(block[8:], r)
			b.Encrypt(block[:], block[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(block[:8])^t)
			copy(r, block[8:])
		}
	}
	copy(out, a[:])
	clear(block[:])
	return out
}

// unwrap is RFC 3394 §2.2.2 without its check: the recovered initial
// value and plaintext.
func unwrap(b cipher.Block, wrapped []byte) ([8]byte, []byte) {
	n := len(wrapped)/8 - 1
	p := make([]byte, 8*n)
	copy(p, wrapped[8:])
	var a [8]byte
	copy(a[:], wrapped[:8])
	var block [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			r := p[8*(i-1) : 8*i]
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(block[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(block[8:], r)
			b.Decrypt(block[:], block[:])
			copy(a[:], block[:8])
			copy(r, block[8:])
		}
	}
	clear(block[:])
	return a, p
}
