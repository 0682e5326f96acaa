// Package hsm provides the CoS Party's signing keys as crypto.Signers:
// file-backed software keys for development, the demo and tests, and keys
// on a PKCS#11 token (SoftHSM2 in tests and CI, Luna or any PKCS#11 HSM in
// production) behind the same interface.
//
// Trust level: holds private keys. Only the signer role and key ceremonies
// import it.
package hsm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// LoadFile reads a P-256 private key from a file: PEM ("PRIVATE KEY" or "EC
// PRIVATE KEY") or raw DER PKCS#8 / SEC 1, which is how the DCC signing
// tool ships its keys.
func LoadFile(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hsm: reading key: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("hsm: %s: %w", path, err)
	}
	return k, nil
}

// ParseKey decodes a P-256 private key from PEM or DER.
func ParseKey(b []byte) (*ecdsa.PrivateKey, error) {
	der := b
	if blk, rest := pem.Decode(b); blk != nil {
		if len(bytes.TrimSpace(rest)) != 0 {
			if next, _ := pem.Decode(rest); next != nil {
				return nil, errors.New("more than one PEM block; want a single private key")
			}
		}
		der = blk.Bytes
	}
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if key, err = x509.ParseECPrivateKey(der); err != nil {
			return nil, errors.New("not a PKCS#8 or SEC 1 private key")
		}
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key; GBCS and DUIS sign with P-256 only")
	}
	return ec, nil
}

// ErrKeyMismatch is returned when a key is not the one a certificate names.
var ErrKeyMismatch = errors.New("hsm: private key does not match the certificate's public key")

// CheckMatches refuses a signer whose public key is not pub: a service must
// never start signing with a key its certificate does not vouch for.
func CheckMatches(s crypto.Signer, pub *ecdsa.PublicKey) error {
	sp, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || pub == nil || !sp.Equal(pub) {
		return ErrKeyMismatch
	}
	return nil
}
