package main

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// adtAt is inside every certificate of the PKI adtPKI writes.
const adtAt = "2026-06-01T00:00:00Z"

// adtPKI writes a test PKI with two suppliers to a temporary directory and
// returns it, and a function giving the path of a file in it.
func adtPKI(t *testing.T) (*testpki.PKI, func(name string) string) {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{
		Now:  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Rand: mrand.NewChaCha8([32]byte{'c', 'l', 'i', 'a', 'd', 't'}), Suppliers: 2, Devices: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return p, func(name string) string { return filepath.Join(dir, name) }
}

// writeTemp writes content to a new file in a temporary directory.
func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// csv joins lines, each ending in LF.
func csv(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// fakeSigLine is a well-formed signature line that signs nothing.
var fakeSigLine = "Signature,CN%3DIKI+File+Signing+CA%2C+OU%3DissuingAuthority%2C+O%3DDCC,12345," +
	base64.StdEncoding.EncodeToString(make([]byte, 64))

const adtUser = "EE-C0-5E-00-01-00-00-01" // testpki supplier 1

func TestADTValidateWithoutSignature(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		flags   []string
		code    int
		want    []string // in stdout for 0, stderr otherwise
		notWant string
	}{
		{"ok/thresholds", csv(adtUser+",17", "6.23,50,100,1440", "1.1.1,999999,999999,1440", fakeSigLine), nil, 0,
			[]string{"valid: ADT file for User " + adtUser + ", sequence 17, 2 row(s), signer serial 12345", "signature not checked (no --certs/--iki)"}, ""},
		{"ok/legacy-allowed", csv(adtUser, "6.23,1,2,60", fakeSigLine), []string{"--legacy"}, 0,
			[]string{"legacy (no sequence number)"}, ""},
		{"ok/action", csv(adtUser, "42,Release", "43,delete", "44,Delete", fakeSigLine), nil, 0,
			[]string{"valid: action file for User " + adtUser + ", 3 row(s) (1 release, 2 delete), signer serial 12345"}, ""},
		{"fail/legacy", csv(adtUser, "6.23,1,2,1440", fakeSigLine), nil, 1, []string{"F:1: header has no sequence number"}, ""},
		{"fail/thresholds-every-problem", csv(adtUser+",17", "6.23,101,100,1440", "6.99,1,1,60", "6.99,1,1,60", fakeSigLine), nil, 1,
			[]string{"F:2: warning threshold 101", `F:3: SRV "6.99"`, "F:4: duplicate row", "4 problem(s)"}, "valid"},
		{"fail/thresholds-truncated", []byte(adtUser + ",17\n6.23,1,1,1440\n1.1"), nil, 1, []string{"F:3: last line has no line ending"}, ""},
		{"fail/action-duplicate", csv(adtUser, "7,Release", "7,Delete", fakeSigLine), nil, 1, []string{"F:3: QuarantineEventRef 7 is also on line 2"}, ""},
		{"fail/action-bad-ref", csv(adtUser, "0,Release", "+1,Delete", fakeSigLine), nil, 1, []string{`F:2: QuarantineEventRef "0"`, `F:3: QuarantineEventRef "+1"`}, ""},
		{"fail/mixed-eol", []byte(adtUser + "\r\n7,Release\n" + fakeSigLine + "\r\n"), nil, 1, []string{"F:2: line ends in LF but line 1 ends in CRLF"}, ""},
		{"fail/unknown-kind", csv(adtUser, "x,y,z", fakeSigLine), nil, 1, []string{"F:2: row has 3 fields"}, ""},
		{"fail/empty", nil, nil, 1, []string{"F: file is empty"}, ""},
		{"fail/certs-without-iki", csv(adtUser+",17", "6.23,50,100,1440", fakeSigLine), []string{"--certs", "."}, 2, []string{"--certs and --iki go together"}, ""},
		{"fail/bad-at", csv(adtUser+",17", "6.23,50,100,1440", fakeSigLine), []string{"--at", "yesterday"}, 2, []string{"--at"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "F", tc.in)
			args := append(append([]string{"adt", "validate"}, tc.flags...), path)
			code, out, errs := ecos(t, "", args...)
			got := strings.ReplaceAll(errs, path, "F")
			if code == 0 {
				got = out
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output does not contain %q:\n%s", w, got)
				}
			}
			if tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Errorf("stdout contains %q: %s", tc.notWant, out)
			}
		})
	}
}

func TestADTValidateInput(t *testing.T) {
	if code, _, errs := ecos(t, "", "adt", "validate", filepath.Join(t.TempDir(), "missing.csv")); code != 2 || !strings.Contains(errs, "no such file") {
		t.Errorf("unreadable file: exit %d %s", code, errs)
	}
	if code, _, _ := ecos(t, "", "adt", "validate"); code != 2 {
		t.Errorf("no FILE: exit %d", code)
	}
	in := string(csv(adtUser+",17", "6.23,1,1,1440", "x", fakeSigLine))
	if code, _, errs := ecos(t, in, "adt", "validate", "-"); code != 1 || !strings.Contains(errs, "<stdin>:3: row has 1 fields") {
		t.Errorf("stdin: exit %d %s", code, errs)
	}
}

// TestADTSignValidate: what `ecos adt sign` writes, `ecos adt validate`
// verifies, for both kinds and both line endings; a changed byte, another
// User's certificate and a certificate not from the IKI CA are refused.
func TestADTSignValidate(t *testing.T) {
	p, pki := adtPKI(t)
	verify := []string{"--certs", filepath.Dir(pki("x")), "--iki", pki("iki-file-signing-ca.pem"), "--at", adtAt}
	signWith := func(t *testing.T, cred string, body []byte, flags ...string) (int, string, string) {
		t.Helper()
		args := append([]string{"adt", "sign", "--key", pki(cred + ".key"), "--cert", pki(cred + ".pem")}, flags...)
		return ecos(t, "", append(args, writeTemp(t, "body.csv", body))...)
	}
	validate := func(t *testing.T, signed string, flags ...string) (int, string, string) {
		t.Helper()
		return ecos(t, signed, append(append([]string{"adt", "validate"}, flags...), "-")...)
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"thresholds/LF", csv(adtUser+",1", "6.23,50,100,1440"), "valid: ADT file for User " + adtUser + ", sequence 1, 1 row(s)"},
		{"thresholds/CRLF", []byte(adtUser + ",2\r\n6.23,50,100,1440\r\n1.1.1,1,1,60\r\n"), "sequence 2, 2 row(s)"},
		{"action/LF", csv(adtUser, "42,Release", "18446744073709551615,Delete"), "valid: action file for User " + adtUser + ", 2 row(s) (1 release, 1 delete)"},
		{"action/CRLF-no-final-newline", []byte(adtUser + "\r\n42,Release"), "action file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, signed, errs := signWith(t, "supplier1-file-signing", tc.body)
			if code != 0 {
				t.Fatalf("sign: exit %d %s", code, errs)
			}
			crlfs, lfs := strings.Count(signed, "\r\n"), strings.Count(signed, "\n")
			if !strings.HasPrefix(signed, string(tc.body)) || (bytes.Contains(tc.body, []byte("\r")) != (crlfs == lfs)) || (crlfs != 0 && crlfs != lfs) {
				t.Errorf("signed file %q does not keep the body %q and its line endings", signed, tc.body)
			}
			code, out, errs := validate(t, signed, verify...)
			if code != 0 || !strings.Contains(out, tc.want) || !strings.Contains(out, "signature verified") {
				t.Fatalf("validate: exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
			// One changed byte in the body: a threshold or a ref.
			altered := strings.Replace(signed, "6.23,50,", "6.23,51,", 1)
			if altered == signed {
				altered = strings.Replace(signed, "42,", "43,", 1)
			}
			if code, _, errs := validate(t, altered, verify...); code != 1 || !strings.Contains(errs, "does not verify") {
				t.Errorf("altered byte: exit %d %s", code, errs)
			}
		})
	}

	t.Run("other-users-certificate", func(t *testing.T) {
		// `ecos adt sign` refuses this; a hand-made file gets as far as
		// the verifier, which refuses it too.
		body := csv(adtUser, "42,Release")
		if code, _, errs := signWith(t, "supplier2-file-signing", body); code != 1 || !strings.Contains(errs, "--cert belongs to EE-C0-5E-00-01-00-00-02") {
			t.Errorf("sign: exit %d %s", code, errs)
		}
		cert, err := smki.Parse(p.Suppliers[1].FileSigning.Cert)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := adt.Sign(body, p.Suppliers[1].FileSigning.Key, cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, errs := validate(t, string(signed), verify...); code != 1 || !strings.Contains(errs, "<stdin>:3:") || !strings.Contains(errs, "not to the file's User") {
			t.Errorf("validate: exit %d %s", code, errs)
		}
	})
	t.Run("not-issued-by-IKI", func(t *testing.T) {
		code, signed, errs := signWith(t, "supplier1-ds", csv(adtUser+",1", "6.23,50,100,1440"))
		if code != 0 {
			t.Fatalf("sign: exit %d %s", code, errs)
		}
		if code, _, errs := validate(t, signed, verify...); code != 1 || !strings.Contains(errs, "does not chain to the IKI") {
			t.Errorf("validate: exit %d %s", code, errs)
		}
		// Naming the root as --iki does not let the Organisation CA in.
		rooted := []string{"--certs", filepath.Dir(pki("x")), "--iki", pki("root-ca.pem"), "--at", adtAt}
		if code, _, errs := validate(t, signed, rooted...); code != 1 || !strings.Contains(errs, "does not chain") {
			t.Errorf("validate with the root as --iki: exit %d %s", code, errs)
		}
	})
	t.Run("signer-expired", func(t *testing.T) {
		_, signed, _ := signWith(t, "supplier1-file-signing", csv(adtUser, "42,Release"))
		late := []string{"--certs", filepath.Dir(pki("x")), "--iki", pki("iki-file-signing-ca.pem"), "--at", "2099-01-01T00:00:00Z"}
		if code, _, errs := validate(t, signed, late...); code != 1 || !strings.Contains(errs, "2099-01-01") {
			t.Errorf("validate: exit %d %s", code, errs)
		}
	})
}

func TestADTSignOptions(t *testing.T) {
	p, pki := adtPKI(t)
	body := csv(adtUser+",1", "6.23,50,100,1440")
	bodyPath := writeTemp(t, "body.csv", body)
	sign := func(key, cert string, rest ...string) (int, string, string) {
		return ecos(t, "", append([]string{"adt", "sign", "--key", key, "--cert", cert}, rest...)...)
	}
	key, cert := pki("supplier1-file-signing.key"), pki("supplier1-file-signing.pem")
	code, signed, errs := sign(key, cert, bodyPath)
	if code != 0 {
		t.Fatalf("sign: exit %d %s", code, errs)
	}

	t.Run("out", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "signed.csv")
		if code, stdout, errs := sign(key, cert, "--out", out, bodyPath); code != 0 || stdout != "" {
			t.Fatalf("exit %d %q %s", code, stdout, errs)
		}
		if got, err := os.ReadFile(out); err != nil || string(got) != signed {
			t.Errorf("--out wrote %q (%v), want %q", got, err, signed)
		}
	})
	t.Run("already-signed", func(t *testing.T) {
		signedPath := writeTemp(t, "signed.csv", []byte(signed))
		if code, _, errs := sign(key, cert, signedPath); code != 2 || !strings.Contains(errs, "--resign") {
			t.Errorf("without --resign: exit %d %s", code, errs)
		}
		// RFC 6979: re-signing the same body gives the same file.
		if code, out, errs := sign(key, cert, "--resign", signedPath); code != 0 || out != signed {
			t.Errorf("--resign: exit %d %q %s, want %q", code, out, errs, signed)
		}
	})
	t.Run("DER-certificate-SEC1-key", func(t *testing.T) {
		fsg := p.Suppliers[0].FileSigning
		sec1, err := x509.MarshalECPrivateKey(fsg.Key)
		if err != nil {
			t.Fatal(err)
		}
		keyPath := writeTemp(t, "k.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
		if code, out, errs := sign(keyPath, writeTemp(t, "c.der", fsg.Cert), bodyPath); code != 0 || out != signed {
			t.Errorf("exit %d %s", code, errs)
		}
	})
	t.Run("body-does-not-parse", func(t *testing.T) {
		bad := writeTemp(t, "bad.csv", csv(adtUser+",1", "6.23,50,100,1440", "6.23,5,1,1440", "1.1.1,x,1,60"))
		code, out, errs := sign(key, cert, bad)
		if code != 1 || out != "" || !strings.Contains(errs, "bad.csv:3: warning threshold 5 is above") || !strings.Contains(errs, "bad.csv:4: warning threshold \"x\"") {
			t.Errorf("exit %d %q\n%s", code, out, errs)
		}
	})
	t.Run("key-not-the-certificate's", func(t *testing.T) {
		if code, _, errs := sign(pki("supplier2-file-signing.key"), cert, bodyPath); code != 1 || !strings.Contains(errs, "does not match") {
			t.Errorf("exit %d %s", code, errs)
		}
	})
	t.Run("missing-flags", func(t *testing.T) {
		if code, _, errs := ecos(t, "", "adt", "sign", bodyPath); code != 2 || !strings.Contains(errs, "--key and --cert are required") {
			t.Errorf("exit %d %s", code, errs)
		}
	})
	t.Run("only-a-signature-line", func(t *testing.T) {
		only := writeTemp(t, "only.csv", csv(fakeSigLine))
		if code, _, errs := sign(key, cert, "--resign", only); code != 1 || !strings.Contains(errs, "nothing to sign") {
			t.Errorf("exit %d %s", code, errs)
		}
	})
}
