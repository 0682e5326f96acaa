package device

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// FleetConfig describes a fleet of commissioned ESMEs from one test PKI.
type FleetConfig struct {
	// PKI supplies the anchors and the first devices' keys. Required.
	PKI *testpki.PKI
	// Devices is the fleet size; 0 means one per PKI device. Devices
	// beyond the PKI's get EUI-64 FleetEUI(n) and a DS key derived from
	// KeySeed (DeriveKey); they have no certificate and no KA key.
	Devices int
	// Supplier is the supplier (1-based) every device trusts; 0 means 1.
	Supplier int
	// Anchors overrides ESMEAnchors(PKI, Supplier) for every device.
	Anchors []Anchor
	// TCoSAnchor, if set, is the certificate every device holds in its
	// transitionalCoS DS cell instead of the PKI's TCoS: a TCoS key from
	// elsewhere (ZAZ1's, moved into an HSM) is then the one they obey.
	TCoSAnchor *smki.Certificate
	// Now, Rand and Faults are shared by every device (see Config).
	Now    func() time.Time
	Rand   io.Reader
	Faults Faults
	// KeySeed seeds the derived device keys; nil means DefaultKeySeed.
	KeySeed []byte
	// Keys, when set, derives the generated devices' keys instead of a
	// NewDerivedKeys(KeySeed) of the fleet's own: a CoS Party in the same
	// process that looks its device keys up in the same DerivedKeys
	// (demoworld.World.DeviceKeysFrom) then finds the key a device has
	// just signed with, rather than deriving it a second time. Set KeySeed
	// or Keys, not both.
	Keys *DerivedKeys
}

// DefaultKeySeed is the public seed of derived fleet device keys (a
// constant: no package-level mutable state).
const DefaultKeySeed = "ecos devicesim test fleet"

// Fleet is a set of devices addressed by EUI-64. It is safe for
// concurrent use; devices handle their commands in parallel.
//
// The PKI's devices (and those added with Add) are built up front. The
// generated ones, possibly millions, exist only as a range of EUI-64s
// until a command reaches them: their key is derived on use, and their
// state (see state) is a 40-byte slot in a page of pageSize devices that
// the first command to any of them allocates. Cell tables are interned,
// so devices in the same situation (all migrated, say) share one. A
// fleet of a million devices all migrated costs about 40 bytes per
// device; see TestFleetMemoryMigrated.
type Fleet struct {
	env *env

	mu    sync.RWMutex
	named map[eui.EUI]*Device // the PKI's devices and added ones

	// Generated devices are FleetEUI(first) … FleetEUI(last); device k's
	// state is pages[(k-first)/pageSize][(k-first)%pageSize].
	first, last int
	pages       []atomic.Pointer[page]

	pmu     sync.Mutex
	pending map[eui.EUI]struct{} // devices that may hold future-dated commands
}

// pageSize is how many generated devices' states are allocated together:
// small enough that a few commands scattered over a large fleet cost
// little (a page is 10 KiB), large enough that the page table is
// negligible (8 bytes per 256 devices).
const pageSize = 256

type page [pageSize]state

// FleetEUI is the EUI-64 of fleet device n (1-based): EE-C0-5E-DE followed
// by n as a big-endian uint32. Up to 65535 it is testpki.DeviceEUI(n), so
// the PKI's devices and generated ones share one numbering.
func FleetEUI(n int) eui.EUI {
	id := eui.EUI{0xEE, 0xC0, 0x5E, 0xDE}
	binary.BigEndian.PutUint32(id[4:], uint32(n))
	return id
}

// NewFleet builds a fleet of cfg.Devices devices. It parses the anchors
// once and allocates nothing per generated device: see Fleet.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.PKI == nil {
		return nil, errors.New("device: FleetConfig.PKI is required")
	}
	if cfg.Now == nil {
		return nil, errors.New("device: FleetConfig.Now is required")
	}
	if cfg.KeySeed != nil && cfg.Keys != nil {
		return nil, errors.New("device: FleetConfig has both KeySeed and Keys")
	}
	n := cfg.Devices
	if n == 0 {
		n = len(cfg.PKI.Devices)
	}
	if n < 0 || n > 1<<32-1 {
		return nil, fmt.Errorf("device: fleet size %d out of range", n)
	}
	anchors := cfg.Anchors
	if anchors == nil {
		supplier := max(cfg.Supplier, 1)
		var err error
		if anchors, err = ESMEAnchors(cfg.PKI, supplier); err != nil {
			return nil, err
		}
	}
	if cfg.TCoSAnchor != nil {
		anchors = withTCoS(anchors, cfg.TCoSAnchor)
	}
	table, err := newCells(anchors)
	if err != nil {
		return nil, err
	}
	keys := cfg.Keys
	if keys == nil {
		seed := cfg.KeySeed
		if seed == nil {
			seed = []byte(DefaultKeySeed)
		}
		keys = NewDerivedKeys(seed)
	}
	named := min(n, len(cfg.PKI.Devices))
	f := &Fleet{env: newEnv(cfg.Now, cfg.Rand, cfg.Faults, table, keys), named: make(map[eui.EUI]*Device, named),
		first: named + 1, last: n, pending: map[eui.EUI]struct{}{}}
	f.pages = make([]atomic.Pointer[page], (n-named+pageSize-1)/pageSize)
	for _, pd := range cfg.PKI.Devices[:named] {
		dc := Config{EUI: pd.EUI, DSKey: pd.DS.Key, DSCert: pd.DS.Cert}
		if dc.KAKey, err = pd.KA.Key.ECDH(); err != nil {
			return nil, fmt.Errorf("device: %s: %w", pd.KA.Name, err)
		}
		if _, gen := f.generated(dc.EUI); gen || f.named[dc.EUI] != nil {
			return nil, fmt.Errorf("device: EUI-64 %v given to two devices", dc.EUI)
		}
		d := new(Device)
		if err := d.init(f.env, dc); err != nil {
			return nil, err
		}
		f.named[dc.EUI] = d
	}
	return f, nil
}

// generated returns the page index of a generated device.
func (f *Fleet) generated(id eui.EUI) (int, bool) {
	if [4]byte(id[:4]) != [4]byte{0xEE, 0xC0, 0x5E, 0xDE} {
		return 0, false
	}
	k := int(binary.BigEndian.Uint32(id[4:]))
	if k < f.first || k > f.last {
		return 0, false
	}
	return k - f.first, true
}

// state returns generated device j's state, allocating its page.
func (f *Fleet) state(j int) *state {
	slot := &f.pages[j/pageSize]
	p := slot.Load()
	if p == nil {
		if slot.CompareAndSwap(nil, new(page)) {
			p = slot.Load()
		} else {
			p = slot.Load() // another command allocated it meanwhile
		}
	}
	return &p[j%pageSize]
}

// stateIfAny is state without allocating: nil while no command has
// reached any device of j's page.
func (f *Fleet) stateIfAny(j int) *state {
	if p := f.pages[j/pageSize].Load(); p != nil {
		return &p[j%pageSize]
	}
	return nil
}

// Add puts a separately built device (e.g. one made from the RTDS
// material) in the fleet. It keeps its own clock, randomness and faults.
func (f *Fleet) Add(d *Device) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, gen := f.generated(d.id); gen || f.named[d.id] != nil {
		return fmt.Errorf("device: fleet already has %v", d.id)
	}
	f.named[d.id] = d
	return nil
}

// Len is the number of devices.
func (f *Fleet) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.named) + max(f.last-f.first+1, 0)
}

// Device returns the device with EUI-64 id. For a generated device it is
// a handle on the fleet's state for that EUI-64: asking does not make the
// device cost anything, a command to it does.
func (f *Fleet) Device(id eui.EUI) (*Device, bool) {
	f.mu.RLock()
	d := f.named[id]
	f.mu.RUnlock()
	if d != nil {
		return d, true
	}
	j, ok := f.generated(id)
	if !ok {
		return nil, false
	}
	return &Device{env: f.env, id: id, fleet: f, n: j}, true
}

// EUIs lists the devices' EUI-64s in ascending order.
func (f *Fleet) EUIs() []eui.EUI {
	f.mu.RLock()
	out := make([]eui.EUI, 0, len(f.named)+max(f.last-f.first+1, 0))
	for id := range f.named {
		out = append(out, id)
	}
	f.mu.RUnlock()
	for k := f.first; k <= f.last; k++ {
		out = append(out, FleetEUI(k))
	}
	slices.SortFunc(out, func(a, b eui.EUI) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// PublicKey is device id's DS public key, for the CoS Party to verify its
// responses and alerts (generated devices have no certificate).
func (f *Fleet) PublicKey(id eui.EUI) (*ecdsa.PublicKey, bool) {
	d, ok := f.Device(id)
	if !ok {
		return nil, false
	}
	pub := d.PublicKey()
	return pub, pub != nil
}

// Keys derives the generated devices' keys; give it to the CoS Party's
// key lookup to share what the devices derived (see FleetConfig.Keys).
func (f *Fleet) Keys() *DerivedKeys { return f.env.keys }

// SetFaults changes the faults of every device built by NewFleet (devices
// given their own with Device.SetFaults, and devices added with Add, keep
// theirs).
func (f *Fleet) SetFaults(fs Faults) { f.env.faults.Store(&fs) }

// Handle routes a command frame to the device it is addressed to.
func (f *Fleet) Handle(frame []byte) (*Result, error) {
	fr, err := gbcs.ParseFrame(frame)
	if err != nil {
		return nil, reject(Malformed, err, "decoding frame")
	}
	d, ok := f.Device(fr.Message.Recipient)
	if !ok {
		return nil, reject(UnknownDevice, nil, "no device %v", fr.Message.Recipient)
	}
	res, err := d.handleFrame(fr)
	if err == nil && res.Pending {
		f.pmu.Lock()
		f.pending[d.id] = struct{}{}
		f.pmu.Unlock()
	}
	return res, err
}

// held lists the devices that may hold future-dated commands.
func (f *Fleet) held() []*Device {
	f.pmu.Lock()
	ids := make([]eui.EUI, 0, len(f.pending))
	for id := range f.pending {
		ids = append(ids, id)
	}
	f.pmu.Unlock()
	slices.SortFunc(ids, func(a, b eui.EUI) int { return bytes.Compare(a[:], b[:]) })
	devs := make([]*Device, 0, len(ids))
	for _, id := range ids {
		if d, ok := f.Device(id); ok {
			devs = append(devs, d)
		}
	}
	return devs
}

// NextDue is the earliest execution time of any held command in the
// fleet, so a simulator knows when to call Tick.
func (f *Fleet) NextDue() (time.Time, bool) {
	devs := f.held()
	var next time.Time
	found := false
	for _, d := range devs {
		if t, ok := d.NextDue(); ok && (!found || t.Before(next)) {
			next, found = t, true
		}
	}
	return next, found
}

// Tick runs the held commands due at now on every device (see
// Device.Tick) and returns their alerts, devices in EUI-64 order. It only
// visits devices that have held commands, so it is cheap on a large fleet.
func (f *Fleet) Tick(now time.Time) ([]Alert, error) {
	devs := f.held()
	var alerts []Alert
	var errs []error
	for _, d := range devs {
		a, err := d.Tick(now)
		alerts = append(alerts, a...)
		if err != nil {
			errs = append(errs, err)
		}
		// Checked under pmu so that a command Handle holds concurrently
		// (it adds the device after the device has it) is never lost.
		f.pmu.Lock()
		if d.Pending() == 0 {
			delete(f.pending, d.id)
		}
		f.pmu.Unlock()
	}
	return alerts, errors.Join(errs...)
}

// StateBytes is the memory the fleet's generated devices hold: the pages
// of device state allocated so far and the page table. Benchmarks running
// a fleet beside the CoS Party report it apart from the party's own.
func (f *Fleet) StateBytes() int64 {
	n := int64(len(f.pages)) * int64(unsafe.Sizeof(atomic.Pointer[page]{}))
	for i := range f.pages {
		if f.pages[i].Load() != nil {
			n += int64(unsafe.Sizeof(page{}))
		}
	}
	return n
}
