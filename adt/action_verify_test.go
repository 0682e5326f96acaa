package adt

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"pgregory.net/rapid"
)

// goodActions is a valid action file of user with two rows.
func goodActions(user eui.EUI) *ActionFile {
	return &ActionFile{User: user, Rows: []ActionRow{{Ref: 42, Action: Release}, {Ref: 1<<64 - 1, Action: Delete}}}
}

func TestVerifyAction(t *testing.T) {
	fx := newFixture(t)
	s1, s2 := fx.pki.Suppliers[0], fx.pki.Suppliers[1]
	body := func(crlf bool) []byte {
		f := goodActions(s1.EUI)
		f.CRLF = crlf
		return f.AppendBody(nil)
	}
	for _, tc := range []struct {
		name string
		file func(t *testing.T) []byte
		kind error  // nil: verifies
		msg  string // in the error
	}{
		{"ok/LF", func(t *testing.T) []byte { return sign(t, s1.FileSigning, body(false)) }, nil, ""},
		{"ok/CRLF", func(t *testing.T) []byte { return sign(t, s1.FileSigning, body(true)) }, nil, ""},
		{"fail/other-users-certificate", func(t *testing.T) []byte { return sign(t, s2.FileSigning, body(false)) }, ErrSigner, "not to the file's User"},
		{"fail/not-IKI-issued", func(t *testing.T) []byte { return sign(t, s1.DS, body(false)) }, ErrSigner, "does not chain to the IKI"},
		{"fail/xml-signing-cert", func(t *testing.T) []byte { return sign(t, s1.XMLSign, body(false)) }, ErrSigner, "XML signing"},
		{"fail/release-turned-delete", func(t *testing.T) []byte {
			return bytes.Replace(sign(t, s1.FileSigning, body(false)), []byte("42,Release"), []byte("42,Delete"), 1)
		}, ErrSignature, "does not verify"},
		{"fail/ref-changed", func(t *testing.T) []byte {
			return bytes.Replace(sign(t, s1.FileSigning, body(false)), []byte("42,"), []byte("43,"), 1)
		}, ErrSignature, "does not verify"},
		{"fail/action-case-changed", func(t *testing.T) []byte {
			return bytes.Replace(sign(t, s1.FileSigning, body(false)), []byte("Release"), []byte("release"), 1)
		}, ErrSignature, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseAction(tc.file(t))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := VerifyAction(f, fx.certs, VerifyOptions{IKI: fx.iki, Now: verifyNow})
			checkVerdict(t, cert, err, s1.FileSigning.Cert, tc.kind, tc.msg, f.SignatureLine)
		})
	}
}

// checkVerdict wants cert to be the certificate want when kind is nil, and
// otherwise err to be a single problem of that kind on the signature line.
func checkVerdict(t *testing.T, cert *smki.Certificate, err error, want []byte, kind error, msg string, sigLine int) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Fatal(err)
	case kind == nil && !bytes.Equal(cert.Raw, want):
		t.Errorf("verified with %s, not the signer's certificate", cert)
	case kind == nil:
	case !errors.Is(err, kind) || !strings.Contains(err.Error(), msg):
		t.Errorf("error = %v; want %v mentioning %q", err, kind, msg)
	default:
		if got := problemLines(t, err); len(got) != 1 || got[0] != sigLine {
			t.Errorf("problem lines = %v, want the signature line %d", got, sigLine)
		}
	}
}

// TestActionSignatureIsNotThresholds: the two kinds share the signature
// line, but an action file's signed bytes do not parse as an ADT file, so
// one cannot be passed off as the other.
func TestActionSignatureIsNotThresholds(t *testing.T) {
	fx := newFixture(t)
	s1 := fx.pki.Suppliers[0]
	signed := sign(t, s1.FileSigning, goodActions(s1.EUI).AppendBody(nil))
	if _, err := Read(signed, ValidateOptions{AllowLegacy: true}); err == nil {
		t.Error("a signed action file reads as an ADT file")
	}
	signedADT := sign(t, s1.FileSigning, goodFile(s1.EUI, 1).AppendBody(nil))
	if _, err := ParseAction(signedADT); err == nil {
		t.Error("a signed ADT file parses as an action file")
	}
}

// TestPropertyActionRoundTrip: any valid action file, signed, parses back
// to the same rows, verifies, marshals to the same bytes, and stops
// verifying when any one byte of the signed part changes.
func TestPropertyActionRoundTrip(t *testing.T) {
	fx := newFixture(t)
	s1 := fx.pki.Suppliers[0]
	cert := parseCert(t, s1.FileSigning)
	rapid.Check(t, func(rt *rapid.T) {
		f := &ActionFile{User: s1.EUI, CRLF: rapid.Bool().Draw(rt, "crlf")}
		refs := rapid.SliceOfNDistinct(rapid.Uint64Min(1), 1, 30, func(r uint64) uint64 { return r }).Draw(rt, "refs")
		for i, ref := range refs {
			r := ActionRow{Ref: ref, Action: rapid.SampledFrom([]Action{Release, Delete}).Draw(rt, "action"), Line: i + 2}
			if rapid.Bool().Draw(rt, "lower-case") {
				r.Spelling = strings.ToLower(r.Action.String())
			}
			f.Rows = append(f.Rows, r)
		}
		body := f.AppendBody(nil)
		signed, err := Sign(body, s1.FileSigning.Key, cert, nil)
		if err != nil {
			rt.Fatal(err)
		}
		if rapid.Bool().Draw(rt, "trim-final-newline") {
			signed = bytes.TrimRight(signed, "\r\n")
		}
		g, err := ParseAction(signed)
		if err != nil {
			rt.Fatalf("ParseAction: %v\n%q", err, signed)
		}
		if g.User != f.User || g.CRLF != f.CRLF || len(g.Rows) != len(f.Rows) {
			rt.Fatalf("parsed back %+v, want %+v", g, f)
		}
		for i := range g.Rows {
			if g.Rows[i] != f.Rows[i] {
				rt.Fatalf("row %d = %+v, want %+v", i, g.Rows[i], f.Rows[i])
			}
		}
		if !bytes.Equal(g.Signed, body) || !bytes.Equal(g.Marshal(), signed) {
			rt.Fatalf("signed part or Marshal differs from what was signed")
		}
		o := VerifyOptions{IKI: fx.iki, Now: verifyNow}
		if _, err := VerifyAction(g, fx.certs, o); err != nil {
			rt.Fatal(err)
		}

		// Any one changed byte before the signature line breaks the file.
		i := rapid.IntRange(0, len(body)-1).Draw(rt, "flip")
		bad := bytes.Clone(signed)
		bad[i] ^= byte(rapid.IntRange(1, 255).Draw(rt, "xor"))
		if h, err := ParseAction(bad); err == nil {
			if _, err := VerifyAction(h, fx.certs, o); err == nil {
				rt.Fatalf("changed byte %d still verifies:\n%q", i, bad)
			}
		}
	})
}
