package demoworld

import (
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/xmldsig"
)

// Request describes an SR 6.23 a supplier sends.
type Request struct {
	Supplier  int     // 1-based: who sends and signs it
	Device    eui.EUI // the target
	MPxN      string  // ImportMPxN; "" means Device's registered MPAN (MPANOf)
	Counter   uint64  // RequestID counter
	ExecuteAt *time.Time
	// Certificates is whose replacement certificates it carries; 0 means
	// Supplier's own.
	Certificates int
	// Mutate, if set, changes the body before it is encoded and signed.
	Mutate func(*duis.UpdateSecurityCredentialsCoS)
}

// Body is r's 6.23 body.
func (w *World) Body(r Request) (*duis.UpdateSecurityCredentialsCoS, error) {
	n := r.Certificates
	if n == 0 {
		n = r.Supplier
	}
	if n < 1 || n > len(w.PKI.Suppliers) {
		return nil, fmt.Errorf("demoworld: no supplier %d", n)
	}
	s := w.PKI.Suppliers[n-1]
	zero := uint64(0)
	body := &duis.UpdateSecurityCredentialsCoS{
		ExecutionDateTime:                     r.ExecuteAt,
		SupplierPrepaymentTopUpFloorSeqNumber: &zero,
		DigitalSigningCertificate:             s.DS.Cert,
		KeyAgreementCertificate:               s.KA.Cert,
		KeyAgreementTopUpCertificate:          s.KATopUp.Cert,
		CertificationPath:                     [][]byte{w.PKI.OrgCA.Cert},
		ApplyTimeBasedCPVChecks:               true,
		ImportMPxN:                            r.MPxN,
	}
	if body.ImportMPxN == "" {
		body.ImportMPxN = MPANOf(r.Device)
	}
	if r.Mutate != nil {
		r.Mutate(body)
	}
	return body, nil
}

// Sign builds r and signs it with the supplier's XML-signing key: the
// compact document a supplier posts.
func (w *World) Sign(r Request) ([]byte, error) {
	if r.Supplier < 1 || r.Supplier > len(w.PKI.Suppliers) {
		return nil, fmt.Errorf("demoworld: no supplier %d", r.Supplier)
	}
	s := w.PKI.Suppliers[r.Supplier-1]
	body, err := w.Body(r)
	if err != nil {
		return nil, err
	}
	req, err := duis.NewUpdateSecurityCredentialsCoS(duis.RequestID{Originator: s.EUI, Target: r.Device, Counter: r.Counter}, body)
	if err != nil {
		return nil, err
	}
	doc, err := req.Encode()
	if err != nil {
		return nil, err
	}
	cert, err := smki.Parse(s.XMLSign.Cert)
	if err != nil {
		return nil, err
	}
	return xmldsig.Sign(doc, s.XMLSign.Key, cert, nil)
}
