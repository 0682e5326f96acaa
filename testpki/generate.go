package testpki

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Options configures Generate.
type Options struct {
	// Now is when every certificate's validity starts. Required: a test PKI
	// that silently used the wall clock would not be reproducible.
	Now time.Time
	// Rand supplies keys and serials; nil means crypto/rand.Reader. Tests
	// pass a seeded reader (e.g. math/rand/v2.NewChaCha8) to get the same
	// bytes on every run; signatures are RFC 6979 and need no randomness.
	Rand io.Reader
	// Suppliers is how many suppliers to make (1..MaxSuppliers); 0 means 2.
	Suppliers int
	// Devices is how many devices to make (1..MaxDevices); 0 means 4.
	Devices int
}

const (
	// MaxSuppliers bounds Options.Suppliers: supplier n's EUI-64 ends in n.
	MaxSuppliers = 255
	// MaxDevices bounds Options.Devices: device names have four digits.
	MaxDevices = 9999

	defaultSuppliers = 2
	defaultDevices   = 4
)

// Validity periods, as ZAZ1 has them: 25 years for CAs, 10 for organisation
// certificates, each ending one second before the anniversary.
const (
	caYears     = 25
	entityYears = 10
)

// EUI-64s: see the package comment. 0xEE is locally administered. Callers
// read them from the generated PKI (p.TCoS.EUI), so they stay unexported.
var (
	acbEUI             = eui.EUI{0xEE, 0xC0, 0x5E, 0, 0, 0, 0, 0x02}
	networkOperatorEUI = eui.EUI{0xEE, 0xC0, 0x5E, 0, 0, 0, 0, 0x03}
	tcosEUI            = eui.EUI{0xEE, 0xC0, 0x5E, 0, 0, 0, 0, 0x04}
	ecosEUI            = eui.EUI{0xEE, 0xC0, 0x5E, 0, 0, 0, 0, 0x05}
)

// SupplierEUI is supplier n's EUI-64 (n from 1).
func SupplierEUI(n int) eui.EUI { return eui.EUI{0xEE, 0xC0, 0x5E, 0, 0x01, 0, 0, byte(n)} }

// DeviceEUI is device n's EUI-64 (n from 1).
func DeviceEUI(n int) eui.EUI { return eui.EUI{0xEE, 0xC0, 0x5E, 0xDE, 0, 0, byte(n >> 8), byte(n)} }

// SupplierCN is the organisation name on supplier n's DS certificate, as
// ZAZ1's GITTESTSUPPLIER is on its supplier DS certificates only.
func SupplierCN(n int) string { return fmt.Sprintf("ECOSTESTSUPPLIER%d", n) }

func (o Options) withDefaults() (Options, error) {
	if o.Now.IsZero() {
		return o, errors.New("testpki: Options.Now is required")
	}
	if o.Now.UTC().Year() < 1950 || o.Now.UTC().Year() > 9999-caYears {
		return o, fmt.Errorf("testpki: Options.Now %v is out of the encodable range", o.Now)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Suppliers == 0 {
		o.Suppliers = defaultSuppliers
	}
	if o.Devices == 0 {
		o.Devices = defaultDevices
	}
	if o.Suppliers < 1 || o.Suppliers > MaxSuppliers {
		return o, fmt.Errorf("testpki: Options.Suppliers %d out of range 1..%d", o.Suppliers, MaxSuppliers)
	}
	if o.Devices < 1 || o.Devices > MaxDevices {
		return o, fmt.Errorf("testpki: Options.Devices %d out of range 1..%d", o.Devices, MaxDevices)
	}
	return o, nil
}

// Generate makes a complete test PKI. With the same Options (and a reader
// that yields the same bytes) it returns the same certificates and keys.
func Generate(opts Options) (*PKI, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &generator{rand: o.Rand, now: o.Now.UTC().Truncate(time.Second), subjects: map[*Credential][]byte{}}

	// The order of issuance fixes which random bytes each key gets, so it
	// is part of the reproducibility contract: append only.
	root := g.issue(spec{name: "root-ca", profile: ProfileRootCA, role: RoleRoot, usage: UsageCA})
	orgCA := g.issue(spec{name: "org-ca", profile: ProfileIssuingCA, role: RoleIssuingAuthority, usage: UsageCA, issuer: root})
	deviceCA := g.issue(spec{name: "device-ca", profile: ProfileDeviceCA, role: RoleNone, usage: UsageCA, issuer: root})
	fileCA := g.issue(spec{name: "iki-file-signing-ca", profile: ProfileFileSigningCA, role: RoleNone, usage: UsageCA, issuer: root})

	org := func(name string, role uint8, usage string, id eui.EUI) {
		g.issue(spec{name: name, profile: ProfileOrganisation, role: role, usage: usage, eui: id, issuer: orgCA})
	}
	org("tcos-ds", RoleTransitionalCoS, UsageDS, tcosEUI)
	org("ecos-ds", RoleTransitionalCoS, UsageDS, ecosEUI)
	org("dsp-xml-sign", RoleDSPXMLSign, UsageDS, acbEUI) // ZAZ1's DSP signer carries the ACB EUI
	org("acb-ds", RoleACB, UsageDS, acbEUI)
	org("acb-ka", RoleACB, UsageKA, acbEUI)
	org("network-operator-ds", RoleNetworkOperator, UsageDS, networkOperatorEUI)
	org("network-operator-ka", RoleNetworkOperator, UsageKA, networkOperatorEUI)

	for n := 1; n <= o.Suppliers; n++ {
		id, p := SupplierEUI(n), fmt.Sprintf("supplier%d-", n)
		g.issue(spec{name: p + "ds", profile: ProfileOrganisation, role: RoleSupplier, usage: UsageDS, eui: id, cn: SupplierCN(n), issuer: orgCA})
		org(p+"ka", RoleSupplier, UsageKA, id)
		org(p+"ka-topup", RoleSupplier, UsageKA, id)
		org(p+"xml-sign", RoleXMLSign, UsageDS, id)
		g.issue(spec{name: p + "file-signing", profile: ProfileFileSigning, role: RoleSupplier, usage: UsageDS, eui: id, issuer: fileCA})
	}
	for n := 1; n <= o.Devices; n++ {
		id, p := DeviceEUI(n), fmt.Sprintf("device-%04d-", n)
		g.issue(spec{name: p + "ds", profile: ProfileDevice, role: RoleNone, usage: UsageDS, eui: id, issuer: deviceCA})
		g.issue(spec{name: p + "ka", profile: ProfileDevice, role: RoleNone, usage: UsageKA, eui: id, issuer: deviceCA})
	}
	if g.err != nil {
		return nil, g.err
	}
	return assemble(g.creds)
}

// spec is what differs between two credentials.
type spec struct {
	name    string
	profile Profile
	role    uint8
	usage   string
	eui     eui.EUI
	cn      string      // optional organisation name
	hosts   []string    // a TLS server's DNS names and IP addresses
	issuer  *Credential // nil: self-signed
}

type generator struct {
	rand     io.Reader
	now      time.Time
	creds    []*Credential
	subjects map[*Credential][]byte // DER subject of each issued credential
	err      error                  // first failure; later issue calls do nothing
}

func (g *generator) issue(s spec) *Credential {
	if g.err != nil {
		return nil
	}
	c, err := g.tryIssue(s)
	if err != nil {
		g.err = fmt.Errorf("testpki: issuing %s: %w", s.name, err)
		return nil
	}
	g.creds = append(g.creds, c)
	return c
}

func (g *generator) tryIssue(s spec) (*Credential, error) {
	key, err := newKey(g.rand)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial(g.rand)
	if err != nil {
		return nil, err
	}
	ski, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	subject, err := subjectFor(s).bytes()
	if err != nil {
		return nil, err
	}
	issuerSubject, issuerKey, authority, issuerName := subject, key, []byte(nil), s.name
	if s.issuer != nil {
		issuerSubject, issuerKey, authority, issuerName = g.subjects[s.issuer], s.issuer.Key, s.issuer.SKI, s.issuer.Name
	}
	t := &template{
		serial:    serial,
		issuer:    issuerSubject,
		subject:   subject,
		notBefore: g.now,
		notAfter:  notAfterFor(s.profile, g.now),
		pub:       &key.PublicKey,
		exts:      extensionsFor(s.profile, s.usage, s.eui, ski, authority),
	}
	if isTLSProfile(s.profile) {
		t.exts = tlsExtensions(s, ski, authority)
	}
	der, err := t.sign(issuerKey)
	if err != nil {
		return nil, err
	}
	subjectDN, err := formatDN(subject)
	if err != nil {
		return nil, err
	}
	issuerDN, err := formatDN(issuerSubject)
	if err != nil {
		return nil, err
	}
	c := &Credential{
		Name: s.name, Profile: s.profile, Role: s.role, Usage: s.usage, EUI: s.eui,
		Cert: der, Key: key,
		Serial: new(big.Int).SetBytes(serial), SKI: ski,
		NotBefore: t.notBefore, NotAfter: t.notAfter,
		Subject: subjectDN, Issuer: issuerDN, IssuerName: issuerName,
	}
	g.subjects[c] = subject
	return c, nil
}

func subjectFor(s spec) name {
	switch s.profile {
	case ProfileRootCA:
		return caName(RoleRoot, RootCAName)
	case ProfileIssuingCA:
		return caName(RoleIssuingAuthority, OrgCAName)
	case ProfileDeviceCA:
		return deviceCAName(DeviceCAName)
	case ProfileFileSigningCA:
		return fileSigningCAName()
	case ProfileDevice:
		return nil // empty SEQUENCE: device identity lives in the SAN
	case ProfileTLSCA, ProfileTLSServer, ProfileTLSClient:
		return tlsName(s.cn)
	}
	return entityName(s.cn, s.role, s.eui)
}

func notAfterFor(p Profile, notBefore time.Time) time.Time {
	switch {
	case p == ProfileDevice:
		return deviceNotAfter
	case p == ProfileTLSServer || p == ProfileTLSClient:
		// Short, as TLS certificates are: a demo outlives it only if kept
		// for years, and then `ecos serve --demo --dir NEW` makes another.
		return notBefore.AddDate(2, 0, 0)
	case p.IsCA():
		return notBefore.AddDate(caYears, 0, 0).Add(-time.Second)
	}
	return notBefore.AddDate(entityYears, 0, 0).Add(-time.Second)
}
