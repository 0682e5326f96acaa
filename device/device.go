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
// Faults. A Fleet holds many devices and routes frames by recipient; a
// million-device fleet costs nothing until commanded and about 40 bytes per
// device once every device is migrated (see Fleet).
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
// clock, randomness, the default faults, the initial cell table and the
// caches that keep a large fleet cheap.
type env struct {
	now    func() time.Time
	rand   io.Reader
	faults atomic.Pointer[Faults]
	// template is the cell table every device starts with.
	template cells
	tables   *tables
	certs    *certCache
	// links remembers certificate signatures a device of this fleet has
	// checked, and verdicts whole replacement checks (profile and path).
	// They are a simulator's economy, not a meter's: the answer for a
	// certificate and a path is the same on every meter, and the fleet
	// would otherwise spend more CPU than the CoS Party it is testing.
	links    *smki.Links
	verdicts *verdicts
	keys     *DerivedKeys // nil unless the fleet generates device keys
	// fresh is the state of a fleet device no command has reached: what
	// its accessors read until it gets a state of its own. Never written.
	fresh state
}

func newEnv(now func() time.Time, rand io.Reader, faults Faults, template cells, keys *DerivedKeys) *env {
	e := &env{now: now, rand: rand, template: template, tables: newTables(), certs: newCertCache(),
		links: smki.NewLinks(certCacheMax), verdicts: newVerdicts(), keys: keys}
	e.faults.Store(&faults)
	return e
}

// Device is one simulated meter. It is safe for concurrent use; commands
// are handled one at a time, so every command sees the state the previous
// one left and its own changes become visible together.
//
// A Fleet's generated devices exist only as their EUI-64 until a command
// reaches them: a *Device for one of them is a handle, and its state lives
// in the fleet (see Fleet), so two handles for the same EUI-64 are the
// same device.
type Device struct {
	env    *env
	id     eui.EUI
	signer crypto.Signer // nil: the key is derived from env.keys on use
	cert   []byte
	ka     *ecdh.PrivateKey

	// st is where the device's state lives; nil until a fleet device is
	// commanded, then it comes from fleet (page n).
	st    atomic.Pointer[state]
	fleet *Fleet
	n     int
}

// New builds a device from cfg.
func New(cfg Config) (*Device, error) {
	if cfg.Now == nil {
		return nil, errors.New("device: Config.Now is required")
	}
	t, err := newCells(cfg.Anchors)
	if err != nil {
		return nil, err
	}
	d := new(Device)
	if err := d.init(newEnv(cfg.Now, cfg.Rand, cfg.Faults, t, nil), cfg); err != nil {
		return nil, err
	}
	return d, nil
}

// init sets up d in e, whose template is the device's initial table.
func (d *Device) init(e *env, cfg Config) error {
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
	st := new(state)
	var s seqs
	for role, n := range cfg.SeqNumbers {
		s = s.with(seqKey{role: role}, n)
	}
	st.setSeqs(s)
	if cfg.AlertCounter != 0 {
		st.extra().alertCounter = cfg.AlertCounter
	}
	d.st.Store(st)
	return nil
}

// peek returns the device's state for reading: a fleet device no command
// has reached reads its env's fresh state, and stays without one.
func (d *Device) peek() *state {
	if st := d.st.Load(); st != nil {
		return st
	}
	if d.fleet != nil {
		if st := d.fleet.stateIfAny(d.n); st != nil {
			d.st.Store(st)
			return st
		}
	}
	return &d.env.fresh
}

// touch returns the device's own state, which a fleet device gets now.
func (d *Device) touch() *state {
	if st := d.st.Load(); st != nil {
		return st
	}
	st := d.fleet.state(d.n)
	d.st.Store(st)
	return st
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
	return d.env.keys.PrivateKey(d.id)
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
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	cert, _ = st.cells(d.env).get(keyOf(c))
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
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.cells(d.env)
	out := make([]Anchor, len(t))
	for i, c := range t {
		out[i] = Anchor{Cell: c.key.cell(), Cert: c.cert}
	}
	return out
}

// SeqNumber is the device's originator counter for role: the last counter
// accepted from that role, or the floor a CS02b set since.
func (d *Device) SeqNumber(role gbcs.Role) uint64 {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.seqs().get(seqKey{role: role})
}

// SpecialistSeqNumber is role's specialist floor (prepayment top-up).
func (d *Device) SpecialistSeqNumber(role gbcs.Role, u gbcs.SeqNumberUsage) uint64 {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.seqs().get(specialistKey(role, u))
}

// AlertCounter is the last alert counter the device used.
func (d *Device) AlertCounter() uint64 {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.alertCounter()
}

// SetFaults overrides, for this device only, the faults its commands meet
// (a Fleet's devices otherwise share the fleet's).
func (d *Device) SetFaults(f Faults) {
	st := d.touch()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.extra().faults = &f
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
