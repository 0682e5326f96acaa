package testpki

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func writeTestDir(t *testing.T, p *PKI) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteLoadRoundTrip(t *testing.T) {
	p := generate(t, Options{Suppliers: 3, Devices: 5})
	dir := writeTestDir(t, p)

	// Exactly the promised files, with private keys readable by owner only.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o644)
		if strings.HasSuffix(e.Name(), ".key") {
			want = 0o600
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", e.Name(), info.Mode().Perm(), want)
		}
	}
	var want []string
	for _, c := range p.Credentials() {
		want = append(want, c.Name+".key", c.Name+".pem")
	}
	want = append(want, manifestFile)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("files %v\nwant %v", names, want)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v; want 0700", info.Mode().Perm(), err)
	}

	q, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := []cmp.Option{
		cmp.AllowUnexported(PKI{}),
		cmp.Comparer(func(a, b *Credential) bool { return credentialsEqual(a, b) }),
		cmpopts.IgnoreFields(PKI{}, "byName"),
	}
	if diff := cmp.Diff(p, q, opts...); diff != "" {
		t.Errorf("LoadDir(WriteDir(p)) != p:\n%s", diff)
	}
}

func credentialsEqual(a, b *Credential) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && a.Profile == b.Profile && a.Role == b.Role && a.Usage == b.Usage &&
		a.EUI == b.EUI && bytes.Equal(a.Cert, b.Cert) && a.Key.Equal(b.Key) &&
		a.Serial.Cmp(b.Serial) == 0 && bytes.Equal(a.SKI, b.SKI) &&
		a.NotBefore.Equal(b.NotBefore) && a.NotAfter.Equal(b.NotAfter) &&
		a.Subject == b.Subject && a.Issuer == b.Issuer && a.IssuerName == b.IssuerName
}

func TestManifestContents(t *testing.T) {
	p := generate(t, Options{})
	dir := writeTestDir(t, p)
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Credentials []map[string]any `json:"credentials"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, e := range m.Credentials {
		byName[e["name"].(string)] = e
	}
	s := byName["supplier1-ka-topup"]
	c := p.Suppliers[0].KATopUp
	for k, want := range map[string]any{
		"cert_file": "supplier1-ka-topup.pem", "key_file": "supplier1-ka-topup.key", "profile": "organisation",
		"role": float64(2), "role_name": "supplier", "eui": "EE-C0-5E-00-01-00-00-01", "key_usage": "keyAgreement",
		"serial": c.Serial.String(), "serial_hex": strings.ToUpper(hex.EncodeToString(c.Serial.Bytes())), "ski": strings.ToUpper(hex.EncodeToString(c.SKI)),
		"not_before": "2026-03-01T00:00:00Z", "not_after": "2036-02-29T23:59:59Z",
		"subject": "2.5.4.45=#030900eec05e0001000001,OU=02", "issuer": "CN=T1,OU=07", "issuer_name": "org-ca",
	} {
		if s[k] != want {
			t.Errorf("supplier1-ka-topup %s = %v, want %v", k, s[k], want)
		}
	}
	d := byName["device-0001-ds"]
	if _, ok := d["role"]; ok {
		t.Errorf("device entry has a role: %v", d["role"])
	}
	if d["not_after"] != "9999-12-31T23:59:59Z" || d["profile"] != "device" {
		t.Errorf("device entry %v", d)
	}
	if r := byName["root-ca"]; r["role"] != float64(0) || r["role_name"] != "root" {
		t.Errorf("root entry role %v %v", r["role"], r["role_name"])
	}
	if f := byName["iki-file-signing-ca"]; f["subject"] != "CN=IKI File Signing CA,OU=issuingAuthority,O=DCC" {
		t.Errorf("IKI CA subject %v", f["subject"])
	}
}

// leftovers lists what WriteDir left beside dir other than dir itself.
func leftovers(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != filepath.Base(dir) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteDirRefusesNonEmpty(t *testing.T) {
	p := generate(t, Options{})
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteDir(dir); !errors.Is(err, ErrDirNotEmpty) {
		t.Fatalf("WriteDir into non-empty dir: %v, want ErrDirNotEmpty", err)
	}
	// Overwrite still refuses a directory that is not a test PKI.
	if err := p.WriteDirWith(dir, WriteOptions{Overwrite: true}); err == nil || !strings.Contains(err.Error(), "does not hold a test PKI") {
		t.Fatalf("Overwrite of a foreign dir: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "precious.txt")); err != nil || string(b) != "keep me" {
		t.Fatalf("existing file disturbed: %q, %v", b, err)
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Errorf("left behind %v", l)
	}
	// A file where the directory should be is refused too.
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteDir(file); err == nil {
		t.Fatal("WriteDir over a file succeeded")
	}
}

func TestWriteDirIntoEmptyAndNested(t *testing.T) {
	p := generate(t, Options{})
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteDir(empty); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(t.TempDir(), "a", "b", "pki")
	if err := p.WriteDir(nested); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{empty, nested} {
		if _, err := LoadDir(d); err != nil {
			t.Errorf("LoadDir(%s): %v", d, err)
		}
		if l := leftovers(t, d); len(l) != 0 {
			t.Errorf("left behind %v", l)
		}
	}
}

func TestWriteDirOverwrite(t *testing.T) {
	old := generate(t, Options{Rand: seeded(1)})
	dir := writeTestDir(t, old)
	fresh := generate(t, Options{Rand: seeded(2), Suppliers: 1, Devices: 1})
	if err := fresh.WriteDir(dir); !errors.Is(err, ErrDirNotEmpty) {
		t.Fatalf("WriteDir over a PKI without Overwrite: %v", err)
	}
	if err := fresh.WriteDirWith(dir, WriteOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, got) != digest(t, fresh) {
		t.Error("overwritten directory does not hold the new PKI")
	}
	// The old PKI's extra files (supplier2, devices 2-4) are gone, not merged.
	if _, err := os.Stat(filepath.Join(dir, "supplier2-ds.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale file survived overwrite: %v", err)
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Errorf("left behind %v", l)
	}
}

func TestLoadDirRejectsInconsistentDirs(t *testing.T) {
	p := generate(t, Options{})
	edit := func(t *testing.T, dir, file string, f func([]byte) []byte) {
		path := filepath.Join(dir, file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(t *testing.T, dir, from, to string) {
		edit(t, dir, to, func([]byte) []byte {
			b, err := os.ReadFile(filepath.Join(dir, from))
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
	}
	replaceIn := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
	}
	c := p.Suppliers[0].DS
	for _, tc := range []struct {
		name   string
		mangle func(t *testing.T, dir string)
		want   string
	}{
		{"swapped-key", func(t *testing.T, dir string) { copyFile(t, dir, "supplier1-ka.key", "supplier1-ds.key") }, "key does not match"},
		{"swapped-cert", func(t *testing.T, dir string) {
			copyFile(t, dir, "supplier2-ds.pem", "supplier1-ds.pem")
			copyFile(t, dir, "supplier2-ds.key", "supplier1-ds.key")
		}, "manifest disagrees"},
		{"wrong-eui", func(t *testing.T, dir string) {
			edit(t, dir, manifestFile, replaceIn(`"eui": "EE-C0-5E-00-01-00-00-01"`, `"eui": "EE-C0-5E-00-01-00-00-09"`))
		}, "does not carry"},
		{"wrong-usage", func(t *testing.T, dir string) {
			edit(t, dir, manifestFile, replaceIn(`"key_usage": "keyAgreement"`, `"key_usage": "digitalSignature"`))
		}, "key usage"},
		{"wrong-serial", func(t *testing.T, dir string) { edit(t, dir, manifestFile, replaceIn(c.Serial.String(), "12345")) }, "serial"},
		{"wrong-issuer", func(t *testing.T, dir string) {
			edit(t, dir, manifestFile, replaceIn(`"issuer_name": "org-ca"`, `"issuer_name": "device-ca"`))
		}, "issuer name"},
		{"path-escape", func(t *testing.T, dir string) {
			edit(t, dir, manifestFile, replaceIn(`"name": "acb-ds"`, `"name": "../acb-ds"`))
		}, "invalid credential name"},
		{"unknown-field", func(t *testing.T, dir string) {
			edit(t, dir, manifestFile, replaceIn(`"format"`, `"extra": 1, "format"`))
		}, "unknown field"},
		{"wrong-format", func(t *testing.T, dir string) { edit(t, dir, manifestFile, replaceIn(manifestFormat, "other/1")) }, "format"},
		{"missing-credential", func(t *testing.T, dir string) {
			edit(t, dir, manifestFile, func(b []byte) []byte {
				var m manifest
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				m.Credentials = slices.DeleteFunc(m.Credentials, func(e manifestEntry) bool { return e.Name == "ecos-ds" })
				out, _ := json.Marshal(m)
				return out
			})
		}, "missing ecos-ds"},
		{"missing-file", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "device-0002-ka.pem")); err != nil {
				t.Fatal(err)
			}
		}, "device-0002-ka.pem"},
		{"no-manifest", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, manifestFile)); err != nil {
				t.Fatal(err)
			}
		}, manifestFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTestDir(t, p)
			tc.mangle(t, dir)
			q, err := LoadDir(dir)
			if err == nil || q != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadDir = %v, %v; want error containing %q", q, err, tc.want)
			}
		})
	}
}

// TestOpenSSLReadsOutput checks our DER with an independent implementation:
// openssl must print every certificate, read every key, and build each chain.
func TestOpenSSLReadsOutput(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	p := generate(t, Options{})
	dir := writeTestDir(t, p)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, c := range p.Credentials() {
		pemFile, keyFile := filepath.Join(dir, c.Name+".pem"), filepath.Join(dir, c.Name+".key")
		text := run("x509", "-in", pemFile, "-noout", "-text")
		if !strings.Contains(text, "ecdsa-with-SHA256") || !strings.Contains(text, "critical") {
			t.Errorf("%s: unexpected openssl text:\n%s", c.Name, text)
		}
		run("pkey", "-in", keyFile, "-noout")
		chain := p.Chain(c)
		args := []string{"verify", "-x509_strict", "-CAfile", filepath.Join(dir, "root-ca.pem")}
		if len(chain) > 2 {
			args = append(args, "-untrusted", filepath.Join(dir, chain[1].Name+".pem"))
		}
		run(append(args, pemFile)...)
	}
	if text := run("x509", "-in", filepath.Join(dir, "iki-file-signing-ca.pem"), "-noout", "-subject", "-nameopt", "RFC2253"); !strings.Contains(text, "CN=IKI File Signing CA,OU=issuingAuthority,O=DCC") {
		t.Errorf("IKI CA subject as openssl renders it: %s", text)
	}
}
