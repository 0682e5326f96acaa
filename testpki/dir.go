package testpki

import (
	"bytes"
	"crypto/ecdsa"
	stdx509 "crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ctx509 "github.com/google/certificate-transparency-go/x509"
)

// ErrDirNotEmpty is returned by WriteDir for a directory that already has
// files in it.
var ErrDirNotEmpty = errors.New("testpki: directory is not empty")

// WriteOptions tunes WriteDirWith.
type WriteOptions struct {
	// Overwrite replaces dir when it already holds a test PKI (a manifest.json
	// of this package's format). Any other non-empty directory is still
	// refused, so a mistyped path cannot wipe unrelated files.
	Overwrite bool
}

// WriteDir writes <name>.pem (certificate), <name>.key (PKCS#8, mode 0600)
// for every credential, and manifest.json. dir must not exist or be empty.
// Files are written into a temporary directory beside dir and renamed into
// place, so dir is never left half-written; dir ends up with mode 0700
// because it holds private keys.
func (p *PKI) WriteDir(dir string) error { return p.WriteDirWith(dir, WriteOptions{}) }

// WriteDirWith is WriteDir with options.
func (p *PKI) WriteDirWith(dir string, o WriteOptions) error {
	dir = filepath.Clean(dir)
	state, err := dirState(dir)
	if err != nil {
		return err
	}
	if state == stateFull && !o.Overwrite {
		return fmt.Errorf("%w: %s", ErrDirNotEmpty, dir)
	}
	if state == stateFull && !holdsTestPKI(dir) {
		return fmt.Errorf("testpki: refusing to overwrite %s: it does not hold a test PKI (no valid %s)", dir, manifestFile)
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("testpki: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("testpki: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed into place
	if err := p.writeFiles(tmp); err != nil {
		return fmt.Errorf("testpki: writing %s: %w", dir, err)
	}
	if err := replace(tmp, dir, state); err != nil {
		return fmt.Errorf("testpki: %w", err)
	}
	return syncDir(parent)
}

type dirKind int

const (
	stateAbsent dirKind = iota
	stateEmpty
	stateFull
)

func dirState(dir string) (dirKind, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return stateAbsent, nil
	}
	if err != nil {
		return 0, fmt.Errorf("testpki: %w", err)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("testpki: %s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("testpki: %w", err)
	}
	if len(entries) > 0 {
		return stateFull, nil
	}
	return stateEmpty, nil
}

func holdsTestPKI(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return false
	}
	_, err = parseManifest(b)
	return err == nil
}

// replace moves the finished tmp directory to dir. os.Rename will not
// replace a directory, so an empty dir is removed first (os.Remove fails if
// something appeared in it meanwhile) and a full one is moved aside and
// deleted only once the new one is in place.
func replace(tmp, dir string, state dirKind) error {
	switch state {
	case stateEmpty:
		if err := os.Remove(dir); err != nil {
			return err
		}
	case stateFull:
		old, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".old-")
		if err != nil {
			return err
		}
		if err := os.Remove(old); err != nil {
			return err
		}
		if err := os.Rename(dir, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, dir); err != nil {
			return errors.Join(err, os.Rename(old, dir))
		}
		return os.RemoveAll(old)
	}
	return os.Rename(tmp, dir)
}

func (p *PKI) writeFiles(dir string) error {
	m := newManifest(p)
	for _, c := range p.all {
		key, err := c.KeyPEM()
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if err := writeFile(filepath.Join(dir, c.Name+".pem"), c.CertPEM(), 0o644); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, c.Name+".key"), key, 0o600); err != nil {
			return err
		}
	}
	b, err := m.marshal()
	if err != nil {
		return err
	}
	// The manifest goes last: its presence marks a complete directory.
	if err := writeFile(filepath.Join(dir, manifestFile), b, 0o644); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// LoadDir reads back a directory written by WriteDir. Beyond parsing, it
// checks that each key matches its certificate, that the manifest agrees
// with the certificates, and that every signature verifies under the issuer
// the manifest names, so a mixed-up directory fails here rather than in a
// confusing test later.
func LoadDir(dir string) (*PKI, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("testpki: %s: %w", dir, err)
	}
	var all []*Credential
	parsed := map[string]*ctx509.Certificate{}
	for _, e := range m.Credentials {
		c, cert, err := loadCredential(dir, e)
		if err != nil {
			return nil, fmt.Errorf("testpki: %s: %w", dir, err)
		}
		all = append(all, c)
		parsed[c.Name] = cert
	}
	p, err := assemble(all)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		cert, issuer := parsed[c.Name], parsed[c.IssuerName]
		if !bytes.Equal(cert.RawIssuer, issuer.RawSubject) {
			return nil, fmt.Errorf("testpki: %s: issuer name is not %s's subject", c.Name, c.IssuerName)
		}
		if err := cert.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("testpki: %s: not signed by %s: %w", c.Name, c.IssuerName, err)
		}
	}
	return p, nil
}

func loadCredential(dir string, e manifestEntry) (*Credential, *ctx509.Certificate, error) {
	c, err := e.credential()
	if err != nil {
		return nil, nil, err
	}
	certDER, err := readPEM(filepath.Join(dir, e.CertFile), "CERTIFICATE")
	if err != nil {
		return nil, nil, err
	}
	cert, err := ctx509.ParseCertificate(certDER)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", e.CertFile, err)
	}
	keyDER, err := readPEM(filepath.Join(dir, e.KeyFile), "PRIVATE KEY")
	if err != nil {
		return nil, nil, err
	}
	k, err := stdx509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", e.KeyFile, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("%s: key does not match %s", e.KeyFile, e.CertFile)
	}
	c.Cert, c.Key = certDER, key
	c.Serial, c.SKI = cert.SerialNumber, cert.SubjectKeyId
	c.NotBefore, c.NotAfter = cert.NotBefore.UTC(), cert.NotAfter.UTC()
	if c.Subject, err = formatDN(cert.RawSubject); err != nil {
		return nil, nil, fmt.Errorf("%s: subject: %w", e.CertFile, err)
	}
	if c.Issuer, err = formatDN(cert.RawIssuer); err != nil {
		return nil, nil, fmt.Errorf("%s: issuer: %w", e.CertFile, err)
	}
	if err := e.checkDerived(c); err != nil {
		return nil, nil, err
	}
	if err := checkIdentity(c, cert); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", e.CertFile, err)
	}
	return c, cert, nil
}

func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != typ || len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s: want exactly one PEM %q block", filepath.Base(path), typ)
	}
	return blk.Bytes, nil
}

// checkIdentity confirms the manifest's EUI, role and key usage are what the
// certificate carries, by looking for the exact encodings Generate writes.
func checkIdentity(c *Credential, cert *ctx509.Certificate) error {
	wantKU := map[string]ctx509.KeyUsage{
		UsageDS: ctx509.KeyUsageDigitalSignature,
		UsageKA: ctx509.KeyUsageKeyAgreement,
		UsageCA: ctx509.KeyUsageCertSign | ctx509.KeyUsageCRLSign,
	}[c.Usage]
	if cert.KeyUsage != wantKU {
		return fmt.Errorf("key usage %#x, manifest says %s", cert.KeyUsage, c.Usage)
	}
	switch c.Profile {
	case ProfileOrganisation, ProfileFileSigning:
		uid := append([]byte{0x03, 0x09, 0x00}, c.EUI[:]...)
		ou := append([]byte{0x0C, 0x02}, roleHex(c.Role)...)
		if !bytes.Contains(cert.RawSubject, uid) || !bytes.Contains(cert.RawSubject, ou) {
			return fmt.Errorf("subject %s does not carry role %02X and EUI %s", c.Subject, c.Role, c.EUI)
		}
	case ProfileDevice:
		if len(cert.RawSubject) != 2 || !bytes.Contains(cert.RawTBSCertificate, append([]byte{0x04, 0x08}, c.EUI[:]...)) {
			return fmt.Errorf("not a device certificate for %s", c.EUI)
		}
	}
	return nil
}
