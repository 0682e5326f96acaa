// Package demoworld builds the world `ecos serve --demo`, `ecos bench cos`
// and the end-to-end tests run in: a test PKI, SEC parties for its
// suppliers, devices and their registrations, ready to import into a
// store, and signed SR 6.23 requests as a supplier would send them; and
// the demo installation on disk (Install, Load): PKI, database, TLS
// files and the configuration that ties them together.
//
// Trust level: demonstration and tests only. Every key in it is generated
// on the spot (or derived from a public seed) and must never be trusted.
package demoworld

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/testpki"
)

// Options size the world.
type Options struct {
	Now       time.Time // certificates are valid from a day before; required
	Rand      io.Reader // nil: crypto/rand
	Devices   int       // 0: 1,000
	Suppliers int       // 0: 2; at least 2
	// PKI reuses an existing test PKI (from `ecos pki init`) instead of
	// generating one; Now, Rand and Suppliers then come from it.
	PKI *testpki.PKI
}

// World is the demo's reference data and credentials. Every device is
// registered to supplier 2 and trusts supplier 1 and the TCoS credential:
// supplier 2 is the gaining supplier a 6.23 should succeed for.
type World struct {
	PKI           *testpki.PKI
	Parties       []store.Party
	Devices       []store.Device
	Registrations []store.Registration
	// MPIDBySerial maps each supplier's XML-signing certificate serial
	// (hex) to the MPID it signs under: the generated certificates carry
	// no MPID in their subject.
	MPIDBySerial map[string]string
}

// New builds a world.
func New(o Options) (*World, error) {
	if o.Devices == 0 {
		o.Devices = 1000
	}
	if o.Suppliers == 0 {
		o.Suppliers = 2
	}
	if o.Devices < 1 || o.Devices > 10_000_000 {
		return nil, fmt.Errorf("demoworld: %d devices; want 1..10000000", o.Devices)
	}
	p := o.PKI
	if p == nil {
		if o.Now.IsZero() {
			return nil, errors.New("demoworld: no time")
		}
		if o.Suppliers < 2 {
			return nil, fmt.Errorf("demoworld: %d suppliers; want at least 2", o.Suppliers)
		}
		var err error
		p, err = testpki.Generate(testpki.Options{Now: o.Now.Add(-24 * time.Hour), Rand: o.Rand, Suppliers: o.Suppliers, Devices: min(o.Devices, 3)})
		if err != nil {
			return nil, err
		}
	}
	if len(p.Suppliers) < 2 {
		return nil, fmt.Errorf("demoworld: the PKI has %d suppliers; want at least 2", len(p.Suppliers))
	}
	w := &World{PKI: p, MPIDBySerial: map[string]string{}}
	for i, s := range p.Suppliers {
		n := i + 1
		w.Parties = append(w.Parties, store.Party{
			ID: PartyID(n), Name: fmt.Sprintf("Demo Supplier %d", n), State: store.PartyActive,
			Users: []store.User{{EUI: s.EUI, Role: store.RoleImportSupplier}}, MPIDs: []string{MPID(n)},
		})
		w.MPIDBySerial[s.XMLSign.Serial.Text(16)] = MPID(n)
	}
	from := p.Root.NotBefore
	for i := 1; i <= o.Devices; i++ {
		d := device.FleetEUI(i)
		w.Devices = append(w.Devices, store.Device{EUI: d, Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS})
		w.Registrations = append(w.Registrations, store.Registration{MPxN: MPAN(i), From: from, Supplier: PartyID(2), MPID: MPID(2), Device: d})
	}
	return w, nil
}

// PartyID is supplier n's SEC Party ID.
func PartyID(n int) string { return fmt.Sprintf("DEMO%d", n) }

// MPID is the MPID supplier n holds its registrations under.
func MPID(n int) string { return fmt.Sprintf("DMO%d", n) }

// MPAN is the MPAN core of device n (1-based): distributor 19, then n, then
// the check digit.
func MPAN(n int) string {
	body := fmt.Sprintf("19%010d", n)
	return body + string(mpxn.MPANCheckDigit(body))
}

// Device is the EUI-64 of device n (1-based).
func Device(n int) eui.EUI { return device.FleetEUI(n) }

// MPANOf is the MPAN registered for demo device d. For an EUI-64 that is
// not a demo device's it is MPAN(1): a valid MPAN, registered elsewhere,
// so the request is refused at the registration step, as it should be.
func MPANOf(d eui.EUI) string {
	if d[0] != 0xEE || d[1] != 0xC0 || d[2] != 0x5E || d[3] != 0xDE {
		return MPAN(1)
	}
	n := int(binary.BigEndian.Uint32(d[4:]))
	if n < 1 {
		return MPAN(1)
	}
	return MPAN(n)
}
