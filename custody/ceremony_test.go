package custody

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/strictjson"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const exportJSON = `{
  "name": "tcos-export",
  "key": "tcos.key",
  "cert": "/abs/tcos.pem",
  "components": [
    {"file": "c1.txt", "kcv": "ABCDEF"},
    {"file": "c2.txt", "kcv": "abcdef"}
  ],
  "kcv": "123456",
  "kcv_method": "aes-cmac-zero",
  "wrapped": "out/tcos.wrapped",
  "manifest": "out/tcos.manifest.json"
}
`

func TestLoadCeremony(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "export.json", exportJSON)
	var c ExportCeremony
	sum, err := LoadCeremony(p, &c)
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256([]byte(exportJSON)) {
		t.Error("the SHA-256 is not the file's")
	}
	if c.Key != filepath.Join(dir, "tcos.key") || c.Cert != "/abs/tcos.pem" || c.Components[1].File != filepath.Join(dir, "c2.txt") || c.Wrapped != filepath.Join(dir, "out/tcos.wrapped") {
		t.Errorf("paths not resolved against the file's directory: %+v", c)
	}
	if c.Transcript != "" {
		t.Errorf("transcript %q: the default is left to the run", c.Transcript)
	}
}

// TestCeremonyFileRefused: strict decoding names the line and column.
func TestCeremonyFileRefused(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown key", strings.Replace(exportJSON, `"kcv": "123456"`, `"kvc": "123456"`, 1), "line 9, column 3: kvc: unknown key"},
		{"duplicate key", strings.Replace(exportJSON, `"kcv": "123456"`, `"kcv": "123456", "kcv": "654321"`, 1), "line 9, column 20: kcv: duplicate key"},
		{"case-different key", strings.Replace(exportJSON, `"wrapped"`, `"Wrapped"`, 1), `line 11, column 3: Wrapped: unknown key (did you mean "wrapped"?)`},
		{"unknown key in a component", strings.Replace(exportJSON, `{"file": "c1.txt"`, `{"file": "c1.txt", "value": "1F2E"`, 1), "line 6, column 24: components[0].value: unknown key"},
		{"wrong type", strings.Replace(exportJSON, `"kcv": "123456"`, `"kcv": 123456`, 1), "line 9, column 10: kcv: must be a string, not a number"},
		{"not JSON", "name: x", "line 1, column 3: invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "c.json", tc.in)
			var c ExportCeremony
			_, err := LoadCeremony(p, &c)
			if err == nil || !strings.Contains(err.Error(), "ceremony "+p+": "+tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := LoadCeremony(filepath.Join(t.TempDir(), "none.json"), &ExportCeremony{}); err == nil {
		t.Error("a missing file accepted")
	}
}

// TestCeremonyValidate: every field of every ceremony is checked, each
// with its own message.
func TestCeremonyValidate(t *testing.T) {
	refs := []ComponentRef{{"a", "ABCDEF"}, {"b", "ABCDEF"}}
	p11 := PKCS11{Module: "/lib/softhsm2.so", TokenLabel: "ecos", PINFile: "pin"}
	for _, tc := range []struct {
		name string
		c    Ceremony
		want []string // key: message fragments, each must appear
	}{
		{"kek new, empty", &KEKNewCeremony{}, []string{"name: required", "kcv_method: required", "components: 0: want 2 or 3", "bits: 0: want 128, 192 or 256", "out_dir: required"}},
		{"kek new, wrong values", &KEKNewCeremony{Name: "../x", Components: 4, Bits: 512, KCVMethod: "crc", OutDir: "d"}, []string{`name: "../x"`, `kcv_method: unknown KCV method "crc"`, "components: 4", "bits: 512"}},
		{"export, empty", &ExportCeremony{}, []string{"name: required", "kcv_method: required", "key: required", "cert: required", "components: 0 given", "kcv: required", "wrapped: required", "manifest: required"}},
		{"export, wrong values", &ExportCeremony{Name: "x", Key: "k", Cert: "c", KCVMethod: "aes-ecb-zero", KCV: "12345", Wrapped: "w", Manifest: "w",
			Components: []ComponentRef{{"a", "ABCDEF"}, {"a", ""}, {"", "XYZ"}, {"d", "ABCDEF"}}},
			[]string{"components: 4 given", "components[1].file: the same file as components[0]", "components[1].kcv: required", "components[2].file: required", `components[2].kcv: KCV "XYZ"`, `kcv: KCV "12345"`, "wrapped: the same file as manifest"}},
		{"export, output is an input", &ExportCeremony{Name: "x", Key: "k", Cert: "c", KCVMethod: "aes-ecb-zero", KCV: "123456", Wrapped: "k", Manifest: "m", Components: refs},
			[]string{"wrapped: the same file as key"}},
		{"kek load, empty", &KEKLoadCeremony{}, []string{"name: required", "pkcs11.module: required", "pkcs11.token_label: required", "pkcs11.pin_file: required", "kek_label: required", "components: 0 given", "kcv: required", "kcv_method: required"}},
		{"kek load, bad labels", &KEKLoadCeremony{Name: "x", PKCS11: PKCS11{Module: "m", TokenLabel: " ecos", PINFile: "p"}, KEKLabel: strings.Repeat("k", 65), Components: refs, KCV: "123456", KCVMethod: "aes-ecb-zero"},
			[]string{`pkcs11.token_label: " ecos"`, "kek_label:"}},
		{"import, empty", &ImportCeremony{}, []string{"name: required", "pkcs11.module: required", "pkcs11.token_label: required", "pkcs11.pin_file: required", "kek_label: required", "key_label: required", "wrapped: required", "manifest: required", "cert: required", "mechanism: required"}},
		{"import, same labels and files", &ImportCeremony{Name: "i", PKCS11: p11, KEKLabel: "kek", KeyLabel: "kek", Wrapped: "w", Manifest: "w", Cert: "c", Mechanism: "0x210A"},
			[]string{"key_label: the same label as kek_label", "wrapped: the same file as manifest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			se, ok := errors.AsType[*strictjson.Error](err)
			if !ok {
				t.Fatalf("%v: want a *strictjson.Error", err)
			}
			if len(se.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(se.Problems), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no %q in\n%v", w, err)
				}
			}
		})
	}
	for _, c := range []Ceremony{
		&KEKNewCeremony{Name: "kek-2026", Components: 3, Bits: 256, KCVMethod: "aes-cmac-zero", OutDir: "out"},
		&ExportCeremony{Name: "x", Key: "k", Cert: "c", KCVMethod: "aes-ecb-zero", KCV: "123456", Wrapped: "w", Manifest: "m", Components: refs},
		&KEKLoadCeremony{Name: "x", PKCS11: p11, KEKLabel: "kek 2026", Components: refs, KCV: "123456", KCVMethod: "aes-ecb-zero"},
		&ImportCeremony{Name: "i", PKCS11: p11, KEKLabel: "kek", KeyLabel: "tcos", Wrapped: "w", Manifest: "m", Cert: "c", Mechanism: "CKM_AES_KEY_WRAP_PAD"},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Kind(), err)
		}
	}
}

// TestEveryCeremonyDecodes: each ceremony type decodes from JSON with all
// its keys, so a field type without a decoding rule cannot slip in.
func TestEveryCeremonyDecodes(t *testing.T) {
	for _, tc := range []struct {
		c    Ceremony
		json string
	}{
		{&KEKNewCeremony{}, `{"name": "k", "components": 3, "bits": 256, "kcv_method": "aes-cmac-zero", "out_dir": "o", "transcript": "t"}`},
		{&KEKLoadCeremony{}, `{"name": "k", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "kek_label": "kek",
			"components": [{"file": "a", "kcv": "ABCDEF"}, {"file": "b", "kcv": "ABCDEF"}], "kcv": "ABCDEF", "kcv_method": "aes-ecb-zero", "transcript": "t"}`},
		{&ImportCeremony{}, `{"name": "k", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "kek_label": "kek", "wrapped": "w",
			"manifest": "m", "cert": "c", "key_label": "tcos", "mechanism": "0x210A", "transcript": "t"}`},
		{&ExportCeremony{}, exportJSON},
		{&ECoSNewCeremony{}, ecosNewJSON},
	} {
		if err := ParseCeremony([]byte(tc.json), "", tc.c); err != nil {
			t.Errorf("%s: %v", tc.c.Kind(), err)
		}
	}
}

// FuzzParseCeremony: no input panics, and an accepted ceremony validates.
func FuzzParseCeremony(f *testing.F) {
	f.Add([]byte(exportJSON), uint8(0))
	f.Add([]byte(`{"name": "k", "components": 3, "bits": 256, "kcv_method": "aes-cmac-zero", "out_dir": "o"}`), uint8(1))
	f.Add([]byte(`{"pkcs11": {"module": "m", "module": "n"}}`), uint8(2))
	f.Add([]byte(ecosNewJSON), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		cs := []Ceremony{&ExportCeremony{}, &KEKNewCeremony{}, &KEKLoadCeremony{}, &ImportCeremony{}, &ECoSNewCeremony{}}
		c := cs[int(kind)%len(cs)]
		if err := ParseCeremony(data, "/base", c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted, then invalid: %v", err)
		}
	})
}
