package device

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/hexfile"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/smki"
)

// fuzzConfigs are the devices every fuzz input is tried on: a testpki ESME
// and, when the vectors are there, the RTDS ESME (so RTDS seeds reach the
// signature check on a device that trusts their signer).
func fuzzConfigs(f *testing.F) []Config {
	p := genPKI(f, pkiNow)
	cfg, err := ESMEConfig(p, 1, func() time.Time { return deviceNow })
	if err != nil {
		f.Fatal(err)
	}
	out := []Config{cfg}
	dir := testkit.OptionalVectorsDir()
	if dir == "" {
		return out
	}
	load := func(name string) *smki.Certificate {
		raw, err := os.ReadFile(filepath.Join(dir, "keys", name))
		if err != nil {
			f.Fatal(err)
		}
		blk, _ := pem.Decode(raw)
		if blk == nil {
			f.Fatalf("%s: no PEM", name)
		}
		c, err := smki.Parse(blk.Bytes)
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	return append(out, Config{EUI: rtdsDevice, DSKey: testDeviceKey(f), Now: func() time.Time { return rtdsClock },
		Anchors: []Anchor{
			{Cell: cellTransCoSDS.cell(), Cert: load("Z1-transitionalCoS-ds.pem")},
			{Cell: cellSupplierDS.cell(), Cert: load("90b3d51f30010000-ds.pem")},
			{Cell: cellSupplierKA.cell(), Cert: load("90b3d51f30010000-ka.pem")},
			{Cell: cellSupplierKATopUp.cell(), Cert: load("90b3d51f30010000-pp-ka.pem")},
		}})
}

// fuzzSeeds are generated commands of every kind the device handles, plus
// the RTDS command frames when the vectors are there.
func fuzzSeeds(f *testing.F) [][]byte {
	p := genPKI(f, pkiNow)
	dev := p.Devices[0].EUI
	at := deviceNow.Add(time.Hour)
	future := body623(p, 2)
	future.ExecutionDateTime = &at
	cancel := body623(p, 2)
	cancelAt := gbcs.CancellationTime()
	cancel.ExecutionDateTime = &cancelAt
	seeds := [][]byte{
		frame(f, p.TCoS, dev, cmd623(f, body623(p, 2), 1)),
		frame(f, p.TCoS, dev, cmd623(f, future, 2)),
		frame(f, p.TCoS, dev, cmd623(f, cancel, 3)),
		frame(f, p.TCoS, dev, migration(f, p, p.ECoS.Cert, 4)),
		cs02a(f, p.TCoS, gbcs.RoleTransitionalCoS, dev, 5, gbcs.RoleTransitionalCoS, gbcs.RoleSupplier),
	}
	if dir := testkit.OptionalVectorsDir(); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "gbcs", "*_COMMAND_GBCS.HEX"))
		for _, path := range paths {
			raw, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			b, err := hexfile.Decode(raw)
			if err != nil {
				f.Fatalf("%s: %v", path, err)
			}
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// FuzzHandle: whatever the bytes, Handle never panics; a refused command
// returns a nil result and a *RejectError and leaves the device exactly as
// it was; an accepted one yields a response that verifies with the device
// key and goes back to the command's originator, and the device can still
// Tick.
func FuzzHandle(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	configs := fuzzConfigs(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, cfg := range configs {
			d, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			before := snap(d)
			res, err := d.Handle(b)
			if err != nil {
				var re *RejectError
				if res != nil || !errors.As(err, &re) {
					t.Fatalf("error %v with result %+v", err, res)
				}
				if !reflect.DeepEqual(before, snap(d)) {
					t.Fatalf("refused command (%v) changed the device", err)
				}
				continue
			}
			m, perr := gbcs.ParseMessage(res.Response)
			if perr != nil {
				t.Fatalf("response does not parse: %v", perr)
			}
			if m.Verify(d.PublicKey()) != nil || m.Recipient != res.Originator || m.Counter != res.Counter {
				t.Fatalf("bad response %+v to %+v", m, res)
			}
			if _, err := d.Tick(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
