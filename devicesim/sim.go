package devicesim

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// Sim is the simulated meters a demo or test configuration names: the
// keys of the test PKI in devices.pki, and with devices.gateway "sim" a
// fleet of devices.simulated meters in this process. It is what
// `ecos serve` and the tests plug into the service (service.Simulator);
// the service itself holds none.
type Sim struct {
	keys  *demoworld.DeviceKeys // nil without devices.pki
	fleet *InProcess            // nil unless the gateway is "sim"
}

// ForConfig makes the simulated meters d names; now is the service's
// clock (nil: time.Now). A configuration that names none gets a Sim that
// the service never asks.
func ForConfig(d config.Devices, now func() time.Time) (*Sim, error) {
	if now == nil {
		now = time.Now
	}
	s := &Sim{}
	var p *testpki.PKI
	if d.PKI != "" {
		var err error
		if p, err = testpki.LoadDir(d.PKI); err != nil {
			return nil, fmt.Errorf("devices.pki: %w", err)
		}
	}
	var derived *device.DerivedKeys // the fleet's, when it runs here
	if d.Gateway != config.GatewayHTTP {
		if p == nil {
			return nil, errors.New("devices.pki: the simulated fleet needs a test PKI (`ecos pki init DIR`)")
		}
		faults, err := Faults(d.Faults)
		if err != nil {
			return nil, err
		}
		var anchor *smki.Certificate
		if d.TCoSAnchor != "" {
			certs, err := smki.LoadFiles(d.TCoSAnchor)
			if err != nil {
				return nil, fmt.Errorf("devices.tcos_anchor: %w", err)
			}
			if len(certs) != 1 || certs[0].Role != smki.RoleTransitionalCoS || certs[0].KeyUsage != smki.KeyUsageDigitalSignature {
				return nil, fmt.Errorf("devices.tcos_anchor: %s is not one transitionalCoS digital-signature certificate", d.TCoSAnchor)
			}
			anchor = certs[0]
		}
		f, err := device.NewFleet(device.FleetConfig{PKI: p, Devices: d.Simulated, Now: now, Faults: faults, TCoSAnchor: anchor})
		if err != nil {
			return nil, err
		}
		s.fleet, derived = NewInProcess(f), f.Keys()
	}
	if p != nil {
		w, err := demoworld.New(demoworld.Options{PKI: p, Devices: 1})
		if err != nil {
			return nil, err
		}
		// Sharing the fleet's derived keys means the party verifies a
		// response with the key its device has just derived, instead of
		// deriving it again (a scalar multiplication per device).
		if derived != nil {
			s.keys = w.DeviceKeysFrom(derived)
		} else {
			s.keys = w.DeviceKeys(nil)
		}
	}
	return s, nil
}

var errNoFleet = errors.New("devicesim: no simulated fleet: devices.gateway is not \"sim\"")

// Send hands frame to the in-process fleet.
func (s *Sim) Send(ctx context.Context, frame []byte) (*dispatch.Reply, error) {
	if s.fleet == nil {
		return nil, errNoFleet
	}
	return s.fleet.Send(ctx, frame)
}

// Alerts returns the in-process fleet's alerts since the last call.
func (s *Sim) Alerts(ctx context.Context) ([][]byte, error) {
	if s.fleet == nil {
		return nil, nil
	}
	return s.fleet.Alerts(ctx)
}

// Tick runs the in-process fleet's future-dated commands due at now.
func (s *Sim) Tick(now time.Time) error {
	if s.fleet == nil {
		return nil
	}
	return s.fleet.Tick(now)
}

// DeviceKey is a simulated meter's key, from the test PKI.
func (s *Sim) DeviceKey(d eui.EUI) (*ecdsa.PublicKey, error) {
	if s.keys == nil {
		return nil, errors.New("devicesim: no test PKI (devices.pki) to find device keys in")
	}
	return s.keys.DeviceKey(d)
}

// Fleet is the in-process fleet, or nil when the gateway is HTTP.
func (s *Sim) Fleet() *device.Fleet {
	if s.fleet == nil {
		return nil
	}
	return s.fleet.Devices()
}
