package smki

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/eui"
)

// FuzzParse is seeded with generated certificates of every kind and, when
// $ECOS_VECTORS_DIR is set, with every vector certificate.
func FuzzParse(f *testing.F) {
	p := newTestPKI(f)
	f.Add(p.root.Raw)
	f.Add(p.ca.Raw)
	f.Add(p.orgSpec(f, "05", eui.MustParse("90B3D51F30000004"), KeyUsageDigitalSignature).der(f))
	f.Add(p.deviceSpec(f, eui.MustParse("00DB1234567890A0"), KeyUsageKeyAgreement).der(f))
	if dir := os.Getenv("ECOS_VECTORS_DIR"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "keys", "*.pem"))
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			if blk, _ := pem.Decode(data); blk != nil {
				f.Add(blk.Bytes)
			}
		}
		if data, err := os.ReadFile(filepath.Join(dir, "keys", "keystore.json")); err == nil {
			entries, err := ParseKeystore(data)
			if err != nil {
				f.Fatal(err)
			}
			for _, e := range entries {
				f.Add(e.Certificate.Raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := Parse(der)
		if err != nil {
			if c != nil {
				t.Fatal("non-nil certificate with an error")
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Fatalf("error %T is not *ParseError", err)
			}
			return
		}
		if !bytes.Equal(c.Raw, der) {
			t.Fatal("Raw differs from the input")
		}
		for _, n := range []Name{c.Issuer, c.Subject} {
			back, err := ParseName(n.String())
			if err != nil || !back.Equal(n) {
				t.Fatalf("name %q does not round-trip: %v", n.String(), err)
			}
		}
		for _, v := range Violations(c.CheckProfile()) {
			if v.Field == "" || v.Reason == "" {
				t.Fatalf("empty violation %+v", v)
			}
		}
		_ = c.String()
		_ = c.IsSelfSigned()
		// Anchored on itself, at its own notBefore: must not panic.
		_, _ = Verify(c, VerifyOptions{Roots: NewPool(c), Now: c.NotBefore})
		_, _ = Verify(c, VerifyOptions{Roots: NewPool(p.root), Intermediates: NewPool(c, p.ca), SkipTime: true})
	})
}
