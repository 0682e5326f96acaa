package pipeline

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// DeviceCertificates finds device keys in a pool of SMKI device
// certificates: the newest digital-signing certificate of the device.
type DeviceCertificates struct {
	Pool *smki.Pool
}

// DeviceKey implements DeviceKeys.
func (d DeviceCertificates) DeviceKey(device eui.EUI) (*ecdsa.PublicKey, error) {
	for _, c := range d.Pool.FindByEUI(device, smki.RoleNone, smki.KeyUsageDigitalSignature) {
		if c.Kind == smki.Device {
			return c.PublicKey, nil
		}
	}
	return nil, fmt.Errorf("no digital-signing certificate for device %s", device)
}
