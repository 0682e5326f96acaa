package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
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

// Signer is the P-256 key labelled label on the token. It hashes in Go
// and signs with CKM_ECDSA (SoftHSM has no CKM_ECDSA_SHA256), and returns
// DER signatures, as crypto.Signer's do; GBCS and DUIS turn them into
// r‖s themselves.
func (t *Token) Signer(label string) (crypto.Signer, error) {
	found, err := t.ctx.FindKeyPairs(nil, []byte(label))
	if err != nil {
		return nil, fmt.Errorf("hsm: key %q on token %q: %w", label, t.label, err)
	}
	switch len(found) {
	case 0:
		// crypto11 finds a private key by its CKA_ID's public twin: a key
		// with no CKA_ID is not found either.
		return nil, fmt.Errorf("hsm: no key labelled %q on token %q (with a CKA_ID and its public key beside it)", label, t.label)
	case 1:
	default:
		return nil, fmt.Errorf("hsm: %d keys labelled %q on token %q: a label must name one key", len(found), label, t.label)
	}
	s := found[0]
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("hsm: key %q on token %q is not an ECDSA P-256 key; GBCS and DUIS sign with P-256 only", label, t.label)
	}
	return s, nil
}

// Close logs out and releases the token's sessions.
func (t *Token) Close() error {
	return t.ctx.Close()
}
