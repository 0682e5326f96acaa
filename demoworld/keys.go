package demoworld

import (
	"crypto/ecdsa"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// DeviceKeys knows the simulated fleet's device keys: the PKI's devices by
// certificate, the rest derived from the fleet's public seed, exactly as
// device.NewFleet makes them. It lets a CoS Party check the responses of
// devices that have no certificate (an `ecos devicesim` fleet of a million
// meters has three).
//
// Its memory does not grow with the devices asked about: the PKI's keys
// are parsed once, and derived keys live in a device.DerivedKeys, which
// keeps only the most recent. A derived key costs a scalar multiplication
// (~15 µs) the first time; DeviceKeysFrom a fleet's own DerivedKeys makes
// it a lookup for a device that has just signed a response, which is what
// a CoS Party looks keys up for.
type DeviceKeys struct {
	pki     map[eui.EUI]pkiKey
	derived *device.DerivedKeys
}

type pkiKey struct {
	pub *ecdsa.PublicKey
	err error
}

// DeviceKeys returns the keys of a fleet built from w's PKI with seed (nil:
// device.DefaultKeySeed).
func (w *World) DeviceKeys(seed []byte) *DeviceKeys {
	if seed == nil {
		seed = []byte(device.DefaultKeySeed)
	}
	return w.DeviceKeysFrom(device.NewDerivedKeys(seed))
}

// DeviceKeysFrom returns the keys of a fleet built from w's PKI whose
// generated devices' keys come from derived, typically the fleet's own
// (device.Fleet.Keys) when the fleet runs in the CoS Party's process.
func (w *World) DeviceKeysFrom(derived *device.DerivedKeys) *DeviceKeys {
	k := &DeviceKeys{pki: make(map[eui.EUI]pkiKey, len(w.PKI.Devices)), derived: derived}
	for _, pd := range w.PKI.Devices {
		c, err := smki.Parse(pd.DS.Cert)
		if err != nil {
			k.pki[pd.EUI] = pkiKey{err: err}
			continue
		}
		k.pki[pd.EUI] = pkiKey{pub: c.PublicKey}
	}
	return k
}

// DeviceKey implements pipeline.DeviceKeys.
func (k *DeviceKeys) DeviceKey(d eui.EUI) (*ecdsa.PublicKey, error) {
	if pk, ok := k.pki[d]; ok {
		return pk.pub, pk.err
	}
	return k.derived.PublicKey(d)
}
