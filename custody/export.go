package custody

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/keywrap"
	"github.com/ecos-cos/ecos/smki"
)

// ExportResult is what an export ceremony wrote.
type ExportResult struct {
	Manifest     *Manifest
	Wrapped      string // the blob's file
	ManifestFile string
	Transcript   string
}

// Export runs an export ceremony: it checks the component files and the
// KEK they make by their KCVs, then the key against its certificate, and
// writes the key as PKCS#8 wrapped under the KEK (RFC 5649) and its
// manifest. The clear key is never written; the blob is proved by
// unwrapping it again before it is written. It refuses to start if an
// output exists; if a step fails, nothing but the transcript is left.
func Export(c *ExportCeremony, src Source, env Env) (*ExportResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	res := &ExportResult{Wrapped: c.Wrapped, ManifestFile: c.Manifest, Transcript: TranscriptFile(c, env.Now())}
	err := conduct(c, src, env, res.Transcript, []string{res.Wrapped, res.ManifestFile}, func(t *Transcript) (string, error) {
		var err error
		res.Manifest, err = export(c, env, t)
		return fmt.Sprintf("move %s and %s to the importing side; the KEK's components travel separately, with their custodians", res.Wrapped, res.ManifestFile), err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func export(c *ExportCeremony, env Env, t *Transcript) (*Manifest, error) {
	kek, err := CombineFiles(c.Components, c.KCVMethod, c.KCV, t)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	kcvs, err := AllKCVs(kek)
	if err != nil {
		return nil, err
	}
	cert, err := LoadCertificate(c.Cert)
	if err != nil {
		return nil, err
	}
	t.Logf("certificate %s: %s, subject key identifier %X, valid %s to %s%s", c.Cert, cert, cert.SubjectKeyID,
		cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339), expired(cert, env.Now()))
	wrapped, err := WrapKeyFile(c.Key, cert, kek, env.Rand)
	if err != nil {
		return nil, err
	}
	t.Logf("key %s is the certificate's (a signature by it verifies with the certificate); wrapped its PKCS#8 under the KEK (RFC 5649) and unwrapped it again to the same bytes", c.Key)
	m := newManifest(wrapped, c.Wrapped, cert, kcvs, env.Now())
	mj, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if err := WriteNew(c.Wrapped, wrapped, 0o444); err != nil {
		return nil, err
	}
	if err := WriteNew(c.Manifest, mj, 0o444); err != nil {
		_ = os.Remove(c.Wrapped)
		return nil, err
	}
	t.Logf("wrote %s (%d bytes, sha256 %s) and its manifest %s", c.Wrapped, m.WrappedLength, m.WrappedSHA256, c.Manifest)
	for _, k := range kcvs {
		t.Logf("KEK KCV %s", k)
	}
	if err := t.Err(); err != nil {
		_ = os.Remove(c.Wrapped)
		_ = os.Remove(c.Manifest)
		return nil, err
	}
	return m, nil
}

// expired notes a certificate past its notAfter: a TCoS key is still
// moved then, as devices anchored on it keep accepting its signatures.
func expired(cert *smki.Certificate, now time.Time) string {
	if now.After(cert.NotAfter) {
		return " (expired: devices that hold it as their trust anchor still accept its key's signatures)"
	}
	return ""
}

// LoadCertificate reads the one certificate of a PEM or DER file, with a
// P-256 key and a subject key identifier (which a manifest names the key
// by).
func LoadCertificate(path string) (*smki.Certificate, error) {
	certs, err := smki.LoadFiles(path)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("certificate %s: %d certificates; want the key's one", path, len(certs))
	}
	c := certs[0]
	if c.PublicKey == nil {
		return nil, fmt.Errorf("certificate %s: not a P-256 key's", path)
	}
	if len(c.SubjectKeyID) == 0 {
		return nil, fmt.Errorf("certificate %s has no subject key identifier, which the manifest names the key by", path)
	}
	return c, nil
}

// ErrNotTheKey: the private key is not the certificate's.
var ErrNotTheKey = errors.New("the private key is not the certificate's")

// WrapKeyFile reads a P-256 private key (PKCS#8 or SEC 1, PEM or DER),
// refuses one that is not cert's (by its public key, then by a signature
// that must verify with the certificate's key), and returns its PKCS#8 DER
// wrapped under kek with RFC 5649, proved by unwrapping it to the same
// bytes. The clear key is cleared after use.
func WrapKeyFile(path string, cert *smki.Certificate, kek []byte, rnd io.Reader) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the key: %w", err)
	}
	defer clear(raw)
	key, err := hsm.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return WrapKey(key, cert, kek, rnd)
}

// WrapKey is WrapKeyFile for a key in memory.
func WrapKey(key *ecdsa.PrivateKey, cert *smki.Certificate, kek []byte, rnd io.Reader) ([]byte, error) {
	if err := hsm.CheckMatches(key, cert.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: its public key is not the one in %s", ErrNotTheKey, cert)
	}
	digest := make([]byte, sha256.Size)
	if _, err := io.ReadFull(rnd, digest); err != nil {
		return nil, fmt.Errorf("reading randomness: %w", err)
	}
	sig, err := ecdsa.SignASN1(rnd, key, digest)
	if err != nil {
		return nil, fmt.Errorf("signing with the key: %w", err)
	}
	if !ecdsa.VerifyASN1(cert.PublicKey, digest, sig) {
		return nil, fmt.Errorf("%w: a signature by it does not verify with %s", ErrNotTheKey, cert)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the key as PKCS#8: %w", err)
	}
	defer clear(der)
	wrapped, err := keywrap.WrapPad(kek, der)
	if err != nil {
		return nil, err
	}
	back, err := keywrap.UnwrapPad(kek, wrapped)
	same := err == nil && bytes.Equal(back, der)
	clear(back)
	if !same {
		return nil, errors.New("the wrapped key does not unwrap to the key: not written")
	}
	return wrapped, nil
}
