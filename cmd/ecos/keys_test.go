package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/keywrap"
	"github.com/ecos-cos/ecos/smki"
)

var (
	componentLine = regexp.MustCompile(`wrote component (\d) of 3 to (\S+): KCV ([0-9A-F]{6}) \(aes-cmac-zero\)`)
	kekLine       = regexp.MustCompile(`KEK KCV ([0-9A-F]{6}) \(aes-cmac-zero\)`)
)

// kekNew runs `ecos keys kek new` by flags into dir/components and returns
// the component files, their KCVs and the KEK's, read from its output as
// the custodians read them.
func kekNew(t *testing.T, dir string) (files, kcvs []string, kek string) {
	t.Helper()
	code, out, errs := ecos(t, "", "keys", "kek", "new", "--name", "kek-2026", "--components", "3", "--bits", "256",
		"--kcv-method", "aes-cmac-zero", "--out", filepath.Join(dir, "components"), "--transcript", filepath.Join(dir, "kek-new.transcript"))
	if code != 0 {
		t.Fatalf("kek new: exit %d: %s", code, errs)
	}
	for _, m := range componentLine.FindAllStringSubmatch(out, -1) {
		files = append(files, m[2])
		kcvs = append(kcvs, m[3])
	}
	m := kekLine.FindStringSubmatch(out)
	if len(files) != 3 || m == nil || !strings.Contains(out, "KEK KCV ") || !strings.Contains(out, "(aes-ecb-zero)") {
		t.Fatalf("kek new printed no KCVs for 3 components and the KEK by both methods:\n%s", out)
	}
	return files, kcvs, m[1]
}

// TestKeysKEKNewThenExport is the old side of the transfer end to end: a
// KEK ceremony by flags, then the export of the ZAZ1 TCoS key from a
// reviewed ceremony file. The blob unwraps, under the KEK the component
// files make, to a key that signs what the certificate verifies, and no
// clear key is written anywhere.
func TestKeysKEKNewThenExport(t *testing.T) {
	v := testkit.VectorsDir(t)
	dir := t.TempDir()
	files, kcvs, kek := kekNew(t, dir)
	keyFile, certFile := filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem")
	ceremony := `{
  "name": "tcos-export",
  "key": "` + keyFile + `",
  "cert": "` + certFile + `",
  "components": [
    {"file": "components/` + filepath.Base(files[0]) + `", "kcv": "` + kcvs[0] + `"},
    {"file": "components/` + filepath.Base(files[1]) + `", "kcv": "` + strings.ToLower(kcvs[1]) + `"},
    {"file": "components/` + filepath.Base(files[2]) + `", "kcv": "` + kcvs[2] + `"}
  ],
  "kcv": "` + kek + `",
  "kcv_method": "aes-cmac-zero",
  "wrapped": "out/tcos.wrapped",
  "manifest": "out/tcos.manifest.json",
  "transcript": "out/export.transcript"
}
`
	cfile := filepath.Join(dir, "export.json")
	if err := os.WriteFile(cfile, []byte(ceremony), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "out"), 0o700)
	code, out, errs := ecos(t, "", "keys", "export", "--ceremony", cfile)
	if code != 0 {
		t.Fatalf("export: exit %d: %s\n%s", code, errs, out)
	}
	sum := sha256.Sum256([]byte(ceremony))
	for _, want := range []string{"sha256 " + hex.EncodeToString(sum[:]), "certificate SKI: 4B38EB47561D93E8", "KEK KCV " + kek + " (aes-cmac-zero)", "(aes-ecb-zero)"} {
		if !strings.Contains(out, want) {
			t.Errorf("export output lacks %q:\n%s", want, out)
		}
	}

	var comps []*custody.Component
	for _, f := range files {
		c, err := custody.ReadComponentFile(f)
		if err != nil {
			t.Fatal(err)
		}
		comps = append(comps, c)
	}
	k, err := custody.Combine(comps)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(filepath.Join(dir, "out/tcos.wrapped"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := keywrap.UnwrapPad(k, blob)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := smki.LoadFiles(certFile)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("a CS02b"))
	sig, err := ecdsa.SignASN1(rand.Reader, parsed.(*ecdsa.PrivateKey), digest[:])
	if err != nil || !ecdsa.VerifyASN1(certs[0].PublicKey, digest[:], sig) {
		t.Fatalf("the exported key does not sign for its certificate: %v", err)
	}
	mj, err := os.ReadFile(filepath.Join(dir, "out/tcos.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := custody.ParseManifest(mj)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckWrapped(blob); err != nil {
		t.Error(err)
	}

	// No clear key, in any form, in any file the flow wrote; nor the KEK,
	// which exists only in memory.
	orig, err := hsm.LoadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	testkit.NoClearKey(t, orig, dir)
	testkit.NoSecret(t, []string{dir}, k)
}

// TestKeysRefusals: the CLI refuses with a sentence and its exit status,
// and writes no output.
func TestKeysRefusals(t *testing.T) {
	v := testkit.VectorsDir(t)
	dir := t.TempDir()
	files, kcvs, kek := kekNew(t, dir)
	exportArgs := func(out string, edit func([]string) []string) []string {
		args := []string{"keys", "export", "--key", filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), "--cert", filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem"),
			"--kcv", kek, "--out", filepath.Join(dir, out, "w"), "--transcript", filepath.Join(dir, out, "t")}
		for i, f := range files {
			args = append(args, "--component", f+"="+kcvs[i])
		}
		if edit != nil {
			args = edit(args)
		}
		os.Mkdir(filepath.Join(dir, out), 0o700)
		return args
	}
	replace := func(old, new string) func([]string) []string {
		return func(a []string) []string {
			for i := range a {
				a[i] = strings.Replace(a[i], old, new, 1)
			}
			return a
		}
	}
	cer := filepath.Join(dir, "kek.json")
	os.WriteFile(cer, []byte("{\n  \"name\": \"k\",\n  \"components\": 3,\n  \"components\": 2\n}\n"), 0o600)
	unknown := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknown, []byte(`{"name": "k", "component": 3, "bits": 256, "kcv_method": "aes-ecb-zero", "out_dir": "x"}`), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong component KCV", exportArgs("a", replace("="+kcvs[1], "=000000")), 1, "component 2 has KCV " + kcvs[1] + " (aes-cmac-zero), the ceremony expects 000000"},
		{"wrong KEK KCV", exportArgs("b", replace(kek, "000000")), 1, "the combined KEK has KCV " + kek},
		{"two components", exportArgs("c", func(a []string) []string { return a[:len(a)-2] }), 1, "2 components given, but component 1 of \"kek-2026\" says the KEK has 3"},
		{"not the certificate's key", exportArgs("d", replace("Z1-transitionalCoS-ds.key", "Z1b-transitionalCoS-ds.key")), 1, "the private key is not the certificate's"},
		{"component flag without KCV", exportArgs("e", replace("="+kcvs[0], "")), 2, "want FILE=KCV"},
		{"output exists", exportArgs("f", nil), 0, ""}, // made here, refused below
		{"ceremony and flags", []string{"keys", "kek", "new", "--ceremony", cer, "--bits", "128"}, 2, "--bits may not be given with it"},
		{"duplicate key", []string{"keys", "kek", "new", "--ceremony", cer}, 2, "ceremony " + cer + ": line 4, column 3: components: duplicate key"},
		{"unknown key", []string{"keys", "kek", "new", "--ceremony", unknown}, 2, `line 1, column 15: component: unknown key`},
		{"flags missing", []string{"keys", "kek", "new", "--bits", "100"}, 2, "name (--name): required"},
		{"kek dir holds a component", []string{"keys", "kek", "new", "--name", "kek-2026", "--out", filepath.Join(dir, "components"), "--transcript", filepath.Join(dir, "t2")}, 1, "kek-2026-component-1-of-3.txt exists: a ceremony never overwrites an output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := ecos(t, "", tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q\n%s", code, tc.code, errs, tc.want, out)
			}
			if code != 0 && strings.Contains(errs, "goroutine") {
				t.Error("a stack trace")
			}
		})
	}
	// The export "f" ran; a second run into the same outputs is refused
	// and leaves them as they were.
	before, _ := os.ReadFile(filepath.Join(dir, "f", "w"))
	code, _, errs := ecos(t, "", exportArgs("f", replace(filepath.Join(dir, "f", "t"), filepath.Join(dir, "f", "t2")))...)
	if code != 1 || !strings.Contains(errs, filepath.Join(dir, "f", "w")+" exists") {
		t.Errorf("second export: exit %d: %s", code, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "f", "w")); !bytes.Equal(before, after) || len(before) == 0 {
		t.Error("the first export's blob changed")
	}
	for _, out := range []string{"a", "b", "c", "d", "e"} {
		for _, f := range []string{"w", "w.manifest.json"} {
			if _, err := os.Stat(filepath.Join(dir, out, f)); err == nil {
				t.Errorf("refused export %s wrote %s", out, f)
			}
		}
	}
}
