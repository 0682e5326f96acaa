package custody

import (
	"errors"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/strictjson"
)

const manifestJSON = `{
  "format": "ecos-wrapped-key/1",
  "wrap": "RFC 5649 AES key wrap with padding",
  "key": "PKCS#8 EC P-256",
  "wrapped_file": "tcos.wrapped",
  "wrapped_sha256": "0d6e4079e36703ebd37c00722f5891d28b0e2811dc114b129215123adcce3605",
  "wrapped_length": 152,
  "certificate_ski": "4B38EB47561D93E8",
  "certificate_subject": "OU=05, x500UniqueIdentifier=90-B3-D5-1F-30-00-00-04",
  "kek_kcvs": [
    {
      "method": "aes-ecb-zero",
      "value": "ABCDEF"
    },
    {
      "method": "aes-cmac-zero",
      "value": "012345"
    }
  ],
  "created": "2026-12-02T03:04:05Z"
}
`

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte(manifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != manifestJSON {
		t.Errorf("marshal gives\n%s\nwant\n%s", out, manifestJSON)
	}
	if k, ok := m.KCV("aes-cmac-zero"); !ok || k.Value != "012345" {
		t.Errorf("KCV: %v %v", k, ok)
	}
	if err := m.CheckWrapped(make([]byte, 152)); !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("another blob of the same length: %v", err)
	}
	if err := m.CheckWrapped(make([]byte, 144)); !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), "144 bytes, the manifest says 152") {
		t.Errorf("a truncated blob: %v", err)
	}
}

func TestParseManifestRefuses(t *testing.T) {
	edit := func(old, new string) string { return strings.Replace(manifestJSON, old, new, 1) }
	for _, tc := range []struct{ name, in, want string }{
		{"unknown key", edit(`"wrap":`, `"wrapping":`), "manifest: line 3, column 3: wrapping: unknown key"},
		{"duplicate key", edit(`"key": "PKCS#8 EC P-256",`, `"key": "PKCS#8 EC P-256", "key": "PKCS#8 RSA",`), "line 4, column 29: key: duplicate key"},
		{"case-different key", edit(`"created"`, `"Created"`), `Created: unknown key (did you mean "created"?)`},
		{"wrong type", edit(`152`, `"152"`), "wrapped_length: must be an integer, not a string"},
		{"other format", edit(`ecos-wrapped-key/1`, `ecos-wrapped-key/2`), `format: "ecos-wrapped-key/2": want "ecos-wrapped-key/1"`},
		{"other wrap", edit(`RFC 5649 AES key wrap with padding`, `RFC 3394`), `wrap: "RFC 3394"`},
		{"other key", edit(`PKCS#8 EC P-256`, `PKCS#8 RSA`), `key: "PKCS#8 RSA"`},
		{"file with a directory", edit(`"tcos.wrapped"`, `"../tcos.wrapped"`), "wrapped_file: \"../tcos.wrapped\": want the wrapped key's file name"},
		{"upper-case sha256", edit(`0d6e4079`, `0D6E4079`), "wrapped_sha256: "},
		{"short sha256", edit(`0d6e4079`, ``), "wrapped_sha256: "},
		{"length not blocks", edit(`152`, `150`), "wrapped_length: 150"},
		{"length too small", edit(`152`, `8`), "wrapped_length: 8"},
		{"ski not hex", edit(`4B38EB47561D93E8`, `4B:38`), "certificate_ski: "},
		{"no subject", edit(`OU=05, x500UniqueIdentifier=90-B3-D5-1F-30-00-00-04`, ``), "certificate_subject: required"},
		{"one KCV method", edit("{\n      \"method\": \"aes-ecb-zero\",\n      \"value\": \"ABCDEF\"\n    },", ``), "kek_kcvs: no aes-ecb-zero KCV"},
		{"a method twice", edit(`"aes-cmac-zero"`, `"aes-ecb-zero"`), "kek_kcvs[1].method: aes-ecb-zero is given twice"},
		{"unknown method", edit(`"aes-cmac-zero"`, `"crc32"`), `kek_kcvs[1].method: unknown KCV method "crc32"`},
		{"lower-case KCV", edit(`"ABCDEF"`, `"abcdef"`), "kek_kcvs[0].value"},
		{"not UTC", edit(`2026-12-02T03:04:05Z`, `2026-12-02T03:04:05+01:00`), "created: "},
		{"not a time", edit(`2026-12-02T03:04:05Z`, `yesterday`), "created: "},
		{"not JSON", "format: x", "invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.in))
			if m != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want %q", err, tc.want)
			}
			if _, ok := errors.AsType[*strictjson.Error](err); !ok {
				t.Errorf("%T, want *strictjson.Error", err)
			}
		})
	}
}

// FuzzParseManifest: no input panics; an accepted manifest marshals to
// one that parses to the same.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(manifestJSON))
	f.Add([]byte(`{"format": "ecos-wrapped-key/1", "format": "x", "kek_kcvs": [{"method": 1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if m != nil {
				t.Fatal("a manifest with an error")
			}
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("marshalled manifest does not parse: %v", err)
		}
		if again2, _ := again.Marshal(); string(again2) != string(out) {
			t.Fatal("not stable")
		}
	})
}
