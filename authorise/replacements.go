package authorise

import (
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// replacements is step 7: the certificates the device will trust next must
// be supplier certificates of the right key usage, issued by a CA in the
// request's certification path, chaining to the Organisation CA, with one
// EUI-64 across the set, and belonging to the requesting party.
func (a *Authoriser) replacements(body *duis.UpdateSecurityCredentialsCoS, party store.Party, at time.Time) error {
	var path []*smki.Certificate
	for i, der := range body.CertificationPath {
		c, err := smki.Parse(der)
		if err != nil {
			return bad(err, "certification path certificate %d does not parse", i+1)
		}
		path = append(path, c)
	}
	intermediates := smki.NewPool(path...)
	check := func(name string, der []byte, usage smki.KeyUsage) (*smki.Certificate, error) {
		c, err := smki.Parse(der)
		if err != nil {
			return nil, bad(err, "%s certificate does not parse", name)
		}
		if err := c.CheckProfile(); err != nil {
			return nil, bad(err, "%s certificate breaks the SMKI profile: %v", name, err)
		}
		if c.Kind != smki.Organisation || c.Role != smki.RoleSupplier || c.KeyUsage != usage {
			return nil, bad(nil, "%s certificate is a %s %s %s certificate, want a supplier %s one", name, c.Kind, c.Role, c.KeyUsage, usage)
		}
		issued := false
		for _, p := range path {
			issued = issued || a.cfg.Links.CheckSignatureFrom(c, p) == nil
		}
		if !issued {
			return nil, bad(nil, "%s certificate was not issued by a certificate in CertificationPathCertificates", name)
		}
		opts := smki.VerifyOptions{Roots: a.cfg.OrganisationCAs, Intermediates: intermediates, Now: at, SkipTime: !body.ApplyTimeBasedCPVChecks, Links: a.cfg.Links}
		if _, err := smki.Verify(c, opts); err != nil {
			return nil, bad(err, "%s certificate does not chain to the Organisation CA: %v", name, err)
		}
		return c, nil
	}
	ds, err := check("DigitalSigning", body.DigitalSigningCertificate, smki.KeyUsageDigitalSignature)
	if err != nil {
		return err
	}
	set := []*smki.Certificate{ds}
	if body.KeyAgreementCertificate != nil {
		ka, err := check("KeyAgreement", body.KeyAgreementCertificate, smki.KeyUsageKeyAgreement)
		if err != nil {
			return err
		}
		set = append(set, ka)
	}
	if body.KeyAgreementTopUpCertificate != nil {
		if body.KeyAgreementCertificate == nil {
			return bad(nil, "a KeyAgreementTopUp certificate needs a KeyAgreement certificate")
		}
		top, err := check("KeyAgreementTopUp", body.KeyAgreementTopUpCertificate, smki.KeyUsageKeyAgreement)
		if err != nil {
			return err
		}
		set = append(set, top)
	}
	for _, c := range set[1:] {
		if c.EUI != ds.EUI {
			return bad(nil, "replacement certificates name different parties (%s and %s)", ds.EUI, c.EUI)
		}
	}
	if a.cfg.AllowForeignReplacements {
		return nil
	}
	for _, u := range party.Users {
		if u.EUI == ds.EUI {
			return nil
		}
	}
	return bad(nil, "replacement certificates belong to %s, not to a User of party %s", ds.EUI, party.ID)
}

func bad(cause error, format string, args ...any) error {
	return ecoserr.New(ecoserr.BadReplacementCertificate, cause, format, args...)
}
