package testpki

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
)

// IssueOptions configures IssueOrganisation.
type IssueOptions struct {
	// Now is the certificate's notBefore. Required.
	Now time.Time
	// NotAfter ends its validity; zero means ten years less a second, as
	// the PKI's own organisation certificates. It may not outlast the
	// Organisation CA.
	NotAfter time.Time
	// Role is the role the request must ask for: the CA issues what it
	// was told to, not whatever the request claims.
	Role role.Role
	// Rand supplies the serial; nil means crypto/rand.Reader.
	Rand io.Reader
}

// IssueOrganisation has the PKI's Organisation CA issue the certificate a
// PKCS#10 request asks for, as an SMKI CA would: only for a request its
// key signed, whose certificate would follow the Organisation profile,
// and that asks for the role o names (a transitionalCoS certificate signs
// only, so it must ask for digitalSignature). The certificate has the
// request's subject and key, and the extensions every organisation
// certificate of this PKI has. It returns the DER, checked by smki
// against the profile and the chain to the root before it is returned.
func (p *PKI) IssueOrganisation(req *smki.Request, o IssueOptions) ([]byte, error) {
	if o.Now.IsZero() {
		return nil, errors.New("testpki: IssueOptions.Now is required")
	}
	if err := req.CheckProfile(); err != nil {
		return nil, fmt.Errorf("testpki: refusing the request: it asks for a certificate the SMKI Organisation profile forbids: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("testpki: refusing the request: %w", err)
	}
	if req.Role != o.Role {
		return nil, fmt.Errorf("testpki: refusing the request: it asks for role %v (OU %02X), the CA was told to issue %v", req.Role, uint8(req.Role), o.Role)
	}
	if req.EUI.IsZero() {
		return nil, errors.New("testpki: refusing the request: its entity identifier is the all-zero EUI-64, which names no party")
	}
	if err := p.checkEUI(req, o.Role); err != nil {
		return nil, err
	}
	usage := UsageDS
	switch {
	case req.KeyUsage == smki.KeyUsageKeyAgreement && o.Role == role.TransitionalCoS:
		return nil, errors.New("testpki: refusing the request: a transitionalCoS certificate signs commands, so it must ask for digitalSignature, not keyAgreement")
	case req.KeyUsage == smki.KeyUsageKeyAgreement:
		usage = UsageKA
	}
	now := o.Now.UTC().Truncate(time.Second)
	notAfter := o.NotAfter.UTC().Truncate(time.Second)
	if o.NotAfter.IsZero() {
		notAfter = notAfterFor(ProfileOrganisation, now)
	}
	switch {
	case !notAfter.After(now):
		return nil, fmt.Errorf("testpki: validity ends %s, not after it starts %s", notAfter.Format(time.RFC3339), now.Format(time.RFC3339))
	case notAfter.After(p.OrgCA.NotAfter):
		return nil, fmt.Errorf("testpki: validity to %s outlasts the Organisation CA's (%s)", notAfter.Format(time.RFC3339), p.OrgCA.NotAfter.Format(time.RFC3339))
	}
	ca, err := smki.Parse(p.OrgCA.Cert)
	if err != nil {
		return nil, fmt.Errorf("testpki: the Organisation CA certificate: %w", err)
	}
	r := o.Rand
	if r == nil {
		r = rand.Reader
	}
	serial, err := newSerial(r)
	if err != nil {
		return nil, err
	}
	ski, err := keyID(req.PublicKey)
	if err != nil {
		return nil, err
	}
	t := &template{
		serial: serial, issuer: ca.Subject.Raw, subject: req.Subject.Raw,
		notBefore: now, notAfter: notAfter, pub: req.PublicKey,
		exts: extensionsFor(ProfileOrganisation, usage, req.EUI, ski, p.OrgCA.SKI),
	}
	der, err := t.sign(p.OrgCA.Key)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	c, err := smki.Parse(der)
	if err == nil {
		err = c.CheckProfile()
	}
	if err == nil {
		root, rerr := smki.Parse(p.Root.Cert)
		if err = rerr; err == nil {
			_, err = smki.Verify(c, smki.VerifyOptions{Roots: smki.NewPool(root), Intermediates: smki.NewPool(ca), Now: now})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("testpki: the issued certificate does not pass smki's checks: %w", err)
	}
	return der, nil
}

// checkEUI refuses a request naming a party of this PKI in another role
// (a transitionalCoS certificate for a supplier's EUI-64, say), as an
// SMKI registration authority refuses a party asking for another's
// identity. An EUI-64 the PKI does not know is any new party's.
func (p *PKI) checkEUI(req *smki.Request, r role.Role) error {
	held := p.ByEUI(req.EUI)
	for _, c := range held {
		if role.Role(c.Role) == r {
			return nil
		}
	}
	if len(held) > 0 {
		return fmt.Errorf("testpki: refusing the request: EUI-64 %s is %s's in this PKI (%s), not a %v party's",
			req.EUI, held[0].Name, RoleName(held[0].Role), r)
	}
	return nil
}
