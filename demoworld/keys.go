package demoworld

import (
	"crypto/ecdsa"
	"sync"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// DeviceKeys knows the simulated fleet's device keys: the PKI's devices by
// certificate, the rest derived from the fleet's public seed, exactly as
// device.NewFleet makes them. It lets a CoS Party check the responses of
// devices that have no certificate (an `ecos devicesim` fleet of a million
// meters has three).
type DeviceKeys struct {
	world *World
	seed  []byte
	cache sync.Map // eui.EUI → *ecdsa.PublicKey
}

// DeviceKeys returns the keys of a fleet built from w's PKI with seed (nil:
// device.DefaultKeySeed).
func (w *World) DeviceKeys(seed []byte) *DeviceKeys {
	if seed == nil {
		seed = []byte(device.DefaultKeySeed)
	}
	return &DeviceKeys{world: w, seed: seed}
}

// DeviceKey implements pipeline.DeviceKeys.
func (k *DeviceKeys) DeviceKey(d eui.EUI) (*ecdsa.PublicKey, error) {
	if v, ok := k.cache.Load(d); ok {
		return v.(*ecdsa.PublicKey), nil
	}
	var pub *ecdsa.PublicKey
	for _, pd := range k.world.PKI.Devices {
		if pd.EUI == d {
			c, err := smki.Parse(pd.DS.Cert)
			if err != nil {
				return nil, err
			}
			pub = c.PublicKey
		}
	}
	if pub == nil {
		key, err := device.DeriveKey(k.seed, d)
		if err != nil {
			return nil, err
		}
		pub = &key.PublicKey
	}
	k.cache.Store(d, pub)
	return pub, nil
}
