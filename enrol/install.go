package enrol

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

// Check accepts an issued ECoS certificate (one PEM CERTIFICATE, or DER)
// only if it follows the SMKI Organisation profile, is a transitionalCoS
// digitalSignature certificate, chains to opts.Roots at opts.Now, and
// certifies pub, the key the service will sign with. Each refusal is a
// sentence saying which of these failed. It returns the chain, the
// certificate first and the anchor last.
func Check(data []byte, pub *ecdsa.PublicKey, opts smki.VerifyOptions) ([]*smki.Certificate, error) {
	var certs []*smki.Certificate
	var err error
	if bytes.Contains(data, []byte("-----BEGIN")) {
		certs, err = smki.ParsePEM(data)
	} else {
		var c *smki.Certificate
		if c, err = smki.Parse(data); err == nil {
			certs = []*smki.Certificate{c}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("it is not a certificate: %w", err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("it holds %d certificates; give the one issued for the ECoS key", len(certs))
	}
	c := certs[0]
	if c.Kind != smki.Organisation {
		return nil, fmt.Errorf("it is a %v certificate, not an Organisation certificate", c.Kind)
	}
	if err := c.CheckProfile(); err != nil {
		return nil, fmt.Errorf("it breaks the SMKI Organisation certificate profile: %w", err)
	}
	if c.Role != role.TransitionalCoS {
		return nil, fmt.Errorf("it is a %v certificate (OU %02X); the ECoS credential is a transitionalCoS one (OU 05)", c.Role, uint8(c.Role))
	}
	if c.KeyUsage != smki.KeyUsageDigitalSignature {
		return nil, fmt.Errorf("its key usage is %v; the ECoS credential signs commands: digitalSignature", c.KeyUsage)
	}
	chain, err := smki.Verify(c, opts)
	if err != nil {
		return nil, fmt.Errorf("it does not chain to the configured trust anchors (trust.organisation_cas, trust.intermediates): %w", err)
	}
	if pub == nil || !c.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("it certifies another key (%s) than the ECoS key (%s)", Fingerprint(c.PublicKey), fingerprintOrNone(pub))
	}
	return chain, nil
}

func fingerprintOrNone(pub *ecdsa.PublicKey) string {
	if pub == nil {
		return "none"
	}
	return Fingerprint(pub)
}

// ErrExists is returned by Install when path holds something else than
// the certificate.
var ErrExists = errors.New("enrol: the certificate file exists")

// Install writes c to path as PEM, created with O_EXCL (mode 0644: a
// certificate is public) and synced. A path that already holds exactly c
// is left alone (installed is false); anything else there is refused,
// never replaced.
func Install(path string, c *smki.Certificate) (installed bool, err error) {
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if certs, perr := smki.ParsePEM(old); perr == nil && len(certs) == 1 && certs[0].Equal(c) {
			return false, nil
		}
		if old2, perr := smki.Parse(old); perr == nil && old2.Equal(c) {
			return false, nil
		}
		return false, fmt.Errorf("%w: %s holds something else; move it away first if it is to be replaced", ErrExists, path)
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("enrol: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return false, fmt.Errorf("enrol: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(path)
		return false, fmt.Errorf("enrol: writing %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return true, nil
}
