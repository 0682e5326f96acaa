package duis

import (
	"errors"
	"fmt"
)

// ServiceReferenceCoS is SR 6.23's ServiceReference and ServiceReferenceVariant.
const ServiceReferenceCoS = "6.23"

// CommandVariantWAN is command variant 1: a non-critical service request the
// DCC turns into a command sent to the device over the SM WAN. The RTDS 6.23
// templates use it.
const CommandVariantWAN = 1

// NewUpdateSecurityCredentialsCoS wraps an SR 6.23 body in the header the
// RTDS templates use (schema 5.4, command variant 1, service reference and
// variant 6.23) and validates the whole request, so a CLI can report a bad
// flag before anything is signed. body is kept, not copied. Set
// body.ExecutionDateTime to a future time for a future-dated request, or to
// &Cancellation to cancel one.
func NewUpdateSecurityCredentialsCoS(id RequestID, body *UpdateSecurityCredentialsCoS) (*Request, error) {
	req := &Request{
		SchemaVersion: SchemaVersion,
		Header: Header{
			RequestID:               id,
			CommandVariant:          CommandVariantWAN,
			ServiceReference:        ServiceReferenceCoS,
			ServiceReferenceVariant: ServiceReferenceCoS,
		},
		UpdateSecurityCredentialsCoS: body,
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return req, nil
}

// Validate reports the first field that Encode could not write as a valid,
// round-tripping DUIS 5.4 request, as a *ValueError naming the element.
// Beyond the schema it insists on what GBCS needs: a key-agreement top-up
// certificate only beside a key-agreement one, and a 6.23 header for the
// 6.23 body. Signed is not checked: Encode never writes a signature.
func (r *Request) Validate() error {
	const root = "Request"
	if err := checkDecimal(r.SchemaVersion); err != nil {
		return invalidf(root+"@schemaVersion", "%v", err)
	}
	h := &r.Header
	const hp = root + "/Header/"
	if err := checkCommandVariant(h.CommandVariant); err != nil {
		return invalidf(hp+"CommandVariant", "%v", err)
	}
	if err := checkServiceReference(h.ServiceReference); err != nil {
		return invalidf(hp+"ServiceReference", "%v", err)
	}
	if err := checkServiceReference(h.ServiceReferenceVariant); err != nil {
		return invalidf(hp+"ServiceReferenceVariant", "%v", err)
	}
	u := r.UpdateSecurityCredentialsCoS
	if u == nil {
		return invalidf(root+"/Body", "no UpdateSecurityCredentialsCoS body")
	}
	if h.ServiceReference != ServiceReferenceCoS || h.ServiceReferenceVariant != ServiceReferenceCoS {
		return invalidf(hp+"ServiceReference", "body UpdateSecurityCredentialsCoS needs %s and %s, header has %q and %q",
			ServiceReferenceCoS, ServiceReferenceCoS, h.ServiceReference, h.ServiceReferenceVariant)
	}
	return u.validate(root + "/Body/UpdateSecurityCredentialsCoS/")
}

func (u *UpdateSecurityCredentialsCoS) validate(p string) error {
	if t := u.ExecutionDateTime; t != nil {
		if err := checkExactDateTime(*t); err != nil {
			return invalidf(p+"ExecutionDateTime", "%v", err)
		}
	}
	if u.SupplierFloorSeqNumber > MaxFloorSeqNumber {
		return invalidf(p+"SupplierFloorSeqNumber", "%d is above %d", u.SupplierFloorSeqNumber, uint64(MaxFloorSeqNumber))
	}
	if n := u.SupplierPrepaymentTopUpFloorSeqNumber; n != nil && *n > MaxFloorSeqNumber {
		return invalidf(p+"SupplierPrepaymentTopUpFloorSeqNumber", "%d is above %d", *n, uint64(MaxFloorSeqNumber))
	}
	certs := p + "SupplierReplacementCertificates/"
	if len(u.DigitalSigningCertificate) == 0 {
		return invalidf(certs+"DigitalSigningCertificate", "required")
	}
	if err := checkOptionalBytes(u.KeyAgreementCertificate); err != nil {
		return invalidf(certs+"KeyAgreementCertificate", "%v", err)
	}
	if err := checkOptionalBytes(u.KeyAgreementTopUpCertificate); err != nil {
		return invalidf(certs+"KeyAgreementTopUpCertificate", "%v", err)
	}
	// The top-up certificate replaces the prepayment key-agreement cell,
	// which exists beside the KA cell; sending it alone is a supplier error.
	if u.KeyAgreementTopUpCertificate != nil && u.KeyAgreementCertificate == nil {
		return invalidf(certs+"KeyAgreementTopUpCertificate", "given without a KeyAgreementCertificate")
	}
	path := p + "CertificationPathCertificates"
	switch n := len(u.CertificationPath); {
	case n == 0:
		return invalidf(path, "at least one Certificate is required")
	case n > maxPathCertificates:
		return invalidf(path, "%d certificates, at most %d allowed", n, maxPathCertificates)
	}
	for i, c := range u.CertificationPath {
		if len(c) == 0 {
			return invalidf(fmt.Sprintf("%s/Certificate[%d]", path, i+1), "empty")
		}
	}
	if err := checkMPxN(u.ImportMPxN); err != nil {
		return invalidf(p+"ImportMPxN", "%v", err)
	}
	return nil
}

// checkOptionalBytes keeps nil the only "absent": an empty but non-nil
// value would be written as an empty element the decoder refuses.
func checkOptionalBytes(b []byte) error {
	if b != nil && len(b) == 0 {
		return errors.New("empty (use nil for absent)")
	}
	return nil
}

// Encode writes the request as DUIS 5.4 XML: UTF-8 with an XML declaration,
// the RTDS templates' root (xmlns:ds, xmlns:sr, xmlns:xsi, schemaVersion),
// elements in schema order with the sr: prefix, no indentation, base64 on
// one line, date-times in DCC's UTC milliseconds ("2030-01-02T00:00:00.000Z").
// The same value
// always gives the same bytes. The document is unsigned: package xmldsig
// appends the ds:Signature. DecodeRequest(Encode(r)) equals r, but for
// Signed, which Encode ignores.
func (r *Request) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	w := newWriter()
	w.start("sr:Request",
		attr{"xmlns:ds", NSDSig},
		attr{"xmlns:sr", NSRequest},
		attr{"xmlns:xsi", NSXSI},
		attr{"schemaVersion", r.SchemaVersion})
	h := &r.Header
	w.start("sr:Header")
	w.requestID("sr:RequestID", h.RequestID)
	if h.FirstInSequence != nil {
		w.bool("sr:FirstInSequence", *h.FirstInSequence)
	}
	if h.PrecedingServiceRequestID != nil {
		w.requestID("sr:PrecedingServiceRequestID", *h.PrecedingServiceRequestID)
	}
	w.uint("sr:CommandVariant", uint64(h.CommandVariant))
	w.text("sr:ServiceReference", h.ServiceReference)
	w.text("sr:ServiceReferenceVariant", h.ServiceReferenceVariant)
	w.end("sr:Header")
	w.start("sr:Body")
	r.UpdateSecurityCredentialsCoS.encode(w)
	w.end("sr:Body")
	w.end("sr:Request")
	return w.bytes()
}

func (u *UpdateSecurityCredentialsCoS) encode(w *writer) {
	w.start("sr:UpdateSecurityCredentialsCoS")
	if u.ExecutionDateTime != nil {
		w.dateTime("sr:ExecutionDateTime", *u.ExecutionDateTime)
	}
	w.uint("sr:SupplierFloorSeqNumber", u.SupplierFloorSeqNumber)
	if u.SupplierPrepaymentTopUpFloorSeqNumber != nil {
		w.uint("sr:SupplierPrepaymentTopUpFloorSeqNumber", *u.SupplierPrepaymentTopUpFloorSeqNumber)
	}
	w.start("sr:SupplierReplacementCertificates")
	w.base64("sr:DigitalSigningCertificate", u.DigitalSigningCertificate)
	if u.KeyAgreementCertificate != nil {
		w.base64("sr:KeyAgreementCertificate", u.KeyAgreementCertificate)
	}
	if u.KeyAgreementTopUpCertificate != nil {
		w.base64("sr:KeyAgreementTopUpCertificate", u.KeyAgreementTopUpCertificate)
	}
	w.end("sr:SupplierReplacementCertificates")
	w.start("sr:CertificationPathCertificates")
	for _, c := range u.CertificationPath {
		w.base64("sr:Certificate", c)
	}
	w.end("sr:CertificationPathCertificates")
	w.bool("sr:ApplyTimeBasedCPVChecks", u.ApplyTimeBasedCPVChecks)
	w.text("sr:ImportMPxN", u.ImportMPxN)
	w.end("sr:UpdateSecurityCredentialsCoS")
}
