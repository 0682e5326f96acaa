package custody

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/internal/strictjson"
	"github.com/ecos-cos/ecos/keywrap"
	"github.com/ecos-cos/ecos/smki"
)

// The manifest's fixed fields: what the blob is, so the importing side
// never has to guess.
const (
	ManifestFormat = "ecos-wrapped-key/1"
	WrapRFC5649    = "RFC 5649 AES key wrap with padding"
	KeyPKCS8P256   = "PKCS#8 EC P-256"
)

// Manifest describes a wrapped key, beside it: how it is wrapped, what it
// is, the certificate whose key it is, and the KEK's check values by both
// methods (the HSM shows one, custodians may hold the other).
type Manifest struct {
	Format             string `json:"format"`
	Wrap               string `json:"wrap"`
	Key                string `json:"key"`
	WrappedFile        string `json:"wrapped_file"`   // the blob's base name, in the manifest's directory
	WrappedSHA256      string `json:"wrapped_sha256"` // lower-case hex
	WrappedLength      int    `json:"wrapped_length"`
	CertificateSKI     string `json:"certificate_ski"` // upper-case hex
	CertificateSubject string `json:"certificate_subject"`
	KEKKCVs            []KCV  `json:"kek_kcvs"`
	Created            string `json:"created"` // RFC 3339, UTC
}

// maxWrapped bounds a wrapped PKCS#8 P-256 key: about 150 bytes.
const maxWrapped = 1 << 10

var (
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	skiRE    = regexp.MustCompile(`^([0-9A-F]{2}){1,64}$`)
)

// newManifest describes wrapped, to be written as wrappedFile.
func newManifest(wrapped []byte, wrappedFile string, cert *smki.Certificate, kekKCVs []KCV, created time.Time) *Manifest {
	sum := sha256.Sum256(wrapped)
	return &Manifest{
		Format:             ManifestFormat,
		Wrap:               WrapRFC5649,
		Key:                KeyPKCS8P256,
		WrappedFile:        filepath.Base(wrappedFile),
		WrappedSHA256:      hex.EncodeToString(sum[:]),
		WrappedLength:      len(wrapped),
		CertificateSKI:     strings.ToUpper(hex.EncodeToString(cert.SubjectKeyID)),
		CertificateSubject: cert.Subject.String(),
		KEKKCVs:            kekKCVs,
		Created:            created.UTC().Format(time.RFC3339),
	}
}

// Marshal is the manifest as indented JSON with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseManifest decodes a manifest strictly (unknown, duplicate or
// case-different keys and wrong types refused with line and column) and
// checks every field.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if _, err := strictjson.Decode(data, &m, strictjson.Options{What: "manifest"}); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) validate() error {
	var ps problems
	fixed := func(key, got, want string) {
		if got != want {
			ps.add(key, "%q: want %q", clip(got), want)
		}
	}
	fixed("format", m.Format, ManifestFormat)
	fixed("wrap", m.Wrap, WrapRFC5649)
	fixed("key", m.Key, KeyPKCS8P256)
	if m.WrappedFile == "" || m.WrappedFile != filepath.Base(m.WrappedFile) || m.WrappedFile == "." || m.WrappedFile == ".." || strings.ContainsAny(m.WrappedFile, `/\`) {
		ps.add("wrapped_file", "%q: want the wrapped key's file name, without a directory", clip(m.WrappedFile))
	}
	if !sha256RE.MatchString(m.WrappedSHA256) {
		ps.add("wrapped_sha256", "%q: want 64 lower-case hex digits", clip(m.WrappedSHA256))
	}
	// RFC 5649 output is 8-byte blocks, at least two of them.
	if m.WrappedLength < 16 || m.WrappedLength > maxWrapped || m.WrappedLength%8 != 0 {
		ps.add("wrapped_length", "%d: an RFC 5649 wrapped key is a multiple of 8 bytes, 16 to %d", m.WrappedLength, maxWrapped)
	}
	if !skiRE.MatchString(m.CertificateSKI) {
		ps.add("certificate_ski", "%q: want the certificate's subject key identifier in upper-case hex", clip(m.CertificateSKI))
	}
	if m.CertificateSubject == "" {
		ps.add("certificate_subject", "required")
	}
	seen := map[string]bool{}
	for i, k := range m.KEKKCVs {
		key := fmt.Sprintf("kek_kcvs[%d]", i)
		if err := checkMethod(k.Method); err != nil {
			ps.add(key+".method", "%v", err)
		} else if seen[string(k.Method)] {
			ps.add(key+".method", "%s is given twice", k.Method)
		}
		seen[string(k.Method)] = true
		if v, err := normalKCV(k.Value); err != nil || v != k.Value {
			ps.add(key+".value", "%q: want 6 upper-case hex digits", clip(k.Value))
		}
	}
	for _, meth := range Methods {
		if !seen[string(meth)] {
			ps.add("kek_kcvs", "no %s KCV: the manifest gives the KEK's by both methods", meth)
		}
	}
	if t, err := time.Parse(time.RFC3339, m.Created); err != nil || !strings.HasSuffix(m.Created, "Z") || t.Format(time.RFC3339) != m.Created {
		ps.add("created", "%q: want an RFC 3339 UTC time such as 2026-12-02T03:04:05Z", clip(m.Created))
	}
	if len(ps) == 0 {
		return nil
	}
	return &strictjson.Error{File: "manifest", Problems: ps}
}

// ErrManifest: a wrapped key, certificate or KEK is not the one its
// manifest describes.
var ErrManifest = errors.New("not what the manifest describes")

// CheckWrapped refuses a blob whose length or SHA-256 is not the
// manifest's: a tampered or truncated file, or the wrong one.
func (m *Manifest) CheckWrapped(blob []byte) error {
	if len(blob) != m.WrappedLength {
		return fmt.Errorf("%w: the wrapped key has %d bytes, the manifest says %d", ErrManifest, len(blob), m.WrappedLength)
	}
	sum := sha256.Sum256(blob)
	if hex.EncodeToString(sum[:]) != m.WrappedSHA256 {
		return fmt.Errorf("%w: the wrapped key's SHA-256 is %x, the manifest says %s", ErrManifest, sum, m.WrappedSHA256)
	}
	return nil
}

// CheckCertificate refuses a certificate whose subject key identifier is
// not the manifest's.
func (m *Manifest) CheckCertificate(cert *smki.Certificate) error {
	ski := strings.ToUpper(hex.EncodeToString(cert.SubjectKeyID))
	if len(cert.SubjectKeyID) == 0 || ski != m.CertificateSKI {
		return fmt.Errorf("%w: the certificate's subject key identifier is %q, the manifest's %s", ErrManifest, ski, m.CertificateSKI)
	}
	return nil
}

// KCV is the manifest's KEK check value by method.
func (m *Manifest) KCV(method keywrap.KCVMethod) (KCV, bool) {
	for _, k := range m.KEKKCVs {
		if k.Method == method {
			return k, true
		}
	}
	return KCV{}, false
}

// CheckKEKCheckValue refuses a KEK whose token check value (PKCS#11
// CKA_CHECK_VALUE) is not the manifest's aes-ecb-zero KCV: the blob was
// wrapped under another KEK.
func (m *Manifest) CheckKEKCheckValue(checkValue []byte) error {
	want, ok := m.KCV(keywrap.KCVECB)
	if !ok {
		return fmt.Errorf("%w: the manifest has no %s KCV", ErrManifest, keywrap.KCVECB)
	}
	if err := MatchCheckValue(checkValue, want); err != nil {
		return fmt.Errorf("%w: %v", ErrManifest, err)
	}
	return nil
}
