package enrol

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

// softToken is a KeyMaker in memory, with knobs for a misbehaving token.
type softToken struct {
	keys    map[string]*ecdsa.PrivateKey
	objects []hsm.Object
	// extractable makes generated keys extractable, as a token that
	// ignores the template would.
	extractable bool
	// swap makes Signer hand out another key than was generated.
	swap bool
}

func (s *softToken) GenerateSigningKey(label string) (*ecdsa.PublicKey, error) {
	if _, ok := s.keys[label]; ok {
		return nil, hsm.ErrLabelTaken
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if s.keys == nil {
		s.keys = map[string]*ecdsa.PrivateKey{}
	}
	s.keys[label] = k
	s.objects = append(s.objects,
		hsm.Object{Label: label, Class: "private key", KeyType: "EC", Token: true, Private: true, Sensitive: true, AlwaysSensitive: true,
			Extractable: s.extractable, NeverExtractable: !s.extractable, Sign: true},
		hsm.Object{Label: label, Class: "public key", KeyType: "EC", Token: true, Verify: true})
	return &k.PublicKey, nil
}

func (s *softToken) Signer(label string) (crypto.Signer, error) {
	k, ok := s.keys[label]
	if !ok {
		return nil, hsm.ErrNoObject
	}
	if s.swap {
		return newKeyNoT(), nil
	}
	return k, nil
}

func (s *softToken) Objects() ([]hsm.Object, error) { return s.objects, nil }

func newKeyNoT() *ecdsa.PrivateKey {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k
}

func TestNew(t *testing.T) {
	tok := &softToken{}
	var steps []string
	csr, pub, err := New(tok, "ecos-2026", Subject{CommonName: "ECOS", Role: role.TransitionalCoS, EUI: ecosEUI}, rand.Reader,
		func(s string) { steps = append(steps, s) })
	if err != nil {
		t.Fatal(err)
	}
	r, err := smki.ParseRequest(csr)
	if err != nil {
		t.Fatal(err)
	}
	if !r.PublicKey.Equal(pub) || !pub.Equal(&tok.keys["ecos-2026"].PublicKey) {
		t.Error("the request is not for the generated key")
	}
	if err := r.CheckSignature(); err != nil {
		t.Error(err)
	}
	want := []string{"nothing on the token is labelled", "generated a P-256 key pair", "never extractable", "proved key", "signed the certificate request"}
	if len(steps) != len(want) {
		t.Fatalf("steps %q", steps)
	}
	for i, w := range want {
		if !strings.Contains(steps[i], w) {
			t.Errorf("step %d %q, want it to say %q", i, steps[i], w)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	good := Subject{Role: role.TransitionalCoS, EUI: ecosEUI}
	taken := &softToken{}
	taken.GenerateSigningKey("ecos")
	for _, tc := range []struct {
		name  string
		tok   *softToken
		label string
		s     Subject
		want  string
	}{
		{"label taken", taken, "ecos", good, "already has a private key labelled \"ecos\""},
		{"no label", &softToken{}, "", good, "no key label"},
		{"bad subject", &softToken{}, "ecos", Subject{Role: role.TransitionalCoS}, "no EUI-64"},
		{"extractable key", &softToken{extractable: true}, "ecos", good, "is extractable"},
		{"signer of another key", &softToken{swap: true}, "ecos", good, "signs for another public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.tok.objects)
			_, _, err := New(tc.tok, tc.label, tc.s, rand.Reader, func(string) {})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if tc.name == "bad subject" || tc.name == "label taken" {
				if len(tc.tok.objects) != before {
					t.Error("the token was changed before the refusal")
				}
			}
		})
	}
}

func TestProveRefusesAnotherKey(t *testing.T) {
	if err := Prove(rand.Reader, newKey(t), &newKey(t).PublicKey); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("Prove of a mismatched pair: %v", err)
	}
}
