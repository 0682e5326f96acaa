package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"time"

	"github.com/ThalesGroup/crypto11"
)

// PKCS11 names a token of a PKCS#11 module and how to log in to it. The
// PIN is read from a file, never given inline: configuration files are
// read by more people than PINs should be.
type PKCS11 struct {
	Module     string // the module's shared library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string
	PINFile    string
	// Sessions bounds the sessions the token is used through at once: the
	// signers share them. 0: DefaultSessions.
	Sessions int
}

// DefaultSessions is the session pool of a token when none is said: as
// many signatures at once as the service has cores, and then some.
const DefaultSessions = 16

// Token is a logged-in PKCS#11 token. Its signers share its session pool.
type Token struct {
	ctx   *crypto11.Context
	label string
}

// OpenToken logs in to the token c names.
func OpenToken(c PKCS11) (*Token, error) {
	p, err := readPIN(c)
	if err != nil {
		return nil, err
	}
	sessions := c.Sessions
	if sessions == 0 {
		sessions = DefaultSessions
	}
	if sessions < 2 {
		return nil, fmt.Errorf("hsm: a session pool of %d (at least 2)", sessions)
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: c.Module, TokenLabel: c.TokenLabel, Pin: p,
		MaxSessions: sessions, PoolWaitTimeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("hsm: token %q of %s: %w", c.TokenLabel, c.Module, err)
	}
	return &Token{ctx: ctx, label: c.TokenLabel}, nil
}

// Signer is the P-256 key pair on the token labelled label, with CKA_ID
// id, or both (an empty one is not matched). It hashes in Go and signs
// with CKM_ECDSA (SoftHSM has no CKM_ECDSA_SHA256), and returns DER
// signatures, as crypto.Signer's do; GBCS and DUIS turn them into r‖s
// themselves.
func (t *Token) Signer(label string, id []byte) (crypto.Signer, error) {
	var l []byte
	if label != "" {
		l = []byte(label)
	}
	if len(id) == 0 {
		id = nil
	}
	if l == nil && id == nil {
		return nil, errors.New("hsm: name a key by its label or its ID")
	}
	what := KeyName(label, id)
	found, err := t.ctx.FindKeyPairs(id, l)
	if err != nil {
		return nil, fmt.Errorf("hsm: key %s on token %q: %w", what, t.label, err)
	}
	switch len(found) {
	case 0:
		// crypto11 finds a private key by its CKA_ID's public twin: a key
		// with no CKA_ID is not found either.
		return nil, fmt.Errorf("hsm: no key %s on token %q (with a CKA_ID and its public key beside it)", what, t.label)
	case 1:
	default:
		return nil, fmt.Errorf("hsm: %d keys %s on token %q: a configuration must name one key", len(found), what, t.label)
	}
	s := found[0]
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("hsm: key %s on token %q is not an ECDSA P-256 key; GBCS and DUIS sign with P-256 only", what, t.label)
	}
	return s, nil
}

// KeyName describes a key by what a configuration names it by.
func KeyName(label string, id []byte) string {
	switch {
	case label != "" && len(id) > 0:
		return fmt.Sprintf("labelled %q with ID %X", label, id)
	case label != "":
		return fmt.Sprintf("labelled %q", label)
	default:
		return fmt.Sprintf("with ID %X", id)
	}
}

// Close logs out and releases the token's sessions.
func (t *Token) Close() error {
	return t.ctx.Close()
}
