package demoworld

import (
	"runtime"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/smki"
)

// TestDeviceKeys: the PKI's devices by certificate, the others as the
// fleet derives them; with the fleet's DerivedKeys, the very key a device
// has just derived, not a second derivation.
func TestDeviceKeys(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w, err := New(Options{Now: now, Devices: 5})
	if err != nil {
		t.Fatal(err)
	}
	keys := w.DeviceKeys(nil)
	cert, err := smki.Parse(w.PKI.Devices[0].DS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := keys.DeviceKey(Device(1)); err != nil || !pub.Equal(cert.PublicKey) {
		t.Errorf("PKI device: %v", err)
	}
	want, err := device.DeriveKey([]byte(device.DefaultKeySeed), Device(5))
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := keys.DeviceKey(Device(5)); err != nil || !pub.Equal(&want.PublicKey) {
		t.Errorf("generated device: %v", err)
	}

	f, err := device.NewFleet(device.FleetConfig{PKI: w.PKI, Devices: 5, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	shared := w.DeviceKeysFrom(f.Keys())
	fleetPub, ok := f.PublicKey(Device(5))
	if !ok {
		t.Fatal("no key from the fleet")
	}
	if pub, err := shared.DeviceKey(Device(5)); err != nil || pub != fleetPub {
		t.Errorf("shared keys: %p, the fleet's %p (%v): derived twice", pub, fleetPub, err)
	}
}

// TestDeviceKeysMemoryIsFlat asks for many distinct devices' keys: what
// DeviceKeys keeps must not grow with them (a million-device migration
// asks for a million).
func TestDeviceKeysMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("derives 40,000 keys")
	}
	w, err := New(Options{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	keys := w.DeviceKeys(nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 40_000
	for i := range n {
		if _, err := keys.DeviceKey(Device(100 + i)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d distinct device keys: heap grew %.1f MiB", n, float64(grown)/(1<<20))
	if grown > 5<<20 {
		t.Errorf("heap grew %.1f MiB for %d keys: DeviceKeys keeps every key", float64(grown)/(1<<20), n)
	}
	runtime.KeepAlive(keys)
}
