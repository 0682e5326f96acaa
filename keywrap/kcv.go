package keywrap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// KCVMethod is how a key check value was computed; it is written beside
// every KCV, as custodians must compare like with like.
type KCVMethod string

// The two KCV methods of the ceremony (issue 13): the first three bytes
// of the key's AES encryption of a zero block (the classic, what most HSM
// consoles print), or of its AES-CMAC over a zero block (ANSI X9.24-1,
// which does not reveal a block of the raw cipher).
const (
	KCVECB  KCVMethod = "aes-ecb-zero"
	KCVCMAC KCVMethod = "aes-cmac-zero"
)

// KCVLen is a key check value's length in bytes.
const KCVLen = 3

// KCV is the key check value of an AES key by method.
func KCV(key []byte, method KCVMethod) ([KCVLen]byte, error) {
	var out [KCVLen]byte
	b, err := newCipher(key)
	if err != nil {
		return out, err
	}
	var block [aes.BlockSize]byte
	switch method {
	case KCVECB:
		b.Encrypt(block[:], block[:])
	case KCVCMAC:
		block = cmac(b, make([]byte, aes.BlockSize))
	default:
		return out, fmt.Errorf("keywrap: no KCV method %q (want %s or %s)", method, KCVECB, KCVCMAC)
	}
	copy(out[:], block[:])
	return out, nil
}

// cmac is AES-CMAC (RFC 4493, NIST SP 800-38B) of msg.
func cmac(b cipher.Block, msg []byte) [aes.BlockSize]byte {
	var l, k1, k2 [aes.BlockSize]byte
	b.Encrypt(l[:], l[:])
	double(&k1, &l)
	double(&k2, &k1)
	n := (len(msg) + aes.BlockSize - 1) / aes.BlockSize
	complete := n > 0 && len(msg)%aes.BlockSize == 0
	if n == 0 {
		n = 1
	}
	var last [aes.BlockSize]byte
	tail := msg[(n-1)*aes.BlockSize:]
	copy(last[:], tail)
	if complete {
		subtle.XORBytes(last[:], last[:], k1[:])
	} else {
		last[len(tail)] = 0x80
		subtle.XORBytes(last[:], last[:], k2[:])
	}
	var x [aes.BlockSize]byte
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x[:], x[:], msg[i*aes.BlockSize:(i+1)*aes.BlockSize])
		b.Encrypt(x[:], x[:])
	}
	subtle.XORBytes(x[:], x[:], last[:])
	b.Encrypt(x[:], x[:])
	return x
}

// double is multiplication by x in GF(2¹²⁸) (RFC 4493 §2.3).
func double(out, in *[aes.BlockSize]byte) {
	carry := in[0] >> 7
	for i := 0; i < aes.BlockSize-1; i++ {
		out[i] = in[i]<<1 | in[i+1]>>7
	}
	out[aes.BlockSize-1] = in[aes.BlockSize-1]<<1 ^ 0x87*carry
}
