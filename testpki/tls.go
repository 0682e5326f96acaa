package testpki

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ecos-cos/ecos/eui"
)

// TLS profiles: the Users' listener's own PKI, apart from the SMKI one, as
// the DCC keeps its DCCKI apart from SMKI. These are ordinary WebPKI-shaped
// certificates that crypto/tls accepts.
const (
	ProfileTLSCA     Profile = "tls-ca"     // self-signed; issues the two below
	ProfileTLSServer Profile = "tls-server" // serverAuth, with the host names and addresses as SANs
	ProfileTLSClient Profile = "tls-client" // clientAuth; one per User
)

// TLSCAName is the TLS CA's common name.
const TLSCAName = "ECoS Test TLS CA"

// TLSOptions configures GenerateTLS.
type TLSOptions struct {
	Now   time.Time // when validity starts; required
	Rand  io.Reader // nil: crypto/rand.Reader
	Users []eui.EUI // a client certificate for each
	// Hosts are the server certificate's DNS names and IP addresses; nil:
	// localhost, 127.0.0.1 and ::1.
	Hosts []string
}

// TLS is a test PKI for the Users' listener: a CA, a server certificate
// and a client certificate for each User.
type TLS struct {
	CA      *Credential
	Server  *Credential
	Clients []*Credential // in Users order; EUI is the User's
}

// Client is the client credential of user, or nil.
func (t *TLS) Client(user eui.EUI) *Credential {
	for _, c := range t.Clients {
		if c.EUI == user {
			return c
		}
	}
	return nil
}

// TLSClientName is the file stem of user's client credential.
func TLSClientName(user eui.EUI) string {
	return "user-" + strings.ToLower(strings.ReplaceAll(user.String(), "-", ""))
}

// GenerateTLS makes a TLS test PKI. Like Generate, the same Options (and
// bytes from Rand) give the same certificates and keys.
func GenerateTLS(o TLSOptions) (*TLS, error) {
	if o.Now.IsZero() {
		return nil, errors.New("testpki: TLSOptions.Now is required")
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Hosts == nil {
		o.Hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	g := &generator{rand: o.Rand, now: o.Now.UTC().Truncate(time.Second), subjects: map[*Credential][]byte{}}
	t := &TLS{}
	t.CA = g.issue(spec{name: "tls-ca", profile: ProfileTLSCA, role: RoleNone, usage: UsageCA, cn: TLSCAName})
	t.Server = g.issue(spec{name: "tls-server", profile: ProfileTLSServer, role: RoleNone, usage: UsageDS, cn: o.Hosts[0], hosts: o.Hosts, issuer: t.CA})
	for _, u := range o.Users {
		t.Clients = append(t.Clients, g.issue(spec{name: TLSClientName(u), profile: ProfileTLSClient, role: RoleNone, usage: UsageDS, eui: u, cn: u.String(), issuer: t.CA}))
	}
	if g.err != nil {
		return nil, g.err
	}
	return t, nil
}

// WriteDir writes <name>.pem and <name>.key (mode 0600) for every
// credential into dir, which is made if need be and must not hold them
// already.
func (t *TLS) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("testpki: %w", err)
	}
	for _, c := range append([]*Credential{t.CA, t.Server}, t.Clients...) {
		key, err := c.KeyPEM()
		if err != nil {
			return fmt.Errorf("testpki: %s: %w", c.Name, err)
		}
		if err := writeFile(filepath.Join(dir, c.Name+".pem"), c.CertPEM(), 0o644); err != nil {
			return fmt.Errorf("testpki: %w", err)
		}
		if err := writeFile(filepath.Join(dir, c.Name+".key"), key, 0o600); err != nil {
			return fmt.Errorf("testpki: %w", err)
		}
	}
	return syncDir(dir)
}

var (
	oidExtExtKeyUsage = []int{2, 5, 29, 37}
	oidServerAuth     = []int{1, 3, 6, 1, 5, 5, 7, 3, 1}
	oidClientAuth     = []int{1, 3, 6, 1, 5, 5, 7, 3, 2}
)

func extKeyUsageExt(purpose []int) extension {
	return extension{oidExtExtKeyUsage, false, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(purpose) })
	})}
}

// hostsExt is a subjectAltName of dNSNames and iPAddresses.
func hostsExt(hosts []string) extension {
	return extension{oidExtSubjectAltName, false, build(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, h := range hosts {
				if ip := net.ParseIP(h); ip != nil {
					if v4 := ip.To4(); v4 != nil {
						ip = v4
					}
					b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ip) })
				} else {
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(h)) })
				}
			}
		})
	})}
}

// tlsExtensions lists a TLS profile's extensions; authority is nil for
// the self-signed CA.
func tlsExtensions(s spec, ski, authority []byte) []extension {
	var exts []extension
	switch s.profile {
	case ProfileTLSCA:
		exts = []extension{keyUsageExt(UsageCA), basicConstraintsExt(0), subjectKeyIDExt(ski)}
	case ProfileTLSServer:
		exts = []extension{keyUsageExt(UsageDS), extKeyUsageExt(oidServerAuth), subjectKeyIDExt(ski), hostsExt(s.hosts)}
	case ProfileTLSClient:
		exts = []extension{keyUsageExt(UsageDS), extKeyUsageExt(oidClientAuth), subjectKeyIDExt(ski)}
	}
	if authority != nil {
		exts = append(exts, authorityKeyIDExt(authority))
	}
	return exts
}

func isTLSProfile(p Profile) bool {
	return p == ProfileTLSCA || p == ProfileTLSServer || p == ProfileTLSClient
}

// tlsName is a subject of one common name.
func tlsName(cn string) name { return name{{oidCommonName, cbasn1.UTF8String, []byte(cn)}} }
