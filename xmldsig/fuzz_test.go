package xmldsig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/smki"
)

// FuzzVerify: Verify never panics; on error it returns no *Verified and an
// *Error with a known reason; on success Digested is non-empty canonical
// XML (canonicalising it again changes nothing) and verifying again gives
// the same result. Seeds: our signed documents, a few hostile ones, and
// the DCC vectors when $ECOS_VECTORS_DIR is set (with their certificates
// in the store, so the fuzzer starts from valid signatures).
func FuzzVerify(f *testing.F) {
	fx := testFixture(f)
	certs := fx.pool.Certificates()
	signed := signWith(f, fx.signer, fx.request)
	for _, s := range []string{
		signed,
		signWith(f, fx.signer, compact(fx.request)),
		signWith(f, fx.other, `<r xmlns="urn:r"><a x="1">&amp;<!-- c --></a></r>`),
		signWith(f, fx.signer, `<p:r xmlns:p="urn:p"/>`),
		`<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`,
		`<?xml version="1.0"?><?pi x?><r/>`,
		"",
	} {
		f.Add([]byte(s))
	}
	if dir := testkit.OptionalVectorsDir(); dir != "" {
		docs, _ := filepath.Glob(filepath.Join(dir, "duis", "*"))
		for _, p := range docs {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		if pool, err := smki.LoadPEMDir(filepath.Join(dir, "keys")); err == nil {
			certs = append(certs, pool.Certificates()...)
		}
	}
	pool := smki.NewPool(certs...)

	f.Fuzz(func(t *testing.T, doc []byte) {
		v, err := Verify(doc, pool)
		if err != nil {
			if v != nil {
				t.Fatalf("*Verified with error %v", err)
			}
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Reason < Malformed || e.Reason > BadSignature || e.Detail == "" {
				t.Fatalf("error %#v is not a known *Error", err)
			}
			return
		}
		if len(v.Digested) == 0 || v.Signer == nil || len(v.SignatureValue) != 64 || len(v.SignedInfo) == 0 {
			t.Fatalf("incomplete result %+v", v)
		}
		again, err := Verify(doc, pool)
		if err != nil || !bytes.Equal(again.Digested, v.Digested) || again.Signer != v.Signer {
			t.Fatalf("second verification differs: %v", err)
		}
		d, err := parse(v.Digested, newLimits(nil))
		if err != nil {
			t.Fatalf("Digested does not parse: %v\n%s", err, v.Digested)
		}
		if c, err := canonicalDocument(d.root); err != nil || !bytes.Equal(c, v.Digested) {
			t.Fatalf("Digested is not a canonical fixpoint:\n%s\n%s", v.Digested, c)
		}
	})
}

// FuzzSignWithoutSelfCheck: whatever Sign accepts without reading its
// output back, Verify accepts, with the input's canonical form digested.
func FuzzSignWithoutSelfCheck(f *testing.F) {
	fx := testFixture(f)
	for _, s := range []string{
		fx.request,
		compact(fx.request),
		`<r xmlns="urn:r"><a x="1">&amp;<!-- c --></a></r>`,
		`<p:r xmlns:p="urn:p"/>`,
		`<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature/></r>`,
		`<?xml version="1.0"?><r a="&#9;"/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		signed, err := Sign(doc, fx.signer.key, fx.signer.cert, nil, WithoutSelfCheck())
		if err != nil {
			return
		}
		if _, err := Verify(signed, fx.pool, WithMaxSize(len(signed))); err != nil {
			t.Fatalf("Sign accepted %q but Verify refuses the result: %v\n%s", doc, err, signed)
		}
	})
}
