package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/enrol"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := ecos(t, "", args...)
	if code != 0 {
		t.Fatalf("ecos %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func absent(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

// serviceConfig is docs/config.md's smallest file with the ECoS key on the
// token and its certificate at ecos.pem.
func serviceConfig(t *testing.T, smallest []byte, pinFile string) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(smallest, &doc); err != nil {
		t.Fatal(err)
	}
	doc["keys"].(map[string]any)["ecos"] = map[string]any{"cert": "ecos.pem", "pkcs11": map[string]any{
		"module": testkit.SoftHSMModule, "token_label": "ecos", "key_label": "ecos-2026", "pin_file": pinFile}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile("ecos.json", b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestECoSCredentialOnSoftHSM is the ECoS credential's whole life through
// the CLI: a test PKI; `keys ecos new` from a ceremony file makes the key
// on a SoftHSM2 token (sign-only, sensitive, never extractable) and the
// request, logging every step with its time to the screen and the
// transcript; the same label again is refused with the token unchanged;
// `pki sign-csr` issues the certificate; `keys ecos install` refuses
// another key's certificate and installs this one (and again is a
// no-op); and `ecos serve` starts with the ECoS key on the token,
// checked against the installed certificate, naming its SKI.
func TestECoSCredentialOnSoftHSM(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	smallest := smallestConfig(t)
	t.Chdir(t.TempDir())
	mustCLI(t, "pki", "init", "pki")
	mustCLI(t, "pki", "tls", "--users", "EE-C0-5E-00-01-00-00-01", "tls")

	ceremony := fmt.Sprintf(`{
  "name": "ecos-2026",
  "pkcs11": {"module": %q, "token_label": "ecos", "pin_file": %q},
  "key_label": "ecos-2026",
  "eui": "EE-C0-5E-00-00-00-00-05",
  "organisation": "ECOS PARTY",
  "csr": "ecos.csr",
  "transcript": "ecos-new.transcript"
}
`, testkit.SoftHSMModule, pinFile)
	if err := os.WriteFile("ecos-new.json", []byte(ceremony), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "keys", "ecos", "new", "--ceremony", "ecos-new.json")
	transcript, err := os.ReadFile("ecos-new.transcript")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, string(transcript)) {
		t.Errorf("the transcript is not what the screen showed:\n%s\n---\n%s", transcript, out)
	}
	stamp := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `)
	steps := stamp.FindAllStringIndex(string(transcript), -1)
	if len(steps) < 8 {
		t.Errorf("%d timed steps in the transcript, want every step with its UTC time:\n%s", len(steps), transcript)
	}
	if want := fmt.Sprintf("ecos-new ceremony from file %s, sha256 %x", mustAbs(t, "ecos-new.json"), sha256.Sum256([]byte(ceremony))); !strings.Contains(string(transcript), want) || !strings.Contains(string(transcript), `"key_label": "ecos-2026"`) {
		t.Errorf("the transcript does not start with the ceremony file's hash and the ceremony (%s):\n%s", want, transcript)
	}
	for _, want := range []string{"never extractable, and only signs", "proved key \"ecos-2026\"", "wrote the certificate request to ecos.csr"} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out)
		}
	}
	csrPEM, err := os.ReadFile("ecos.csr")
	if err != nil {
		t.Fatal(err)
	}
	req, err := smki.ParseRequestPEM(csrPEM)
	if err != nil {
		t.Fatal(err)
	}
	objects := tokenObjects(t, pinFile)
	for _, o := range objects {
		if o.Label == "ecos-2026" && o.Class == "private key" && (!o.Sensitive || o.Extractable || !o.NeverExtractable || o.ValueReadable || !o.Sign || o.Decrypt) {
			t.Errorf("the ECoS private key can leave the token or do more than sign: %+v", o)
		}
	}
	if len(objects) != 2 {
		t.Fatalf("%d objects on the token, want the key pair", len(objects))
	}

	// The same label again: refused, nothing written, the token unchanged.
	code, _, errs := ecos(t, "", "keys", "ecos", "new", "--module", testkit.SoftHSMModule, "--token-label", "ecos", "--pin-file", pinFile,
		"--key-label", "ecos-2026", "--eui", "EE-C0-5E-00-00-00-00-05", "--csr", "again.csr", "--transcript", "again.transcript")
	if again, _ := os.ReadFile("again.transcript"); !strings.Contains(string(again), "REFUSED") {
		t.Errorf("the refused ceremony's transcript does not say so:\n%s", again)
	}
	if code == 0 || !strings.Contains(errs, `already has a private key labelled "ecos-2026"`) {
		t.Errorf("a second key under the label: exit %d, %s", code, errs)
	}
	absent(t, "again.csr")
	if got := tokenObjects(t, pinFile); len(got) != 2 {
		t.Errorf("the refused ceremony left %d objects on the token, want 2", len(got))
	}

	out = mustCLI(t, "pki", "sign-csr", "--pki", "pki", "ecos.csr", "ecos-issued.pem")
	if !strings.Contains(out, "issued ecos-issued.pem: transitionalCoS certificate for EUI EE-C0-5E-00-00-00-00-05, digitalSignature") {
		t.Errorf("sign-csr said:\n%s", out)
	}
	if code, _, errs := ecos(t, "", "pki", "sign-csr", "--pki", "pki", "--role", "supplier", "ecos.csr", "supplier.pem"); code != 1 || !strings.Contains(errs, "asks for role transitionalCoS") {
		t.Errorf("sign-csr --role supplier of a transitionalCoS request: exit %d, %s", code, errs)
	}
	absent(t, "supplier.pem")

	serviceConfig(t, smallest, pinFile)
	code, _, errs = ecos(t, "", "keys", "ecos", "install", "--config", "ecos.json", "pki/ecos-ds.pem")
	if code != 1 || !strings.Contains(errs, "certifies another key") || !strings.Contains(errs, "nothing was installed") {
		t.Errorf("installing the test PKI's own ECoS certificate: exit %d, %s", code, errs)
	}
	absent(t, "ecos.pem")
	out = mustCLI(t, "keys", "ecos", "install", "--config", "ecos.json", "ecos-issued.pem")
	for _, want := range []string{"follows the profile: transitionalCoS (OU 05), EUI EE-C0-5E-00-00-00-00-05, digitalSignature", "to the trust anchor CN=TA,OU=00",
		`the key labelled "ecos-2026" on token "ecos"`, "installed ecos-issued.pem as keys.ecos.cert"} {
		if !strings.Contains(out, want) {
			t.Errorf("install said nothing of %q:\n%s", want, out)
		}
	}
	if out := mustCLI(t, "keys", "ecos", "install", "--config", "ecos.json", "ecos-issued.pem"); !strings.Contains(out, "already installed") {
		t.Errorf("installing it again:\n%s", out)
	}

	mustCLI(t, "db", "migrate", "--config", "ecos.json")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	sout, serr := watch("serving on"), watch("")
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--config", "ecos.json", "--listen", "127.0.0.1:0", "--operator-listen", "127.0.0.1:0"}, stdio{out: sout, err: serr})
	}()
	select {
	case <-sout.seen:
	case code := <-done:
		t.Fatalf("serve with the installed ECoS credential exited %d: %s", code, serr)
	}
	stop()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	if ski := fmt.Sprintf(`"keys.ecos.ski":"%X"`, enrol.KeyID(req.PublicKey)); !strings.Contains(serr.String(), ski) {
		t.Errorf("the service did not start with the new ECoS key: want %s in\n%s", ski, serr)
	}
}

func tokenObjects(t *testing.T, pinFile string) []hsm.Object {
	t.Helper()
	a, err := hsm.OpenAdmin(hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	objs, err := a.Objects()
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestECoSNewRefusesBeforeTheToken: a ceremony that cannot be carried out
// whole is refused before any HSM is touched (the module named does not
// even exist) and before anything is written.
func TestECoSNewRefusesBeforeTheToken(t *testing.T) {
	t.Chdir(t.TempDir())
	file := func(name, body string) string {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	const token = `"pkcs11": {"module": "/nonexistent/pkcs11.so", "token_label": "ecos", "pin_file": "pin"}`
	good := `"name": "n", ` + token + `, "key_label": "ecos", "csr": "ecos.csr", "transcript": "t.transcript"`
	os.WriteFile("exists.csr", []byte("x"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ceremony and flags", []string{"--ceremony", file("c1.json", `{`+good+`, "eui": "EE-C0-5E-00-00-00-00-05"}`), "--key-label", "other"}, "may not be given with it"},
		{"unknown key", []string{"--ceremony", file("c2.json", `{`+good+`, "eui": "EE-C0-5E-00-00-00-00-05", "kek": "x"}`)}, "kek: unknown key"},
		{"duplicate key", []string{"--ceremony", file("c3.json", `{`+good+`, "eui": "EE-C0-5E-00-00-00-00-05", "eui": "EE-C0-5E-00-00-00-00-04"}`)}, "eui: duplicate key"},
		{"missing EUI", []string{"--ceremony", file("c4.json", `{`+good+`}`)}, "eui: required"},
		{"bad EUI", []string{"--ceremony", file("c5.json", `{`+good+`, "eui": "EE-C0"}`)}, "eui: "},
		{"zero EUI", []string{"--ceremony", file("c6.json", `{`+good+`, "eui": "00-00-00-00-00-00-00-00"}`)}, "all-zero EUI-64"},
		{"name too long", []string{"--ceremony", file("c7.json", `{`+good+`, "eui": "EE-C0-5E-00-00-00-00-05", "organisation": "`+strings.Repeat("N", 65)+`"}`)}, "at most 64"},
		{"no flags", nil, "key_label (--key-label): required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := ecos(t, "", append([]string{"keys", "ecos", "new"}, tc.args...)...)
			if code != exitMalformed || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, %s%s; want exit 2 saying %q", code, out, errs, tc.want)
			}
			absent(t, "ecos.csr", "t.transcript")
		})
	}
	code, out, errs := ecos(t, "", "keys", "ecos", "new", "--ceremony", file("c8.json", `{"name": "n", `+token+`, "key_label": "ecos", "csr": "exists.csr", "transcript": "t.transcript", "eui": "EE-C0-5E-00-00-00-00-05"}`))
	if code == 0 || !strings.Contains(errs, "exists.csr exists: a ceremony never overwrites an output") {
		t.Errorf("an existing output: exit %d, %s%s", code, out, errs)
	}
	absent(t, "t.transcript")
}

// TestECoSInstallRefuses: with the ECoS key in a file, `keys ecos
// install` installs the certificate issued for it, and refuses, each
// with its sentence and nothing written, a certificate of another PKI, of
// another role, a request instead of a certificate, and a second
// certificate over the installed one.
func TestECoSInstallRefuses(t *testing.T) {
	smallest := smallestConfig(t)
	t.Chdir(t.TempDir())
	mustCLI(t, "pki", "init", "pki")
	mustCLI(t, "pki", "init", "other")
	mustCLI(t, "pki", "tls", "--users", "EE-C0-5E-00-01-00-00-01", "tls")
	key, err := hsm.LoadFile("pki/ecos-ds.key")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := enrol.CreateRequest(rand.Reader, key, enrol.Subject{Role: role.TransitionalCoS, EUI: eui.MustParse("EE-C0-5E-00-00-00-00-05")})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("ecos.csr", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o600)
	mustCLI(t, "pki", "sign-csr", "--pki", "pki", "ecos.csr", "issued.pem")
	mustCLI(t, "pki", "sign-csr", "--pki", "pki", "--days", "30", "ecos.csr", "issued-again.pem")
	mustCLI(t, "pki", "sign-csr", "--pki", "other", "ecos.csr", "other.pem")
	if code, _, errs := ecos(t, "", "pki", "sign-csr", "--pki", "pki", "ecos.csr", "issued.pem"); code != exitMalformed || !strings.Contains(errs, "issued.pem exists") {
		t.Errorf("sign-csr over an existing file: exit %d, %s", code, errs)
	}
	var doc map[string]any
	json.Unmarshal(smallest, &doc)
	doc["keys"].(map[string]any)["ecos"] = map[string]any{"key": "pki/ecos-ds.key", "cert": "installed/ecos.pem"}
	b, _ := json.Marshal(doc)
	os.WriteFile("ecos.json", b, 0o600)
	os.Mkdir("installed", 0o700)

	for _, tc := range []struct{ cert, want string }{
		{"other.pem", "does not chain to the configured trust anchors"},
		{"pki/acb-ds.pem", "accessControlBroker certificate (OU 04)"},
		{"pki/acb-ka.pem", "accessControlBroker certificate (OU 04)"},
		{"pki/org-ca.pem", "CA certificate, not an Organisation certificate"},
		{"ecos.csr", "not a certificate"},
	} {
		code, _, errs := ecos(t, "", "keys", "ecos", "install", "--config", "ecos.json", tc.cert)
		if code != exitInvalid || !strings.Contains(errs, "refusing "+tc.cert+": it ") || !strings.Contains(errs, tc.want) {
			t.Errorf("install %s: exit %d, %s; want exit 1 saying %q", tc.cert, code, errs, tc.want)
		}
		absent(t, "installed/ecos.pem")
	}
	out := mustCLI(t, "keys", "ecos", "install", "--config", "ecos.json", "issued.pem")
	if !strings.Contains(out, "it certifies the ECoS key, the key in "+filepath.Join(mustAbs(t, "."), "pki/ecos-ds.key")) {
		t.Errorf("install said:\n%s", out)
	}
	before, _ := os.ReadFile("installed/ecos.pem")
	code, _, errs := ecos(t, "", "keys", "ecos", "install", "--config", "ecos.json", "issued-again.pem")
	if code != exitInvalid || !strings.Contains(errs, "holds something else") {
		t.Errorf("installing another certificate over the installed one: exit %d, %s", code, errs)
	}
	if after, _ := os.ReadFile("installed/ecos.pem"); string(after) != string(before) {
		t.Error("the refused install changed keys.ecos.cert")
	}
	delete(doc["keys"].(map[string]any), "ecos")
	b, _ = json.Marshal(doc)
	os.WriteFile("no-ecos.json", b, 0o600)
	if code, _, errs := ecos(t, "", "keys", "ecos", "install", "--config", "no-ecos.json", "issued.pem"); code != exitMalformed || !strings.Contains(errs, "has no keys.ecos") {
		t.Errorf("a configuration without keys.ecos: exit %d, %s", code, errs)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
