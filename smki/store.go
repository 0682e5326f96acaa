package smki

import (
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path"
	"slices"

	"github.com/ecos-cos/ecos/eui"
)

// Pool is an immutable, indexed set of certificates: trust anchors,
// intermediates, or the known signers an XMLDSig X509IssuerSerial or a
// GBCS originator EUI points at. It is safe for concurrent use. A nil
// *Pool is an empty pool.
type Pool struct {
	certs          []*Certificate
	byRaw          map[string]*Certificate
	bySubject      map[string][]*Certificate
	bySKI          map[string][]*Certificate
	byIssuerSerial map[string]*Certificate
	byEUI          map[eui.EUI][]*Certificate
}

// NewPool indexes certs. Duplicates (same DER) and nils are dropped.
func NewPool(certs ...*Certificate) *Pool {
	p := &Pool{
		byRaw:          make(map[string]*Certificate),
		bySubject:      make(map[string][]*Certificate),
		bySKI:          make(map[string][]*Certificate),
		byIssuerSerial: make(map[string]*Certificate),
		byEUI:          make(map[eui.EUI][]*Certificate),
	}
	for _, c := range certs {
		if c == nil || p.byRaw[string(c.Raw)] != nil {
			continue
		}
		p.certs = append(p.certs, c)
		p.byRaw[string(c.Raw)] = c
		p.bySubject[c.Subject.key()] = append(p.bySubject[c.Subject.key()], c)
		if len(c.SubjectKeyID) > 0 {
			p.bySKI[string(c.SubjectKeyID)] = append(p.bySKI[string(c.SubjectKeyID)], c)
		}
		// First wins: two certificates with one issuer and serial would be
		// a CA failure, and the earlier (configured) one is the safer pick.
		if k := issuerSerialKey(c.Issuer, c.SerialNumber); p.byIssuerSerial[k] == nil {
			p.byIssuerSerial[k] = c
		}
		if !c.EUI.IsZero() {
			p.byEUI[c.EUI] = append(p.byEUI[c.EUI], c)
		}
	}
	return p
}

func issuerSerialKey(issuer Name, serial *big.Int) string {
	return issuer.key() + "#" + serial.String()
}

// Len is the number of distinct certificates.
func (p *Pool) Len() int {
	if p == nil {
		return 0
	}
	return len(p.certs)
}

// Certificates returns the certificates in insertion order.
func (p *Pool) Certificates() []*Certificate {
	if p == nil {
		return nil
	}
	return slices.Clone(p.certs)
}

// Contains reports whether a certificate with c's exact DER is in p.
func (p *Pool) Contains(c *Certificate) bool {
	return p != nil && c != nil && p.byRaw[string(c.Raw)] != nil
}

// FindByIssuerSerial finds the certificate an XMLDSig X509IssuerSerial
// names. Issuer names compare as Name.Equal does, so the result of
// ParseName("CN=Z1,OU=07") finds certificates whatever string type their
// issuer uses.
func (p *Pool) FindByIssuerSerial(issuer Name, serial *big.Int) *Certificate {
	if p == nil || serial == nil {
		return nil
	}
	return p.byIssuerSerial[issuerSerialKey(issuer, serial)]
}

// FindBySKI returns the certificates whose subjectKeyIdentifier is ski.
func (p *Pool) FindBySKI(ski []byte) []*Certificate {
	if p == nil {
		return nil
	}
	return slices.Clone(p.bySKI[string(ski)])
}

// FindBySubject returns the certificates whose subject equals n.
func (p *Pool) FindBySubject(n Name) []*Certificate {
	if p == nil {
		return nil
	}
	return slices.Clone(p.bySubject[n.key()])
}

// FindByEUI returns the certificates of entity e with the given role and,
// if usage is not zero, exactly that key usage. The newest (latest
// NotBefore) comes first, since an entity holds old and new certificates
// side by side during a key rollover (Z1 and Z1b in the test PKI).
func (p *Pool) FindByEUI(e eui.EUI, role RemotePartyRole, usage KeyUsage) []*Certificate {
	if p == nil {
		return nil
	}
	var out []*Certificate
	for _, c := range p.byEUI[e] {
		if c.Role == role && (usage == 0 || c.KeyUsage == usage) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b *Certificate) int { return b.NotBefore.Compare(a.NotBefore) })
	return out
}

// LoadPEMDir builds a pool from every *.pem file directly in dir.
func LoadPEMDir(dir string) (*Pool, error) {
	return LoadPEMFS(os.DirFS(dir))
}

// LoadPEMFS builds a pool from every *.pem file at the root of fsys. Every
// such file must hold at least one certificate: a typo'd or truncated
// trust file must fail loudly, not shrink the pool.
func LoadPEMFS(fsys fs.FS) (*Pool, error) {
	names, err := fs.Glob(fsys, "*.pem")
	if err != nil {
		return nil, err
	}
	var certs []*Certificate
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		cs, err := ParsePEM(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Clean(name), err)
		}
		certs = append(certs, cs...)
	}
	return NewPool(certs...), nil
}

// LoadKeystoreFile builds a pool from the certificates of a DCC Boxed
// keystore.json (see ParseKeystore); the private keys are dropped.
func LoadKeystoreFile(name string) (*Pool, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	entries, err := ParseKeystore(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	certs := make([]*Certificate, len(entries))
	for i, e := range entries {
		certs[i] = e.Certificate
	}
	return NewPool(certs...), nil
}
