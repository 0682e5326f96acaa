package custody

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/smki"
)

const ecosNewJSON = `{"name": "ecos-2026", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "ecos-2026",
	"eui": "EE-C0-5E-00-00-00-00-05", "organisation": "ECOS PARTY", "csr": "ecos.csr", "transcript": "t"}`

func TestECoSNewCeremonyValidate(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"no EUI", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "k", "csr": "c"}`, "eui: required"},
		{"bad EUI", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "k", "eui": "EE", "csr": "c"}`, "eui: "},
		{"zero EUI", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "k", "eui": "0000000000000000", "csr": "c"}`, "all-zero"},
		{"long organisation", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "k", "eui": "EE-C0-5E-00-00-00-00-05", "organisation": "` + strings.Repeat("x", 65) + `", "csr": "c"}`, "organisation: "},
		{"label with spaces", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": " k", "eui": "EE-C0-5E-00-00-00-00-05", "csr": "c"}`, "key_label: "},
		{"request over the transcript", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "k", "eui": "EE-C0-5E-00-00-00-00-05", "csr": "x", "transcript": "x"}`, "the same file as"},
		{"request over the PIN", `{"name": "n", "pkcs11": {"module": "m", "token_label": "t", "pin_file": "p"}, "key_label": "k", "eui": "EE-C0-5E-00-00-00-00-05", "csr": "p"}`, "the same file as"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ParseCeremony([]byte(tc.json), "", &ECoSNewCeremony{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// softECoSToken is an ECoSToken in memory.
type softECoSToken struct {
	keys    map[string]*ecdsa.PrivateKey
	closed  bool
	removed []string
	// liar: Signer answers with another key than the one generated.
	liar bool
}

func (s *softECoSToken) Remove(label string) (int, error) {
	s.removed = append(s.removed, label)
	delete(s.keys, label)
	return 1, nil
}

func (s *softECoSToken) GenerateSigningKey(label string) (*ecdsa.PublicKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	s.keys[label] = k
	return &k.PublicKey, nil
}

func (s *softECoSToken) Signer(label string) (crypto.Signer, error) {
	if s.liar {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return s.keys[label], nil
}

func (s *softECoSToken) Objects() ([]hsm.Object, error) {
	var out []hsm.Object
	for l := range s.keys {
		out = append(out, hsm.Object{Label: l, Class: "private key", Token: true, Private: true, Sensitive: true, AlwaysSensitive: true, NeverExtractable: true, Sign: true})
	}
	return out, nil
}

func (s *softECoSToken) Close() error { s.closed = true; return nil }

// TestNewECoS: the ceremony writes the request for the token's new key
// and a transcript that begins with the ceremony and logs every step;
// an existing output stops it before the token is opened.
func TestNewECoS(t *testing.T) {
	dir := t.TempDir()
	var c ECoSNewCeremony
	if err := ParseCeremony([]byte(ecosNewJSON), dir, &c); err != nil {
		t.Fatal(err)
	}
	tok := &softECoSToken{keys: map[string]*ecdsa.PrivateKey{}}
	opened := 0
	open := func(PKCS11) (ECoSToken, error) { opened++; return tok, nil }
	var screen bytes.Buffer
	env := Env{Rand: rand.Reader, Now: func() time.Time { return time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC) }, Out: &screen}
	res, err := NewECoS(&c, Source{}, env, open)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.closed {
		t.Error("the token was left open")
	}
	data, err := os.ReadFile(filepath.Join(dir, "ecos.csr"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := smki.ParseRequestPEM(data)
	if err != nil || !r.PublicKey.Equal(res.PublicKey) || !r.PublicKey.Equal(&tok.keys["ecos-2026"].PublicKey) || r.CommonName != "ECOS PARTY" {
		t.Fatalf("the request: %v", err)
	}
	transcript, _ := os.ReadFile(res.Transcript)
	for _, want := range []string{"ecos-new ceremony from command-line flags", `"key_label": "ecos-2026"`, "2026-12-02T03:00:00Z logged in to token",
		"generated a P-256 key pair", "proved key", "wrote the certificate request", "done:"} {
		if !strings.Contains(string(transcript), want) {
			t.Errorf("the transcript lacks %q:\n%s", want, transcript)
		}
	}
	if _, err := NewECoS(&c, Source{}, env, open); !errors.Is(err, ErrExists) || opened != 1 {
		t.Errorf("a second run over the same outputs: %v, token opened %d times; want ErrExists before the token", err, opened)
	}
}

// TestNewECoSTakesBackItsKey: a key the ceremony generated is removed
// when a later step fails; a key that was on the token before is never
// touched.
func TestNewECoSTakesBackItsKey(t *testing.T) {
	env := Env{Rand: rand.Reader, Now: time.Now, Out: io.Discard}
	for _, tc := range []struct {
		name        string
		tok         *softECoSToken
		wantRemoved bool
	}{
		{"the proof fails after the key is made", &softECoSToken{keys: map[string]*ecdsa.PrivateKey{}, liar: true}, true},
		{"the label was taken before", &softECoSToken{keys: map[string]*ecdsa.PrivateKey{"ecos-2026": nil}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var c ECoSNewCeremony
			if err := ParseCeremony([]byte(ecosNewJSON), dir, &c); err != nil {
				t.Fatal(err)
			}
			_, err := NewECoS(&c, Source{}, env, func(PKCS11) (ECoSToken, error) { return tc.tok, nil })
			if err == nil {
				t.Fatal("the ceremony succeeded")
			}
			if got := len(tc.tok.removed) == 1; got != tc.wantRemoved {
				t.Errorf("removed %v, want a removal %v (%v)", tc.tok.removed, tc.wantRemoved, err)
			}
			if _, err := os.Stat(c.CSR); err == nil {
				t.Error("a request was written")
			}
		})
	}
}
