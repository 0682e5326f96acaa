package custody

import (
	"crypto/ecdsa"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/keywrap"
)

// ImportToken is the token a wrapped key is imported into (an hsm.Admin).
type ImportToken interface {
	// KEKCheckValue is the token's check value of the KEK labelled label
	// (nil if the token gives none).
	KEKCheckValue(label string) ([]byte, error)
	// UnwrapSigningKey unwraps wrapped inside the token into a sign-only,
	// non-extractable key labelled label, proves it against pub, and
	// leaves nothing on the token if any step fails.
	UnwrapSigningKey(kekLabel string, mech hsm.Mechanism, wrapped []byte, label string, pub *ecdsa.PublicKey) error
	Close() error
}

// ImportResult is what an import ceremony did.
type ImportResult struct {
	Manifest   *Manifest
	Token      string
	KeyLabel   string
	Transcript string
}

// Import runs an import ceremony: the wrapped key must be the one its
// manifest describes (length and SHA-256), the certificate the one it
// names (SKI), and the token's KEK the one it was wrapped under (the
// token's check value against the manifest's KCV, where the token gives
// one); only then is it unwrapped inside the token, as a key that signs
// and never leaves, and proved by a signature verified with the
// certificate. Nothing but the transcript is written on this side.
func Import(c *ImportCeremony, src Source, env Env, open func(PKCS11) (ImportToken, error)) (*ImportResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	mech, err := hsm.ParseMechanism(c.Mechanism)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Token: c.PKCS11.TokenLabel, KeyLabel: c.KeyLabel, Transcript: TranscriptFile(c, env.Now())}
	err = conduct(c, src, env, res.Transcript, nil, func(t *Transcript) (string, error) {
		var err error
		res.Manifest, err = importKey(c, mech, env, t, open)
		return fmt.Sprintf("key %q is on token %q; point the configuration's key at it (docs/keys.md) and run ecos keys prove", c.KeyLabel, c.PKCS11.TokenLabel), err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func importKey(c *ImportCeremony, mech hsm.Mechanism, env Env, t *Transcript, open func(PKCS11) (ImportToken, error)) (*Manifest, error) {
	mb, err := os.ReadFile(c.Manifest)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := ParseManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", c.Manifest, err)
	}
	blob, err := readWrapped(c.Wrapped)
	if err != nil {
		return nil, err
	}
	if err := m.CheckWrapped(blob); err != nil {
		return nil, fmt.Errorf("wrapped key %s: %w", c.Wrapped, err)
	}
	t.Logf("wrapped key %s: %d bytes, SHA-256 %s, as manifest %s (made %s) says", c.Wrapped, len(blob), m.WrappedSHA256, c.Manifest, m.Created)
	if base := filepath.Base(c.Wrapped); base != m.WrappedFile {
		t.Logf("note: the manifest named the file %s; it is now %s (its content is checked, not its name)", m.WrappedFile, base)
	}
	cert, err := LoadCertificate(c.Cert)
	if err != nil {
		return nil, err
	}
	if err := m.CheckCertificate(cert); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", c.Cert, err)
	}
	t.Logf("certificate %s: %s, SKI %s as the manifest says, valid to %s%s", c.Cert, cert.Subject, m.CertificateSKI,
		cert.NotAfter.UTC().Format("2006-01-02"), expired(cert, env.Now()))
	tok, err := open(c.PKCS11)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	t.Logf("logged in to token %q (module %s)", c.PKCS11.TokenLabel, c.PKCS11.Module)
	cv, err := tok.KEKCheckValue(c.KEKLabel)
	if err != nil {
		return nil, err
	}
	if cv == nil {
		t.Logf("the token gives no check value for KEK %q: the unwrap's own integrity check proves it", c.KEKLabel)
	} else {
		if err := m.CheckKEKCheckValue(cv); err != nil {
			return nil, fmt.Errorf("KEK %q: the key was wrapped under another KEK: %w", c.KEKLabel, err)
		}
		want, _ := m.KCV(keywrap.KCVECB)
		t.Logf("KEK %q on the token has check value %s, the KCV the manifest gives", c.KEKLabel, want)
	}
	if err := tok.UnwrapSigningKey(c.KEKLabel, mech, blob, c.KeyLabel, cert.PublicKey); err != nil {
		return nil, err
	}
	t.Logf("unwrapped inside the token with %s into %q: sign only, sensitive, never extractable; its public key from the certificate beside it", mech, c.KeyLabel)
	t.Logf("proved: a signature by %q over a random digest verifies with the certificate's public key", c.KeyLabel)
	return m, nil
}

// readWrapped reads a wrapped key file, refusing one too big to be one
// before reading it all.
func readWrapped(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("wrapped key: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxWrapped {
		return nil, fmt.Errorf("wrapped key %s: not a file of at most %d bytes", path, maxWrapped)
	}
	return os.ReadFile(path)
}
