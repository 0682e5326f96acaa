package device

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

func TestNewValidatesConfig(t *testing.T) {
	p := genPKI(t, pkiNow)
	good, err := ESMEConfig(p, 1, newClock(deviceNow).Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	_, edKey, _ := ed25519.GenerateKey(nil)
	x25519, _ := ecdh.X25519().NewPrivateKey(make([]byte, 32))
	cases := map[string]func(*Config){
		"fail/no-clock":  func(c *Config) { c.Now = nil },
		"fail/no-eui":    func(c *Config) { c.EUI = eui.EUI{} },
		"fail/no-key":    func(c *Config) { c.DSKey = nil },
		"fail/ed25519":   func(c *Config) { c.DSKey = edKey },
		"fail/ka-curve":  func(c *Config) { c.KAKey = x25519 },
		"fail/same-cell": func(c *Config) { c.Anchors = append(c.Anchors, c.Anchors[0]) },
		"fail/role-mismatch": func(c *Config) {
			c.Anchors = append([]Anchor(nil), c.Anchors...)
			for i := range c.Anchors {
				if keyOf(c.Anchors[i].Cell) == cellTransCoSDS {
					c.Anchors[i].Cert = c.Anchors[1].Cert // a supplier certificate
				}
			}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			edit(&cfg)
			if d, err := New(cfg); err == nil {
				t.Fatalf("accepted: %v", d.EUI())
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	if d.EUI() != p.Devices[0].EUI || !d.PublicKey().Equal(&p.Devices[0].DS.Key.PublicKey) || string(d.Certificate()) != string(p.Devices[0].DS.Cert) {
		t.Error("identity accessors")
	}
	anchors := d.Anchors()
	if len(anchors) != 9 || keyOf(anchors[0].Cell) != cellRoot || keyOf(anchors[len(anchors)-1].Cell) != cellTransCoSDS {
		t.Errorf("anchors in device order: %v", anchors)
	}
	if _, ok := d.Anchor(gbcs.Cell{Role: gbcs.RoleWanProvider, KeyUsage: gbcs.KeyUsageDigitalSignature}); ok {
		t.Error("anchor in a cell the device lacks")
	}
	// A Cell that encodes management usage explicitly names the same cell.
	if _, ok := d.Anchor(gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageDigitalSignature, ExplicitUsage: true}); !ok {
		t.Error("explicit management usage not the same cell")
	}
	if d.Pending() != 0 || d.AlertCounter() != 0 || d.SeqNumber(gbcs.RoleSupplier) != 0 {
		t.Error("fresh device state")
	}
	if _, ok := d.NextDue(); ok {
		t.Error("NextDue with nothing held")
	}
}

func TestRejectError(t *testing.T) {
	cause := errors.New("cause")
	err := error(reject(BadSignature, cause, "cell %v", cellTransCoSDS))
	if !errors.Is(err, BadSignature) || errors.Is(err, Replay) || !errors.Is(err, cause) {
		t.Error("errors.Is through RejectError")
	}
	if got := err.Error(); !strings.Contains(got, "bad-signature") || !strings.Contains(got, "{transitionalCoS, digitalSignature}") || !strings.Contains(got, "cause") {
		t.Errorf("message %q", got)
	}
	for r := Malformed; r <= Injected; r++ {
		if strings.HasPrefix(r.String(), "Reason(") {
			t.Errorf("reason %d has no name", r)
		}
	}
	if Reason(200).String() != "Reason(200)" || FaultKind(9).String() != "FaultKind(9)" || FaultPartial.String() != "partial" {
		t.Error("fallback names")
	}
}

func TestDeriveKeyDeterministic(t *testing.T) {
	a, err := DeriveKey([]byte("s"), FleetEUI(7))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DeriveKey([]byte("s"), FleetEUI(7))
	c, _ := DeriveKey([]byte("s"), FleetEUI(8))
	e, _ := DeriveKey([]byte("t"), FleetEUI(7))
	if !a.Equal(b) || a.Equal(c) || a.Equal(e) {
		t.Error("DeriveKey is not a function of (seed, EUI-64)")
	}
}
