package custody

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/keywrap"
	"github.com/ecos-cos/ecos/smki"
)

// exportSetup makes a KEK in dir and the export ceremony of the ZAZ1 TCoS
// key under it, its outputs in dir/out.
func exportSetup(t *testing.T, dir string) (*ExportCeremony, *KEKNewResult) {
	t.Helper()
	v := testkit.VectorsDir(t)
	kek := newKEKInDir(t, dir, 3)
	c := &ExportCeremony{
		Name: "tcos-export", Key: filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), Cert: filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem"),
		KCV: kek.KEKKCVs[0].Value, KCVMethod: keywrap.KCVCMAC,
		Wrapped: filepath.Join(dir, "out", "tcos.wrapped"), Manifest: filepath.Join(dir, "out", "tcos.manifest.json"), Transcript: filepath.Join(dir, "out", "export.transcript"),
	}
	for i, f := range kek.Files {
		c.Components = append(c.Components, ComponentRef{File: f, KCV: kek.ComponentKCVs[i].Value})
	}
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	return c, kek
}

func readKEK(t *testing.T, files []string) []byte {
	t.Helper()
	var comps []*Component
	for _, f := range files {
		c, err := ReadComponentFile(f)
		if err != nil {
			t.Fatal(err)
		}
		comps = append(comps, c)
	}
	kek, err := Combine(comps)
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

// TestExportRoundTrip: the blob unwraps to the key's PKCS#8, which signs
// what the certificate verifies; the manifest describes blob and
// certificate; no clear key is written anywhere in the output directory.
func TestExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, kekRes := exportSetup(t, dir)
	res, err := Export(c, Source{}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(res.Wrapped)
	if err != nil {
		t.Fatal(err)
	}
	kek := readKEK(t, kekRes.Files)
	der, err := keywrap.UnwrapPad(kek, blob)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	key := k.(*ecdsa.PrivateKey)
	certs, err := smki.LoadFiles(c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("CS02b"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil || !ecdsa.VerifyASN1(certs[0].PublicKey, digest[:], sig) {
		t.Fatalf("the unwrapped key's signature does not verify with the certificate: %v", err)
	}
	orig, err := hsm.LoadFile(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !orig.Equal(key) {
		t.Error("the unwrapped key is not the exported one")
	}

	mj, err := os.ReadFile(res.ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(mj)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckWrapped(blob); err != nil {
		t.Error(err)
	}
	if err := m.CheckCertificate(certs[0]); err != nil {
		t.Error(err)
	}
	if m.CertificateSKI != "4B38EB47561D93E8" || m.WrappedFile != "tcos.wrapped" || m.Created != "2026-12-02T03:04:05Z" || !strings.Contains(m.CertificateSubject, "05") {
		t.Errorf("manifest %+v", m)
	}
	for _, meth := range Methods {
		if k, ok := m.KCV(meth); !ok || k != mustKCV(t, kek, meth) {
			t.Errorf("manifest KCV by %s: %v", meth, k)
		}
	}
	ecb, _ := keywrap.KCV(kek, keywrap.KCVECB)
	if err := m.CheckKEKCheckValue(ecb[:]); err != nil {
		t.Error(err)
	}
	if err := m.CheckKEKCheckValue(append(ecb[:], 0xFF, 0xFF)); err != nil {
		t.Errorf("a longer token check value: %v", err)
	}
	if err := m.CheckKEKCheckValue([]byte{1, 2, 3}); !errors.Is(err, ErrManifest) {
		t.Errorf("another KEK's check value: %v", err)
	}
	for _, f := range []string{res.Wrapped, res.ManifestFile} {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o444 {
			t.Errorf("%s has mode %v, want 0444", f, fi.Mode().Perm())
		}
	}
	tr, _ := os.ReadFile(res.Transcript)
	for _, want := range []string{"export ceremony from command-line flags", "component 1 of 3 of KEK \"kek-test\"", "KEK KCV " + kekRes.KEKKCVs[0].String(), "subject key identifier 4B38EB47561D93E8", "wrote " + res.Wrapped} {
		if !strings.Contains(string(tr), want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
	sec1, _ := x509.MarshalECPrivateKey(orig)
	testkit.NoClearKey(t, orig, dir)
	testkit.NoSecret(t, []string{filepath.Join(dir, "out")}, der, sec1, kek)
}

// TestExportRefuses: each refusal leaves no output but the transcript.
func TestExportRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(t *testing.T, c *ExportCeremony)
		target error
		want   string
	}{
		{"wrong component KCV", func(t *testing.T, c *ExportCeremony) { c.Components[1].KCV = "000000" }, ErrKCV, "component 2 has KCV"},
		{"wrong whole KCV", func(t *testing.T, c *ExportCeremony) { c.KCV = "000000" }, ErrKCV, "the combined KEK has KCV"},
		{"component edited by one hex digit", func(t *testing.T, c *ExportCeremony) {
			f := c.Components[2].File
			b, _ := os.ReadFile(f)
			os.Chmod(f, 0o600)
			os.WriteFile(f, flipDigit(b, 12), 0o600)
		}, ErrKCV, "line 6: key check value mismatch: component 3"},
		{"two of three components", func(t *testing.T, c *ExportCeremony) { c.Components = c.Components[:2] }, ErrComponents, "2 components given"},
		{"the file of another KEK's component", func(t *testing.T, c *ExportCeremony) {
			comps, _ := GenerateComponents(testRand(8), "kek-test", 3, 256, keywrap.KCVCMAC)
			c.Components[0].File = writeFile(t, t.TempDir(), "c.txt", string(FormatComponent(comps[0])))
		}, ErrKCV, "component 1 has KCV"},
		{"a component of another ceremony, with its KCV", func(t *testing.T, c *ExportCeremony) {
			comps, _ := GenerateComponents(testRand(8), "kek-other", 3, 256, keywrap.KCVCMAC)
			c.Components[0] = ComponentRef{File: writeFile(t, t.TempDir(), "c.txt", string(FormatComponent(comps[0]))), KCV: comps[0].KCV.Value}
		}, ErrComponents, `component 2 is from ceremony "kek-test", component 1 from "kek-other"`},
		{"mixed bit sizes", func(t *testing.T, c *ExportCeremony) {
			comps, _ := GenerateComponents(testRand(9), "kek-test", 3, 128, keywrap.KCVCMAC)
			f := writeFile(t, t.TempDir(), "c.txt", string(FormatComponent(comps[0])))
			c.Components[0] = ComponentRef{File: f, KCV: comps[0].KCV.Value}
		}, ErrComponents, "component 2 has 256 bits, component 1 has 128"},
		{"other method", func(t *testing.T, c *ExportCeremony) { c.KCVMethod = keywrap.KCVECB }, ErrKCV, "the ceremony's by aes-ecb-zero"},
		{"a key that is not the certificate's", func(t *testing.T, c *ExportCeremony) {
			c.Key = filepath.Join(filepath.Dir(c.Key), "Z1b-transitionalCoS-ds.key")
		}, ErrNotTheKey, "is not the one in"},
		{"a certificate that is not the key's", func(t *testing.T, c *ExportCeremony) {
			c.Cert = filepath.Join(filepath.Dir(c.Cert), "Z1-supplier-ds.pem")
		}, ErrNotTheKey, "is not the one in"},
		{"not a key", func(t *testing.T, c *ExportCeremony) {
			b, _ := os.ReadFile(c.Cert)
			c.Key = writeFile(t, t.TempDir(), "cert-as-key.pem", string(b))
		}, nil, "not a PKCS#8 or SEC 1 private key"},
		{"no directory for the blob", func(t *testing.T, c *ExportCeremony) {
			c.Wrapped = filepath.Join(filepath.Dir(c.Wrapped), "none", "w")
		}, nil, "the directory of output"},
		{"missing component file", func(t *testing.T, c *ExportCeremony) { c.Components[0].File += ".gone" }, nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, _ := exportSetup(t, dir)
			tc.edit(t, c)
			res, err := Export(c, Source{}, testEnv(nil))
			if res != nil || err == nil || (tc.target != nil && !errors.Is(err, tc.target)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want %v %q", err, tc.target, tc.want)
			}
			for _, f := range []string{c.Wrapped, c.Manifest} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%s was written", f)
				}
			}
			tr, err := os.ReadFile(c.Transcript)
			if before := strings.Contains(tc.want, "the directory of output"); before != (err != nil) {
				t.Errorf("refused before the first step: %v; transcript: %v", before, err)
			}
			if err == nil && !strings.Contains(string(tr), "REFUSED: ") {
				t.Errorf("the transcript does not record the refusal:\n%s", tr)
			}
		})
	}
}

// TestExportOutputsNeverOverwritten: any output that exists stops the
// ceremony before its first step, leaving that file as it was.
func TestExportOutputsNeverOverwritten(t *testing.T) {
	for _, which := range []string{"wrapped", "manifest", "transcript"} {
		t.Run(which, func(t *testing.T) {
			c, _ := exportSetup(t, t.TempDir())
			f := map[string]string{"wrapped": c.Wrapped, "manifest": c.Manifest, "transcript": c.Transcript}[which]
			if err := os.WriteFile(f, []byte("earlier"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Export(c, Source{}, testEnv(nil)); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), f) {
				t.Fatalf("got %v", err)
			}
			if b, _ := os.ReadFile(f); string(b) != "earlier" {
				t.Error("overwritten")
			}
			for _, g := range []string{c.Wrapped, c.Manifest, c.Transcript} {
				if _, err := os.Stat(g); g != f && err == nil {
					t.Errorf("%s was written", g)
				}
			}
		})
	}
}

func TestWriteNew(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteNew(p, []byte("a"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(p, []byte("b"), 0o400); !errors.Is(err, ErrExists) {
		t.Errorf("second write: %v", err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, []byte("a")) {
		t.Error("overwritten")
	}
}

// TestWrapKeyFileForms: the key may come as PKCS#8 or SEC 1, PEM or DER;
// what is wrapped is always its PKCS#8.
func TestWrapKeyFileForms(t *testing.T) {
	v := testkit.VectorsDir(t)
	key, err := hsm.LoadFile(filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := LoadCertificate(filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	sec1, _ := x509.MarshalECPrivateKey(key)
	_, kek := testComponents(t, 2, 256)
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"PKCS#8 DER": pkcs8,
		"PKCS#8 PEM": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"SEC 1 DER":  sec1,
		"SEC 1 PEM":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
	} {
		f := writeFile(t, dir, strings.ReplaceAll(name, " ", "_"), string(data))
		wrapped, err := WrapKeyFile(f, cert, kek, testRand(3))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		der, err := keywrap.UnwrapPad(kek, wrapped)
		if err != nil || !bytes.Equal(der, pkcs8) {
			t.Errorf("%s: unwraps to %x, %v; want the key's PKCS#8", name, der, err)
		}
	}
}
