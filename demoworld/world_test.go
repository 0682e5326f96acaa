package demoworld

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/xmldsig"
)

// TestRegistrationsMatchMPANOf: the MPAN a request carries by default is
// the one registered for its device, and every MPAN is valid.
func TestRegistrationsMatchMPANOf(t *testing.T) {
	w, err := New(Options{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Devices: 300})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range w.Registrations {
		if got := MPANOf(r.Device); got != r.MPxN {
			t.Fatalf("MPANOf(%s) = %s, registered %s", r.Device, got, r.MPxN)
		}
		if _, err := mpxn.Parse(r.MPxN); err != nil {
			t.Fatalf("%s: %v", r.MPxN, err)
		}
	}
	if got := MPANOf(eui.EUI{1, 2, 3, 4, 5, 6, 7, 8}); got != MPAN(1) {
		t.Errorf("MPANOf(foreign) = %s, want %s", got, MPAN(1))
	}
}

// TestSign: a signed request verifies with the supplier's XML-signing
// certificate and names its device's MPAN.
func TestSign(t *testing.T) {
	w, err := New(Options{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Devices: 3})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := w.Sign(Request{Supplier: 2, Device: Device(3), Counter: 9})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := smki.Parse(w.PKI.Suppliers[1].XMLSign.Cert)
	if err != nil {
		t.Fatal(err)
	}
	v, err := xmldsig.Verify(doc, smki.NewPool(cert))
	if err != nil {
		t.Fatal(err)
	}
	req, err := duis.DecodeRequest(v.Digested)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.UpdateSecurityCredentialsCoS.ImportMPxN; got != MPAN(3) {
		t.Errorf("ImportMPxN %s, want %s", got, MPAN(3))
	}
	if _, err := w.Sign(Request{Supplier: 9, Device: Device(1)}); err == nil {
		t.Error("signed as a supplier the world does not have")
	}
}
