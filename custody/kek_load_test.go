package custody

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/keywrap"
)

// fakeToken is a token whose check value is whatever the test says.
type fakeToken struct {
	checkValue []byte
	imported   []byte
	removed    []string
}

func (f *fakeToken) ImportKEK(label string, key []byte) ([]byte, error) {
	f.imported = bytes.Clone(key)
	return f.checkValue, nil
}
func (f *fakeToken) Remove(label string) (int, error) {
	f.removed = append(f.removed, label)
	return 1, nil
}
func (f *fakeToken) Close() error { return nil }

func loadCeremonyFor(t *testing.T, dir string, comps []*Component, kek []byte) *KEKLoadCeremony {
	t.Helper()
	c := &KEKLoadCeremony{Name: "load", PKCS11: PKCS11{Module: "m.so", TokenLabel: "ecos", PINFile: filepath.Join(dir, "pin")},
		KEKLabel: "kek", KCV: mustKCV(t, kek, keywrap.KCVCMAC).Value, KCVMethod: keywrap.KCVCMAC, Transcript: filepath.Join(dir, "t")}
	for i, comp := range comps {
		f := filepath.Join(dir, ComponentFile("test-kek", i+1, len(comps)))
		if err := os.WriteFile(f, FormatComponent(comp), 0o400); err != nil {
			t.Fatal(err)
		}
		c.Components = append(c.Components, ComponentRef{File: f, KCV: comp.KCV.Value})
	}
	return c
}

// TestLoadKEK: the token gets the KEK the components make; a token whose
// check value says otherwise has it taken back; a token with no check
// value is noted in the transcript.
func TestLoadKEK(t *testing.T) {
	comps, kek := testComponents(t, 3, 256)
	ecb := mustKCV(t, kek, keywrap.KCVECB)
	for _, tc := range []struct {
		name       string
		checkValue []byte
		wantErr    bool
		wantLog    string
	}{
		{"matching check value", mustHex(t, ecb.Value), false, "the KEK's aes-ecb-zero KCV"},
		{"no check value", nil, false, "gives no check value"},
		{"another key's check value", []byte{1, 2, 3}, true, "so it was removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := loadCeremonyFor(t, dir, comps, kek)
			tok := &fakeToken{checkValue: tc.checkValue}
			var out bytes.Buffer
			_, err := LoadKEK(c, Source{}, testEnv(&out), func(PKCS11) (KEKToken, error) { return tok, nil })
			if (err != nil) != tc.wantErr || !strings.Contains(out.String()+errString(err), tc.wantLog) {
				t.Fatalf("err %v, want error %v and %q in:\n%s", err, tc.wantErr, tc.wantLog, out.String())
			}
			if !bytes.Equal(tok.imported, kek) {
				t.Error("the token was not given the KEK the components make")
			}
			if tc.wantErr != (len(tok.removed) == 1) {
				t.Errorf("removed %v", tok.removed)
			}
		})
	}

	// A component that is not right never reaches the token.
	dir := t.TempDir()
	c := loadCeremonyFor(t, dir, comps, kek)
	c.Components[1].KCV = "000000"
	opened := false
	_, err := LoadKEK(c, Source{}, testEnv(nil), func(PKCS11) (KEKToken, error) { opened = true; return &fakeToken{}, nil })
	if !errors.Is(err, ErrKCV) || opened {
		t.Errorf("a misread KCV: %v, token opened %v", err, opened)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
