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
	"time"

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
	// Now, Rand and Faults are shared by every device (see Config).
	Now    func() time.Time
	Rand   io.Reader
	Faults Faults
	// KeySeed seeds the derived device keys; nil means DefaultKeySeed.
	KeySeed []byte
}

// DefaultKeySeed is the public seed of derived fleet device keys (a
// constant: no package-level mutable state).
const DefaultKeySeed = "ecos devicesim test fleet"

// Fleet is a set of devices addressed by EUI-64. It is safe for
// concurrent use; devices handle their commands in parallel.
type Fleet struct {
	env *env

	mu      sync.RWMutex
	devices map[eui.EUI]*Device

	pmu     sync.Mutex
	pending map[*Device]struct{} // devices that may hold future-dated commands
}

// FleetEUI is the EUI-64 of fleet device n (1-based): EE-C0-5E-DE followed
// by n as a big-endian uint32. Up to 65535 it is testpki.DeviceEUI(n), so
// the PKI's devices and generated ones share one numbering.
func FleetEUI(n int) eui.EUI {
	id := eui.EUI{0xEE, 0xC0, 0x5E, 0xDE}
	binary.BigEndian.PutUint32(id[4:], uint32(n))
	return id
}

// NewFleet builds cfg.Devices devices. The anchors are parsed once and the
// cell table is shared by every device until a command changes it (each
// change copies the device's own table), so a device costs a couple of
// hundred bytes; see TestFleetMemory.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.PKI == nil {
		return nil, errors.New("device: FleetConfig.PKI is required")
	}
	if cfg.Now == nil {
		return nil, errors.New("device: FleetConfig.Now is required")
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
	table, err := newCells(anchors)
	if err != nil {
		return nil, err
	}
	seed := cfg.KeySeed
	if seed == nil {
		seed = []byte(DefaultKeySeed)
	}
	e := &env{now: cfg.Now, rand: cfg.Rand, certs: newCertCache(), links: smki.NewLinks(certCacheMax), keys: newKeyDeriver(seed)}
	faults := cfg.Faults
	e.faults.Store(&faults)
	f := &Fleet{env: e, devices: make(map[eui.EUI]*Device, n), pending: map[*Device]struct{}{}}
	// One allocation for all devices keeps a large fleet compact.
	block := make([]Device, n)
	for i := range block {
		dc := Config{EUI: FleetEUI(i + 1)}
		if i < len(cfg.PKI.Devices) {
			pd := cfg.PKI.Devices[i]
			dc.EUI, dc.DSKey, dc.DSCert = pd.EUI, pd.DS.Key, pd.DS.Cert
			if dc.KAKey, err = pd.KA.Key.ECDH(); err != nil {
				return nil, fmt.Errorf("device: %s: %w", pd.KA.Name, err)
			}
		}
		if err := block[i].init(e, dc, table); err != nil {
			return nil, err
		}
		if f.devices[dc.EUI] != nil {
			return nil, fmt.Errorf("device: EUI-64 %v given to two devices", dc.EUI)
		}
		f.devices[dc.EUI] = &block[i]
	}
	return f, nil
}

// Add puts a separately built device (e.g. one made from the RTDS
// material) in the fleet. It keeps its own clock, randomness and faults.
func (f *Fleet) Add(d *Device) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.devices[d.id] != nil {
		return fmt.Errorf("device: fleet already has %v", d.id)
	}
	f.devices[d.id] = d
	return nil
}

// Len is the number of devices.
func (f *Fleet) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.devices)
}

// Device returns the device with EUI-64 id.
func (f *Fleet) Device(id eui.EUI) (*Device, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, ok := f.devices[id]
	return d, ok
}

// EUIs lists the devices' EUI-64s in ascending order.
func (f *Fleet) EUIs() []eui.EUI {
	f.mu.RLock()
	out := make([]eui.EUI, 0, len(f.devices))
	for id := range f.devices {
		out = append(out, id)
	}
	f.mu.RUnlock()
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
		f.pending[d] = struct{}{}
		f.pmu.Unlock()
	}
	return res, err
}

// NextDue is the earliest execution time of any held command in the
// fleet, so a simulator knows when to call Tick.
func (f *Fleet) NextDue() (time.Time, bool) {
	f.pmu.Lock()
	devs := make([]*Device, 0, len(f.pending))
	for d := range f.pending {
		devs = append(devs, d)
	}
	f.pmu.Unlock()
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
	f.pmu.Lock()
	devs := make([]*Device, 0, len(f.pending))
	for d := range f.pending {
		devs = append(devs, d)
	}
	f.pmu.Unlock()
	slices.SortFunc(devs, func(a, b *Device) int { return bytes.Compare(a.id[:], b.id[:]) })
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
			delete(f.pending, d)
		}
		f.pmu.Unlock()
	}
	return alerts, errors.Join(errs...)
}
