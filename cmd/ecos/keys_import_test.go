package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
)

// transfer is an old side (KEK components, the ZAZ1 TCoS key exported
// under them) and an import side (a fresh SoftHSM2 token, a directory of
// its own) for the transfer tests.
type transfer struct {
	old, imp        string // the two sides' directories
	files, kcvs     []string
	kek             string
	token           []string // --module, --token-label, --pin-file
	pin             string
	wrapped, cert   string
	certB           string // another TCoS certificate (ZAZ1's second)
	keyFile         string
	componentsFlags []string
	tokenDir        string
	softhsmConf     string
	manifest        string
}

func newTransfer(t *testing.T) *transfer {
	t.Helper()
	v := testkit.VectorsDir(t)
	x := &transfer{old: t.TempDir(), imp: t.TempDir()}
	x.pin = testkit.SoftHSM(t, "ecos", "1234")
	x.softhsmConf = os.Getenv("SOFTHSM2_CONF")
	x.tokenDir = filepath.Dir(x.softhsmConf)
	x.token = []string{"--module", testkit.SoftHSMModule, "--token-label", "ecos", "--pin-file", x.pin}
	x.files, x.kcvs, x.kek = kekNew(t, x.old)
	for i, f := range x.files {
		x.componentsFlags = append(x.componentsFlags, "--component", f+"="+x.kcvs[i])
	}
	x.keyFile, x.cert = filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem")
	x.certB = filepath.Join(v, "keys/Z1b-transitionalCoS-ds.pem")
	x.wrapped = filepath.Join(x.old, "tcos.wrapped")
	x.manifest = x.wrapped + ".manifest.json"
	args := append([]string{"keys", "export", "--key", x.keyFile, "--cert", x.cert, "--kcv", x.kek, "--out", x.wrapped,
		"--transcript", filepath.Join(x.old, "export.transcript")}, x.componentsFlags...)
	if code, out, errs := ecos(t, "", args...); code != 0 {
		t.Fatalf("export: exit %d: %s\n%s", code, errs, out)
	}
	return x
}

// ceremony writes a ceremony file into the import side's directory.
func (x *transfer) ceremony(t *testing.T, name string, v map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(x.imp, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (x *transfer) pkcs11() map[string]any {
	return map[string]any{"module": testkit.SoftHSMModule, "token_label": "ecos", "pin_file": x.pin}
}

func (x *transfer) components() []map[string]any {
	var out []map[string]any
	for i, f := range x.files {
		out = append(out, map[string]any{"file": f, "kcv": x.kcvs[i]})
	}
	return out
}

// labels is the labels on the token, by `ecos keys list`.
func (x *transfer) labels(t *testing.T) map[string]int {
	t.Helper()
	code, out, errs := ecos(t, "", append([]string{"keys", "list", "--format", "json"}, x.token...)...)
	if code != 0 {
		t.Fatalf("keys list: exit %d: %s", code, errs)
	}
	var objs []hsm.Object
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, o := range objs {
		got[o.Label]++
	}
	return got
}

func (x *transfer) loadKEK(t *testing.T, label string) {
	t.Helper()
	c := x.ceremony(t, label+"-load.json", map[string]any{"name": label, "pkcs11": x.pkcs11(), "kek_label": label,
		"components": x.components(), "kcv": x.kek, "kcv_method": "aes-cmac-zero", "transcript": label + "-load.transcript"})
	if code, out, errs := ecos(t, "", "keys", "kek", "load", "--ceremony", c); code != 0 {
		t.Fatalf("kek load: exit %d: %s\n%s", code, errs, out)
	}
}

func (x *transfer) importCeremony(t *testing.T, name string, over map[string]any) string {
	c := map[string]any{"name": name, "pkcs11": x.pkcs11(), "kek_label": "kek-2026", "wrapped": x.wrapped, "manifest": x.manifest,
		"cert": x.cert, "key_label": "tcos", "mechanism": "0x210A", "transcript": name + ".transcript"}
	for k, v := range over {
		c[k] = v
	}
	return x.ceremony(t, name+".json", c)
}

// TestKeysTransferZAZ1 is the deck's transfer through the CLI: the KEK
// loaded from its custodians' components, the ZAZ1 TCoS key imported
// under it into a fresh token as a sign-only key that never leaves, from
// reviewed ceremony files; no clear key on the import side.
func TestKeysTransferZAZ1(t *testing.T) {
	x := newTransfer(t)
	x.loadKEK(t, "kek-2026")
	c := x.importCeremony(t, "import", nil)
	code, out, errs := ecos(t, "", "keys", "import", "--ceremony", c)
	if code != 0 {
		t.Fatalf("import: exit %d: %s\n%s", code, errs, out)
	}
	b, _ := os.ReadFile(c)
	sum := sha256.Sum256(b)
	for _, want := range []string{"sha256 " + hex.EncodeToString(sum[:]), "SKI 4B38EB47561D93E8 as the manifest says", "expired",
		"unwrapped inside the token with 0x210A (CKM_AES_KEY_WRAP_PAD)", `proved: a signature by "tcos"`, `key "tcos" on token "ecos"`} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	transcript, err := os.ReadFile(filepath.Join(x.imp, "import.transcript"))
	if err != nil || !strings.Contains(string(transcript), `proved: a signature by "tcos"`) {
		t.Errorf("the transcript does not record the proof: %v\n%s", err, transcript)
	}
	code, out, errs = ecos(t, "", append([]string{"keys", "list"}, x.token...)...)
	if code != 0 || !strings.Contains(out, "tcos      private key  EC    sign    sensitive,non-extractable") ||
		!strings.Contains(out, "kek-2026  secret key   AES   unwrap  sensitive,non-extractable") {
		t.Errorf("keys list: exit %d: %s\n%s", code, errs, out)
	}
	// The service's own path finds and uses the key.
	tok, err := hsm.OpenToken(hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: x.pin})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tok.Signer("tcos", nil)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := hsm.LoadFile(x.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := hsm.CheckMatches(s, &orig.PublicKey); err != nil {
		t.Fatal(err)
	}
	tok.Close()
	testkit.NoClearKey(t, orig, x.imp, x.tokenDir)
}

// TestKeysTransferRefusals: a wrong component, KEK, blob, certificate or
// mechanism is refused with a sentence naming it, and nothing is loaded
// or imported.
func TestKeysTransferRefusals(t *testing.T) {
	x := newTransfer(t)

	// The KEK's load.
	other, otherKCVs, _ := kekNew(t, t.TempDir())
	wrongComponent := x.components()
	wrongComponent[1] = map[string]any{"file": other[1], "kcv": otherKCVs[1]}
	misread := x.components()
	misread[2]["kcv"] = "000000"
	for _, r := range []struct {
		name string
		over map[string]any
		want string
	}{
		{"a component of another KEK", map[string]any{"components": wrongComponent}, "the ceremony expects"},
		{"a custodian's KCV misread", map[string]any{"components": misread}, "000000"},
		{"the whole KCV wrong", map[string]any{"kcv": "ABCDEF"}, "ABCDEF"},
		// Checked before the HSM is touched: a module that does not exist
		// is never reached.
		{"a wrong KCV before the HSM", map[string]any{"kcv": "ABCDEF", "pkcs11": map[string]any{"module": "/nonexistent/pkcs11.so", "token_label": "ecos", "pin_file": x.pin}}, "ABCDEF"},
	} {
		c := map[string]any{"name": "load", "pkcs11": x.pkcs11(), "kek_label": "kek-2026", "components": x.components(),
			"kcv": x.kek, "kcv_method": "aes-cmac-zero", "transcript": strings.ReplaceAll(r.name, " ", "-") + ".transcript"}
		for k, v := range r.over {
			c[k] = v
		}
		code, _, errs := ecos(t, "", "keys", "kek", "load", "--ceremony", x.ceremony(t, strings.ReplaceAll(r.name, " ", "-")+".json", c))
		if code != 1 || !strings.Contains(errs, r.want) || strings.Contains(errs, "nonexistent") {
			t.Errorf("%s: exit %d, want 1 naming %q: %s", r.name, code, r.want, errs)
		}
		if l := x.labels(t); len(l) != 0 {
			t.Fatalf("%s: the token holds %v after a refused load", r.name, l)
		}
	}
	x.loadKEK(t, "kek-2026")
	if code, _, errs := ecos(t, "", "keys", "kek", "load", "--ceremony", x.ceremony(t, "again.json", map[string]any{"name": "again", "pkcs11": x.pkcs11(),
		"kek_label": "kek-2026", "components": x.components(), "kcv": x.kek, "kcv_method": "aes-cmac-zero", "transcript": "again.transcript"})); code != 1 || !strings.Contains(errs, "already has") {
		t.Errorf("a second KEK under the label: exit %d: %s", code, errs)
	}

	// The import.
	blob, err := os.ReadFile(x.wrapped)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), blob...)
	flipped[40] ^= 0x01
	tampered := filepath.Join(x.imp, "tampered.wrapped")
	os.WriteFile(tampered, flipped, 0o400)
	// The same tampered blob with a manifest changed to match it: the
	// token's own integrity check is what refuses it.
	var m map[string]any
	mb, _ := os.ReadFile(x.manifest)
	json.Unmarshal(mb, &m)
	sum := sha256.Sum256(flipped)
	m["wrapped_sha256"] = hex.EncodeToString(sum[:])
	m["wrapped_file"] = "tampered.wrapped"
	mb, _ = json.MarshalIndent(m, "", "  ")
	matching := filepath.Join(x.imp, "tampered.manifest.json")
	os.WriteFile(matching, mb, 0o400)
	// A second KEK on the token, not the one the key was wrapped under.
	y := *x
	y.files, y.kcvs, y.kek = kekNew(t, t.TempDir())
	y.loadKEK(t, "other-kek")

	for _, r := range []struct {
		name string
		over map[string]any
		want string
	}{
		{"a tampered blob", map[string]any{"wrapped": tampered}, "SHA-256"},
		{"a tampered blob and manifest", map[string]any{"wrapped": tampered, "manifest": matching}, "could not unwrap"},
		{"another certificate", map[string]any{"cert": x.certB}, "subject key identifier"},
		{"a mechanism the token lacks", map[string]any{"mechanism": "CKM_AES_KEY_WRAP_KWP"}, "does not support"},
		{"RFC 3394 for an RFC 5649 blob", map[string]any{"mechanism": "0x2109"}, "could not unwrap"},
		{"another KEK", map[string]any{"kek_label": "other-kek"}, "wrapped under another KEK"},
		{"no such KEK", map[string]any{"kek_label": "missing"}, `no KEK labelled "missing"`},
		{"a label already taken", map[string]any{"key_label": "other-kek"}, "already has"},
	} {
		name := strings.ReplaceAll(r.name, " ", "-")
		code, out, errs := ecos(t, "", "keys", "import", "--ceremony", x.importCeremony(t, name, r.over))
		if code != 1 || !strings.Contains(errs, r.want) {
			t.Errorf("%s: exit %d, want 1 naming %q: %s\n%s", r.name, code, r.want, errs, out)
		}
		if l := x.labels(t); l["tcos"] != 0 || l["kek-2026"] != 1 || l["other-kek"] != 1 || len(l) != 2 {
			t.Fatalf("%s: the token holds %v after a refused import", r.name, l)
		}
	}
}
