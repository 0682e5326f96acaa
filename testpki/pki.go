package testpki

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ecos-cos/ecos/eui"
)

// PKI is a generated (or loaded) test PKI. The named fields point into the
// same set of credentials that Credentials lists.
type PKI struct {
	Root          *Credential // OU=00, CN=TA, self-signed
	OrgCA         *Credential // OU=07, CN=T1: issues every organisation certificate
	DeviceCA      *Credential // CN=T357: issues device certificates
	FileSigningCA *Credential // CN=IKI File Signing CA: issues file-signing certificates

	TCoS       *Credential // transitionalCoS (OU 05) DS credential the devices trust today
	ECoS       *Credential // transitionalCoS (OU 05) DS credential migration installs
	DSPXMLSign *Credential // DSP XML signing (OU 89)

	ACB             Party // accessControlBroker (OU 04)
	NetworkOperator Party // networkOperator (OU 03)
	Suppliers       []Supplier
	Devices         []Device

	all    []*Credential
	byName map[string]*Credential
}

// Party is an organisation holding a DS and a KA certificate.
type Party struct {
	EUI    eui.EUI
	DS, KA *Credential
}

// Supplier holds one supplier's credentials, all with the same EUI-64.
type Supplier struct {
	EUI         eui.EUI
	DS          *Credential // OU 02, CN=ECOSTESTSUPPLIERn
	KA          *Credential // OU 02
	KATopUp     *Credential // OU 02, prepayment top-up
	XMLSign     *Credential // OU 87: signs the supplier's DUIS requests
	FileSigning *Credential // signs ADT and quarantine-action files; issued by FileSigningCA
}

// Device holds one device's certificates.
type Device struct {
	EUI    eui.EUI
	DS, KA *Credential
}

// Credentials lists every credential in issuance order, CAs first.
func (p *PKI) Credentials() []*Credential { return append([]*Credential(nil), p.all...) }

// ByName returns the credential with that file stem, or nil.
func (p *PKI) ByName(name string) *Credential { return p.byName[name] }

// ByEUI lists the credentials whose subject carries id, in issuance order.
func (p *PKI) ByEUI(id eui.EUI) []*Credential {
	return p.filter(func(c *Credential) bool { return !id.IsZero() && c.EUI == id })
}

// ByRole lists the credentials whose subject OU is role, in issuance order.
func (p *PKI) ByRole(role uint8) []*Credential {
	return p.filter(func(c *Credential) bool { return c.Role == role })
}

// Chain returns c, its issuer, and so on up to and including the root: the
// order DUIS CertificationPathCertificates and smki.Verify use. c must be
// one of p's credentials.
func (p *PKI) Chain(c *Credential) []*Credential {
	chain := []*Credential{c}
	for c.IssuerName != c.Name {
		if c = p.byName[c.IssuerName]; c == nil {
			break // not one of ours; assemble guarantees ours terminate
		}
		chain = append(chain, c)
	}
	return chain
}

// checkChain makes sure walking issuers from c ends at a self-issued
// credential, so Chain terminates even on a hand-edited manifest.
func (p *PKI) checkChain(c *Credential) error {
	start := c
	for range len(p.all) {
		if c.IssuerName == c.Name {
			return nil
		}
		next := p.byName[c.IssuerName]
		if next == nil {
			return fmt.Errorf("testpki: %s: issuer %q is not in the PKI", c.Name, c.IssuerName)
		}
		c = next
	}
	return fmt.Errorf("testpki: %s: issuer chain loops", start.Name)
}

func (p *PKI) filter(keep func(*Credential) bool) []*Credential {
	var out []*Credential
	for _, c := range p.all {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// assemble indexes credentials by their stable names and checks the set is
// complete and consistent. Generate and LoadDir both go through it, so a
// loaded PKI has exactly the shape of a generated one.
func assemble(all []*Credential) (*PKI, error) {
	p := &PKI{all: all, byName: make(map[string]*Credential, len(all))}
	for _, c := range all {
		if p.byName[c.Name] != nil {
			return nil, fmt.Errorf("testpki: duplicate credential %q", c.Name)
		}
		p.byName[c.Name] = c
	}
	var missing []string
	get := func(name string) *Credential {
		c := p.byName[name]
		if c == nil {
			missing = append(missing, name)
		}
		return c
	}
	p.Root, p.OrgCA, p.DeviceCA, p.FileSigningCA = get("root-ca"), get("org-ca"), get("device-ca"), get("iki-file-signing-ca")
	p.TCoS, p.ECoS, p.DSPXMLSign = get("tcos-ds"), get("ecos-ds"), get("dsp-xml-sign")
	p.ACB.DS, p.ACB.KA = get("acb-ds"), get("acb-ka")
	p.NetworkOperator.DS, p.NetworkOperator.KA = get("network-operator-ds"), get("network-operator-ka")

	suppliers, devices := countIndexed(all, "supplier", "-ds"), countIndexed(all, "device-", "-ds")
	for n := 1; n <= suppliers; n++ {
		pre := fmt.Sprintf("supplier%d-", n)
		s := Supplier{DS: get(pre + "ds"), KA: get(pre + "ka"), KATopUp: get(pre + "ka-topup"),
			XMLSign: get(pre + "xml-sign"), FileSigning: get(pre + "file-signing")}
		if s.DS != nil {
			s.EUI = s.DS.EUI
		}
		p.Suppliers = append(p.Suppliers, s)
	}
	for n := 1; n <= devices; n++ {
		pre := fmt.Sprintf("device-%04d-", n)
		d := Device{DS: get(pre + "ds"), KA: get(pre + "ka")}
		if d.DS != nil {
			d.EUI = d.DS.EUI
		}
		p.Devices = append(p.Devices, d)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("testpki: incomplete PKI, missing %s", strings.Join(missing, ", "))
	}
	if len(p.Suppliers) == 0 || len(p.Devices) == 0 {
		return nil, fmt.Errorf("testpki: incomplete PKI, %d suppliers and %d devices", len(p.Suppliers), len(p.Devices))
	}
	p.ACB.EUI, p.NetworkOperator.EUI = p.ACB.DS.EUI, p.NetworkOperator.DS.EUI
	for _, c := range all {
		if err := p.checkChain(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// countIndexed returns the highest n for which prefix+n+suffix names a
// credential (supplier numbers are plain, device numbers four digits).
func countIndexed(all []*Credential, prefix, suffix string) int {
	maxN := 0
	for _, c := range all {
		mid, ok := strings.CutPrefix(c.Name, prefix)
		if !ok {
			continue
		}
		mid, ok = strings.CutSuffix(mid, suffix)
		if n, err := strconv.Atoi(mid); ok && err == nil && n > maxN {
			maxN = n
		}
	}
	return maxN
}
