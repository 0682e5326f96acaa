package devicesim

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/testpki"
)

// TestSimSharesDerivedKeys: with the fleet in the process, the party's key
// lookup finds the very key the device derived (no second scalar
// multiplication per device), and a fleet of a million costs nothing
// until commanded.
func TestSimSharesDerivedKeys(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p, err := testpki.Generate(testpki.Options{Now: now.Add(-time.Hour), Suppliers: 2, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/pki"
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	s, err := ForConfig(config.Devices{Gateway: config.GatewaySim, PKI: dir, Simulated: 1_000_000}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	id := device.FleetEUI(999_999)
	devicePub, ok := s.Fleet().PublicKey(id)
	if !ok {
		t.Fatal("no such device")
	}
	partyPub, err := s.DeviceKey(id)
	if err != nil || partyPub != devicePub {
		t.Errorf("party's key %p, the device's %p (%v): derived twice", partyPub, devicePub, err)
	}

	s, err = ForConfig(config.Devices{Gateway: config.GatewayHTTP, PKI: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := device.DeriveKey([]byte(device.DefaultKeySeed), id)
	if pub, err := s.DeviceKey(id); err != nil || !pub.Equal(&want.PublicKey) {
		t.Errorf("HTTP gateway: %v", err)
	}
}
