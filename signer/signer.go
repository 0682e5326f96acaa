// Package signer is the only holder of the CoS Party's signing keys in the
// 6.23 pipeline (product.md §2 steps 10 and 11). It takes an
// *authorise.Approved and nothing else, picks the key the device trusts,
// reserves the next originator counter durably, records what it is about
// to sign, signs once, checks the result and records the signed frame.
//
// Trust level: holds keys; trusts only what the authoriser approved.
package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// CommandLog is the storage the signer writes before and after signing;
// *store.DB satisfies it.
type CommandLog interface {
	ReserveIntent(ctx context.Context, key string, build func(counter uint64) (store.Intent, error)) (store.Intent, store.CommandID, error)
	MarkSigned(ctx context.Context, id store.CommandID, frame []byte, at time.Time) error
}

// CounterKey is the originator-counter namespace of the CoS Party. TCoS
// and ECoS share it: a device keeps one counter for its transitionalCoS
// cell, whichever certificate is in it, so the ECoS key must continue
// where the TCoS key stopped.
const CounterKey = "cos"

// Key is one CoS credential: a signer and the transitionalCoS
// certificate that names it.
type Key struct {
	ID     string // "tcos" or "ecos": recorded with every command
	Signer crypto.Signer
	EUI    eui.EUI // the grouping header's originator
	pub    *ecdsa.PublicKey
}

// NewKey binds signer to its certificate, refusing a certificate that is
// not a transitionalCoS digital-signing one or a key that does not match.
// An expired certificate is accepted: devices do not time-check anchors.
func NewKey(id string, s crypto.Signer, certDER []byte) (*Key, error) {
	c, err := smki.Parse(certDER)
	if err != nil {
		return nil, fmt.Errorf("signer: %s certificate: %w", id, err)
	}
	if c.Role != smki.RoleTransitionalCoS || c.KeyUsage != smki.KeyUsageDigitalSignature {
		return nil, fmt.Errorf("signer: %s certificate is a %s %s certificate, want transitionalCoS digitalSignature", id, c.Role, c.KeyUsage)
	}
	if err := hsm.CheckMatches(s, c.PublicKey); err != nil {
		return nil, fmt.Errorf("signer: %s: %w", id, err)
	}
	return &Key{ID: id, Signer: s, EUI: c.EUI, pub: c.PublicKey}, nil
}

// Config is fixed for the life of a Signer.
type Config struct {
	Log        CommandLog
	TCoS, ECoS *Key // either may be nil if the party does not hold it
	Now        func() time.Time
	Rand       io.Reader    // nil: crypto/rand
	Audit      *slog.Logger // one record before and one after every signature
}

// Signer signs CS02b commands for approved requests.
type Signer struct {
	cfg Config
}

// New checks cfg.
func New(cfg Config) (*Signer, error) {
	switch {
	case cfg.Log == nil:
		return nil, errors.New("signer: no command log")
	case cfg.TCoS == nil && cfg.ECoS == nil:
		return nil, errors.New("signer: no CoS key")
	case cfg.Now == nil:
		return nil, errors.New("signer: no clock")
	case cfg.Audit == nil:
		return nil, errors.New("signer: no audit log")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Signer{cfg: cfg}, nil
}

// Signed is a signed command, recorded in the command log.
type Signed struct {
	Command    store.CommandID
	Counter    uint64
	Originator eui.EUI
	KeyID      string
	Frame      []byte // the General Signing APDU, ready for the ACB and the WAN
}

// ErrNoKey means the device trusts a credential the party does not hold.
var ErrNoKey = errors.New("signer: no key for the device's credential")

// SignCoS builds, signs and records the CS02b supplierByTransCoS command
// for a. Each approval signs once (authorise.ErrRedeemed the second time,
// whether or not the first succeeded), and each request once: the command
// log refuses a second live command for it (store.ErrLiveCommand).
func (s *Signer) SignCoS(ctx context.Context, a *authorise.Approved) (*Signed, error) {
	if a == nil {
		return nil, errors.New("signer: nothing approved")
	}
	if err := a.Redeem(); err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	key, err := s.keyFor(a.Credential())
	if err != nil {
		return nil, err
	}
	// The counter is reserved and the bytes to sign recorded (committed)
	// before anything is signed: if we die from here on the counter is
	// burnt, never reused.
	var msg *gbcs.Message
	in, id, err := s.cfg.Log.ReserveIntent(ctx, CounterKey, func(counter uint64) (store.Intent, error) {
		payload, err := cosbuild.SupplierByTransCoS(a.Body(), counter)
		if err != nil {
			return store.Intent{}, err
		}
		if msg, err = cosbuild.Command(key.EUI, a.Device(), payload); err != nil {
			return store.Intent{}, err
		}
		tbs, err := msg.SignedBytes()
		if err != nil {
			return store.Intent{}, err
		}
		return store.Intent{RequestID: store.RequestID(a.RequestID()), Device: a.Device(), Counter: counter,
			KeyID: key.ID, TBS: tbs, CreatedAt: s.cfg.Now()}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("signer: reserving a counter and recording the intent: %w", err)
	}
	counter, tbs := in.Counter, in.TBS
	attrs := []any{"request_id", a.RequestID().String(), "originator", key.EUI.String(), "target", a.Device().String(),
		"counter", counter, "key_id", key.ID, "command_id", int64(id)}
	s.cfg.Audit.Info("signing cs02b", append(attrs, "outcome", "intent")...)
	frame, err := s.sign(msg, key, tbs)
	if err != nil {
		s.cfg.Audit.Error("signing cs02b failed", append(attrs, "outcome", "failed", "err", err.Error())...)
		return nil, err
	}
	if err := s.cfg.Log.MarkSigned(ctx, id, frame, s.cfg.Now()); err != nil {
		return nil, fmt.Errorf("signer: recording signed frame: %w", err)
	}
	s.cfg.Audit.Info("signed cs02b", append(attrs, "outcome", "signed")...)
	return &Signed{Command: id, Counter: counter, Originator: key.EUI, KeyID: key.ID, Frame: frame}, nil
}

func (s *Signer) keyFor(c store.Credential) (*Key, error) {
	var k *Key
	switch c {
	case store.CredentialTCoS:
		k = s.cfg.TCoS
	case store.CredentialECoS:
		k = s.cfg.ECoS
	}
	if k == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNoKey, c)
	}
	return k, nil
}

// sign signs msg and checks, before anything leaves, that the signature
// verifies and that the frame carries exactly the bytes recorded as the
// intent: a faulty signer or encoder must not produce a command that
// differs from what was audited. Go's own ECDSA (file keys) cannot return
// a signature that does not verify, so only other signers (HSMs) have
// theirs verified: for file keys it would double the cost of signing.
func (s *Signer) sign(msg *gbcs.Message, key *Key, tbs []byte) ([]byte, error) {
	if err := msg.Sign(s.cfg.Rand, key.Signer); err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	if _, software := key.Signer.(*ecdsa.PrivateKey); !software {
		if err := msg.Verify(key.pub); err != nil {
			return nil, fmt.Errorf("signer: signature does not verify with the %s certificate: %w", key.ID, err)
		}
	}
	frame, err := msg.Bytes()
	if err != nil {
		return nil, err
	}
	back, err := gbcs.ParseMessage(frame)
	if err != nil {
		return nil, fmt.Errorf("signer: signed frame does not parse: %w", err)
	}
	got, err := back.SignedBytes()
	if err != nil || !bytes.Equal(got, tbs) {
		return nil, errors.New("signer: signed frame differs from the recorded intent")
	}
	return frame, nil
}

// Originator is the EUI-64 a command signed with key id ("tcos" or
// "ecos") must name as its originator: the certificate's subject.
func (s *Signer) Originator(id string) (eui.EUI, error) {
	k, err := s.keyFor(store.Credential(id))
	if err != nil {
		return eui.EUI{}, err
	}
	return k.EUI, nil
}

// SignOwn signs one of the party's own commands (a migration or a
// read-back) with key id. The caller has recorded the command's intent
// and spent its counter (store.ClaimCommands): for these commands the
// authority is the operator's wave and the device's recorded state, not a
// User's request. The audit trail is the command log and the device's
// migration history, written in batches around the signatures.
func (s *Signer) SignOwn(msg *gbcs.Message, id string) ([]byte, error) {
	k, err := s.keyFor(store.Credential(id))
	if err != nil {
		return nil, err
	}
	if msg.Originator != k.EUI {
		return nil, fmt.Errorf("signer: command names originator %s, the %s key's is %s", msg.Originator, id, k.EUI)
	}
	tbs, err := msg.SignedBytes()
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return s.sign(msg, k, tbs)
}
