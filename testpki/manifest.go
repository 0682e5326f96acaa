package testpki

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

const (
	manifestFile   = "manifest.json"
	manifestFormat = "ecos-testpki/1"
	manifestNotice = "TEST PKI: every private key here is public test data. Never use it in production."
)

// manifest is manifest.json: what each file is, so that people and tools
// can find a credential without decoding certificates.
type manifest struct {
	Format      string          `json:"format"`
	Notice      string          `json:"notice"`
	Credentials []manifestEntry `json:"credentials"`
}

type manifestEntry struct {
	Name       string    `json:"name"`
	CertFile   string    `json:"cert_file"`
	KeyFile    string    `json:"key_file"`
	Profile    Profile   `json:"profile"`
	Role       *uint8    `json:"role,omitempty"` // absent when the subject has no OU role
	RoleName   string    `json:"role_name,omitempty"`
	EUI        string    `json:"eui,omitempty"` // dashed DUIS form; absent for CAs
	KeyUsage   string    `json:"key_usage"`
	Serial     string    `json:"serial"`     // decimal, as XMLDSig and ADT lines write it
	SerialHex  string    `json:"serial_hex"` // big-endian bytes, as openssl prints them
	SKI        string    `json:"ski"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	IssuerName string    `json:"issuer_name"` // the issuing credential's name
}

func newManifest(p *PKI) manifest {
	m := manifest{Format: manifestFormat, Notice: manifestNotice}
	for _, c := range p.all {
		e := manifestEntry{
			Name: c.Name, CertFile: c.Name + ".pem", KeyFile: c.Name + ".key",
			Profile: c.Profile, KeyUsage: c.Usage,
			Serial: c.Serial.String(), SerialHex: serialHex(c.Serial),
			SKI:       strings.ToUpper(hex.EncodeToString(c.SKI)),
			NotBefore: c.NotBefore, NotAfter: c.NotAfter,
			Subject: c.Subject, Issuer: c.Issuer, IssuerName: c.IssuerName,
		}
		if c.Role != RoleNone {
			role := c.Role
			e.Role, e.RoleName = &role, RoleName(role)
		}
		if !c.EUI.IsZero() {
			e.EUI = c.EUI.String()
		}
		m.Credentials = append(m.Credentials, e)
	}
	return m
}

// serialHex is the serial's big-endian bytes in upper-case hex, the way
// openssl and the DCC keystore print it (a leading zero nibble kept).
func serialHex(n *big.Int) string { return strings.ToUpper(hex.EncodeToString(n.Bytes())) }

func (m manifest) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

func parseManifest(b []byte) (manifest, error) {
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("decoding %s: %w", manifestFile, err)
	}
	if dec.More() {
		return m, fmt.Errorf("decoding %s: trailing data", manifestFile)
	}
	if m.Format != manifestFormat {
		return m, fmt.Errorf("%s: format %q, want %q", manifestFile, m.Format, manifestFormat)
	}
	return m, nil
}

// validName keeps manifest names to plain file stems, so a hand-edited
// manifest cannot make LoadDir read outside its directory.
var validName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// credential converts the manifest's own claims (everything that is not read
// back from the certificate) into a Credential skeleton.
func (e manifestEntry) credential() (*Credential, error) {
	if !validName.MatchString(e.Name) {
		return nil, fmt.Errorf("invalid credential name %q", e.Name)
	}
	if e.CertFile != e.Name+".pem" || e.KeyFile != e.Name+".key" {
		return nil, fmt.Errorf("%s: files %q, %q do not follow <name>.pem/<name>.key", e.Name, e.CertFile, e.KeyFile)
	}
	switch e.Profile {
	case ProfileRootCA, ProfileIssuingCA, ProfileDeviceCA, ProfileFileSigningCA, ProfileOrganisation, ProfileFileSigning, ProfileDevice:
	default:
		return nil, fmt.Errorf("%s: unknown profile %q", e.Name, e.Profile)
	}
	if _, ok := keyUsageBits[e.KeyUsage]; !ok {
		return nil, fmt.Errorf("%s: unknown key usage %q", e.Name, e.KeyUsage)
	}
	c := &Credential{Name: e.Name, Profile: e.Profile, Role: RoleNone, Usage: e.KeyUsage, IssuerName: e.IssuerName}
	if e.Role != nil {
		c.Role = *e.Role
	}
	if e.EUI != "" {
		id, err := eui.Parse(e.EUI)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		c.EUI = id
	}
	hasEUI := e.Profile == ProfileOrganisation || e.Profile == ProfileFileSigning || e.Profile == ProfileDevice
	if hasEUI == c.EUI.IsZero() {
		return nil, fmt.Errorf("%s: profile %s with EUI %q", e.Name, e.Profile, e.EUI)
	}
	return c, nil
}

// checkDerived compares what the manifest says about a certificate with
// what LoadDir read from it, so a stale or edited manifest is caught.
func (e manifestEntry) checkDerived(c *Credential) error {
	var errs []error
	serial, ok := new(big.Int).SetString(e.Serial, 10)
	if !ok || serial.Cmp(c.Serial) != 0 {
		errs = append(errs, fmt.Errorf("serial %s, certificate has %s", e.Serial, c.Serial))
	}
	if !strings.EqualFold(e.SerialHex, serialHex(c.Serial)) {
		errs = append(errs, fmt.Errorf("serial_hex %s, certificate has %s", e.SerialHex, serialHex(c.Serial)))
	}
	if !strings.EqualFold(e.SKI, hex.EncodeToString(c.SKI)) {
		errs = append(errs, fmt.Errorf("ski %s, certificate has %X", e.SKI, c.SKI))
	}
	if !e.NotBefore.Equal(c.NotBefore) || !e.NotAfter.Equal(c.NotAfter) {
		errs = append(errs, fmt.Errorf("validity %v..%v, certificate has %v..%v", e.NotBefore, e.NotAfter, c.NotBefore, c.NotAfter))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: manifest disagrees with certificate: %w", e.Name, err)
	}
	return nil
}
