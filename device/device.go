// Package device models what a GBCS smart meter (an ESME or GSME) does with
// the CS02 commands the ECoS Party sends, so that ecos can be tested end to
// end and benchmarked without hardware, in process or behind `ecos
// devicesim`.
//
// A Device holds trust-anchor cells, per-role originator counters and
// floors, an alert counter and held future-dated commands. Handle takes a
// command frame (bare General Signing DF… or ACB-wrapped DD…) and:
//
//   - CS02b (Update Security Credentials, modes 2, 3, 5, 6 and 7):
//     authenticates it against the digital-signing anchor in the authorising
//     cell (anchors are not time-checked: an expired TCoS certificate still
//     authorises), refuses replays (the originator counter must be strictly
//     greater than the last one from that role), checks each replacement
//     certificate (role and key usage match the target cell, issuer in the
//     certification path, path chained to the root anchor when the device
//     has one, validity at the device clock unless time-based checks are
//     disapplied), applies the cells that pass and the floor changes as one
//     atomic update, and answers with a signed per-cell outcome. Future-dated
//     commands are held and run by Tick, which returns signed 0x00CB alerts;
//     a cancellation removes them.
//   - CS02a (Provide Security Credential Details): reports the cells of the
//     requested roles.
//
// Originator counters are kept per remote-party role, as GBCS devices keep
// them, not per key: the migration command (mode 6, no [4] floor) leaves
// the transitionalCoS counter where the TCoS key left it, and the ECoS key
// must continue above it. The grouping-header originator must be the
// entity whose certificate is in the authorising cell, since that is where
// the response goes.
//
// A command that fails authentication changes nothing and gets no response:
// Handle returns a *RejectError naming the Reason. Faults (drop, delay,
// busy, reject, partial failure) are injected deterministically through
// Faults. A Fleet holds many devices, routes frames by recipient, and keeps
// 100,000 devices cheap by sharing the parsed anchors.
//
// Where GBCS is not public or not precise, the model makes documented
// choices (the per-cell status of each failed check, which floors a partly
// failed command applies, the originator check); see the comments at each
// check, and docs/product.md §6.
//
// Trust level: TEST AND SIMULATION ONLY. It parses untrusted frames and
// never panics on them, but it is a model, not a conformance reference, and
// the device keys it uses are test keys (from testpki or derived from a
// public seed). It reads no clock and no global randomness: time comes from
// Config.Now or Tick's argument, signing randomness from Config.Rand.
package device

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
)

// Config describes one device.
type Config struct {
	// EUI is the device's EUI-64: commands must be addressed to it, and it
	// originates responses and alerts.
	EUI eui.EUI
	// DSKey is the device's digital-signing key (ECDSA P-256): it signs
	// every response and alert.
	DSKey crypto.Signer
	// DSCert is the device's DS certificate (DER), if there is one; the
	// device only reports it (Certificate) for the party to verify
	// responses with.
	DSCert []byte
	// KAKey is the device's key-agreement key. When it is set and the
	// device holds an ACB key-agreement anchor, the ACB GMAC of
	// DD-wrapped commands is checked. Bare DF commands carry no MAC and are
	// accepted either way, so the simulator can sit in front of a party
	// that has no ACB.
	KAKey *ecdh.PrivateKey
	// Anchors are the device's trust-anchor cells. A cell not listed does
	// not exist on the device; an Anchor with a nil Cert is an empty cell.
	Anchors []Anchor
	// SeqNumbers are the initial originator counters (the last accepted
	// counter, or floor) per remote-party role; absent roles start at 0.
	SeqNumbers map[gbcs.Role]uint64
	// AlertCounter is the last alert counter used; the next alert uses
	// AlertCounter+1.
	AlertCounter uint64
	// Now is the device clock. Required.
	Now func() time.Time
	// Rand is the randomness for ECDSA signatures. nil gives deterministic
	// RFC 6979 signatures (stable test output); note that since Go 1.26 a
	// non-nil reader other than crypto/rand only selects "randomised", the
	// bytes come from the system.
	Rand io.Reader
	// Faults injects faults; the zero value injects none.
	Faults Faults
}

// env is what the devices of one Fleet share (a lone device has its own):
// clock, randomness, the default faults and the certificate intern table.
type env struct {
	now    func() time.Time
	rand   io.Reader
	faults atomic.Pointer[Faults]
	certs  *certCache
	// links remembers certificate signatures a device of this fleet has
	// checked. It is a simulator's economy, not a meter's: the answer for
	// a pair of certificates is the same on every meter, and the fleet
	// would otherwise spend more CPU than the CoS Party it is testing.
	links *smki.Links
	keys  *keyDeriver // nil unless the fleet generates device keys
}

// Device is one simulated meter. It is safe for concurrent use; commands
// are handled one at a time, so every command sees the state the previous
// one left and its own changes become visible together.
type Device struct {
	env    *env
	id     eui.EUI
	signer crypto.Signer // nil: the key is derived from env.keys on use
	cert   []byte
	ka     *ecdh.PrivateKey

	mu           sync.Mutex
	cells        cells
	seqs         seqs
	alertCounter uint64
	pending      []*pending
	arrivals     uint64  // orders pending commands with the same execution time
	faults       *Faults // per-device override of env.faults; nil: use env's
}

// New builds a device from cfg.
func New(cfg Config) (*Device, error) {
	if cfg.Now == nil {
		return nil, errors.New("device: Config.Now is required")
	}
	e := &env{now: cfg.Now, rand: cfg.Rand, certs: newCertCache(), links: smki.NewLinks(certCacheMax)}
	faults := cfg.Faults
	e.faults.Store(&faults)
	t, err := newCells(cfg.Anchors)
	if err != nil {
		return nil, err
	}
	d := new(Device)
	if err := d.init(e, cfg, t); err != nil {
		return nil, err
	}
	return d, nil
}

// init sets up d in e around an already validated cell table, which may be
// shared with other devices. It initialises in place because a Fleet
// allocates its devices in one block (a Device holds a mutex and must not
// be copied).
func (d *Device) init(e *env, cfg Config, t cells) error {
	if cfg.EUI.IsZero() {
		return errors.New("device: Config.EUI is required")
	}
	if cfg.DSKey == nil && e.keys == nil {
		return errors.New("device: Config.DSKey is required")
	}
	if cfg.DSKey != nil {
		if err := checkP256(cfg.DSKey.Public()); err != nil {
			return err
		}
	}
	if cfg.KAKey != nil && cfg.KAKey.Curve() != ecdh.P256() {
		return errors.New("device: Config.KAKey must be a P-256 key")
	}
	d.env, d.id, d.signer, d.cert, d.ka = e, cfg.EUI, cfg.DSKey, cfg.DSCert, cfg.KAKey
	d.cells, d.alertCounter = t, cfg.AlertCounter
	for role, n := range cfg.SeqNumbers {
		d.seqs = d.seqs.with(seqKey{role: role}, n)
	}
	return nil
}

func checkP256(pub crypto.PublicKey) error {
	if k, ok := pub.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		return errors.New("device: the DS key must be ECDSA P-256")
	}
	return nil
}

// EUI is the device's EUI-64.
func (d *Device) EUI() eui.EUI { return d.id }

// PublicKey is the device's DS public key, which verifies its responses and
// alerts.
func (d *Device) PublicKey() *ecdsa.PublicKey {
	s, err := d.dsKey()
	if err != nil {
		return nil
	}
	return s.Public().(*ecdsa.PublicKey)
}

// Certificate is the device's DS certificate (DER), or nil when the device
// has none (fleet devices beyond the PKI's; use PublicKey).
func (d *Device) Certificate() []byte { return d.cert }

// dsKey returns the signer for responses and alerts.
func (d *Device) dsKey() (crypto.Signer, error) {
	if d.signer != nil {
		return d.signer, nil
	}
	return d.env.keys.key(d.id)
}

// sign signs m with the device's DS key and encodes it.
func (d *Device) sign(m *gbcs.Message) ([]byte, error) {
	key, err := d.dsKey()
	if err != nil {
		return nil, err
	}
	if err := m.Sign(d.env.rand, key); err != nil {
		return nil, fmt.Errorf("device %v: signing: %w", d.id, err)
	}
	return m.Bytes()
}

// Anchor returns the certificate in cell c. ok is false when the device has
// no such cell or the cell is empty.
func (d *Device) Anchor(c gbcs.Cell) (cert *smki.Certificate, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cert, _ = d.cells.get(keyOf(c))
	return cert, cert != nil
}

// AnchorSKI returns the subject key identifier of the certificate in cell
// c: what the CoS Party tracks to know whether a device trusts the TCoS or
// the ECoS key.
func (d *Device) AnchorSKI(c gbcs.Cell) (gbcs.KeyID, bool) {
	cert, ok := d.Anchor(c)
	if !ok {
		return gbcs.KeyID{}, false
	}
	_, ski := identity(cert)
	return ski, true
}

// Trusts reports whether cell c holds exactly the certificate der (e.g.
// the ECoS certificate after migration).
func (d *Device) Trusts(c gbcs.Cell, der []byte) bool {
	cert, ok := d.Anchor(c)
	return ok && bytes.Equal(cert.Raw, der)
}

// TransitionalCoS returns the certificate in the transitionalCoS
// digital-signing cell {5, DS}, the one every CoS Party command is checked
// against.
func (d *Device) TransitionalCoS() (*smki.Certificate, bool) { return d.Anchor(cellTransCoSDS.cell()) }

// Anchors lists the device's cells, empty ones included, in device order.
func (d *Device) Anchors() []Anchor {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Anchor, len(d.cells))
	for i, c := range d.cells {
		out[i] = Anchor{Cell: c.key.cell(), Cert: c.cert}
	}
	return out
}

// SeqNumber is the device's originator counter for role: the last counter
// accepted from that role, or the floor a CS02b set since.
func (d *Device) SeqNumber(role gbcs.Role) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seqs.get(seqKey{role: role})
}

// SpecialistSeqNumber is role's specialist floor (prepayment top-up).
func (d *Device) SpecialistSeqNumber(role gbcs.Role, u gbcs.SeqNumberUsage) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seqs.get(specialistKey(role, u))
}

// AlertCounter is the last alert counter the device used.
func (d *Device) AlertCounter() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.alertCounter
}

// SetFaults overrides, for this device only, the faults its commands meet
// (a Fleet's devices otherwise share the fleet's).
func (d *Device) SetFaults(f Faults) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = &f
}

func (d *Device) currentFaults() *Faults {
	if d.faults != nil {
		return d.faults
	}
	return d.env.faults.Load()
}

// seqKey names one originator counter: a role's own (usage 0) or one of its
// specialist floors (usage 1+SeqNumberUsage).
type seqKey struct {
	role  gbcs.Role
	usage uint8
}

func specialistKey(role gbcs.Role, u gbcs.SeqNumberUsage) seqKey {
	return seqKey{role: role, usage: 1 + uint8(u)}
}

type seqEntry struct {
	key seqKey
	n   uint64
}

// seqs is a device's counters; roles not listed are at 0. Like cells it is
// copy-on-write, so a command can stage changes and drop them on failure.
type seqs []seqEntry

func (s seqs) get(k seqKey) uint64 {
	for _, e := range s {
		if e.key == k {
			return e.n
		}
	}
	return 0
}

func (s seqs) with(k seqKey, n uint64) seqs {
	out := make(seqs, 0, len(s)+1)
	found := false
	for _, e := range s {
		if e.key == k {
			e.n, found = n, true
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, seqEntry{key: k, n: n})
	}
	return out
}
