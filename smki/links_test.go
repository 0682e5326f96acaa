package smki

import (
	"errors"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

func TestLinks(t *testing.T) {
	p := newTestPKI(t)
	spec := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature)
	leaf := spec.cert(t)
	forgedSpec := spec
	forgedSpec.signer = newKey(t) // same names and AKI, another key
	forged := forgedSpec.cert(t)

	l := NewLinks(0)
	for i := range 3 {
		if err := l.CheckSignatureFrom(leaf, p.ca); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	if l.Len() != 1 {
		t.Errorf("Len %d after one pair checked three times, want 1", l.Len())
	}
	// A good pair remembered must not vouch for a different child or parent.
	for i := range 2 {
		if err := l.CheckSignatureFrom(forged, p.ca); !errors.Is(err, BadSignature) {
			t.Errorf("forged child, round %d: %v, want BadSignature", i, err)
		}
		if err := l.CheckSignatureFrom(leaf, p.root); !errors.Is(err, BadSignature) {
			t.Errorf("leaf from the root, round %d: %v, want BadSignature", i, err)
		}
		if err := l.CheckSignatureFrom(p.ca, leaf); !errors.Is(err, NotCA) {
			t.Errorf("CA from the leaf, round %d: %v, want NotCA", i, err)
		}
	}
	if l.Len() != 1 {
		t.Errorf("Len %d: a failure was remembered", l.Len())
	}
	if err := l.CheckSignatureFrom(leaf, nil); !errors.Is(err, UnknownIssuer) {
		t.Errorf("nil parent: %v, want UnknownIssuer", err)
	}

	var none *Links
	if err := none.CheckSignatureFrom(leaf, p.ca); err != nil || none.Len() != 0 {
		t.Errorf("nil Links: %v, Len %d", err, none.Len())
	}
	if err := none.CheckSignatureFrom(forged, p.ca); !errors.Is(err, BadSignature) {
		t.Errorf("nil Links, forged: %v", err)
	}
}

func TestLinksBounded(t *testing.T) {
	p := newTestPKI(t)
	l := NewLinks(2)
	a := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature).cert(t)
	b := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010001"), KeyUsageDigitalSignature).cert(t)
	for _, pair := range [][2]*Certificate{{a, p.ca}, {b, p.ca}, {p.ca, p.root}} {
		if err := l.CheckSignatureFrom(pair[0], pair[1]); err != nil {
			t.Fatal(err)
		}
		if l.Len() > 2 {
			t.Fatalf("Len %d, max 2", l.Len())
		}
	}
	if l.Len() != 1 {
		t.Errorf("Len %d after overflowing a Links of 2, want 1 (it starts again)", l.Len())
	}
}

// TestVerifyWithLinks checks that remembering links changes no answer:
// expiry is still checked at each call's time, and a chain that verified
// once still fails without its intermediate.
func TestVerifyWithLinks(t *testing.T) {
	p := newTestPKI(t)
	leaf := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature).cert(t)
	l := NewLinks(0)
	opts := VerifyOptions{Roots: NewPool(p.root), Intermediates: NewPool(p.ca), Now: t2020, Links: l}
	for range 2 {
		chain, err := Verify(leaf, opts)
		wantChain(t, chain, err, leaf, p.ca, p.root)
	}
	if l.Len() != 2 {
		t.Errorf("Len %d, want 2 (leaf→CA, CA→root)", l.Len())
	}
	late := opts
	late.Now = t2035.AddDate(1, 0, 0)
	if _, err := Verify(leaf, late); !errors.Is(err, Expired) {
		t.Errorf("a year after notAfter: %v, want Expired", err)
	}
	noCA := opts
	noCA.Intermediates = nil
	chain, err := Verify(leaf, noCA)
	wantVerifyError(t, chain, err, UnknownIssuer, leaf)
}
