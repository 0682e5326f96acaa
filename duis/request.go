package duis

import (
	"errors"
	"strconv"
	"time"
)

// Request is a decoded DUIS service request. Exactly one body field is set.
type Request struct {
	SchemaVersion string
	Header        Header
	// UpdateSecurityCredentialsCoS is the SR 6.23 body.
	UpdateSecurityCredentialsCoS *UpdateSecurityCredentialsCoS
	// Signed reports whether a ds:Signature element closed the document.
	// Only decoding sets it; Encode writes unsigned documents.
	Signed bool
}

// Header is the request header, in schema order.
type Header struct {
	RequestID                 RequestID
	FirstInSequence           *bool
	PrecedingServiceRequestID *RequestID
	CommandVariant            int
	ServiceReference          string
	ServiceReferenceVariant   string
}

// Cancellation is the ExecutionDateTime DUIS uses to cancel a future-dated
// request (GBCS carries it as 99991231235959Z). It is not the only one a
// device executes as a cancellation: cosbuild.IsCancellation decides.
var Cancellation = time.Date(3000, 12, 31, 0, 0, 0, 0, time.UTC)

// UpdateSecurityCredentialsCoS is the SR 6.23 body: the gaining supplier's
// replacement certificates for the device's supplier trust-anchor cells.
type UpdateSecurityCredentialsCoS struct {
	ExecutionDateTime                     *time.Time
	SupplierFloorSeqNumber                uint64
	SupplierPrepaymentTopUpFloorSeqNumber *uint64
	DigitalSigningCertificate             []byte // DER
	KeyAgreementCertificate               []byte // DER; nil when absent
	KeyAgreementTopUpCertificate          []byte // DER; nil when absent
	CertificationPath                     [][]byte
	ApplyTimeBasedCPVChecks               bool
	ImportMPxN                            string
}

// ErrUnsupported marks a well-formed DUIS request for a service other than
// SR 6.23.
var ErrUnsupported = errors.New("unsupported request")

// DecodeRequest decodes a DUIS request. The SR 6.23 body is the one this
// version understands; any other body is reported as unsupported.
func DecodeRequest(doc []byte) (*Request, error) {
	return decodeWith(doc, decodeRequest)
}

func decodeRequest(r *reader) (*Request, error) {
	req := &Request{}
	var err error
	if req.SchemaVersion, err = r.openRoot(NSRequest, "Request"); err != nil {
		return nil, err
	}
	if err := decodeHeader(r, &req.Header); err != nil {
		return nil, err
	}
	body, err := r.openBody()
	if err != nil {
		return nil, err
	}
	if body.Name.Space != NSRequest || body.Name.Local != "UpdateSecurityCredentialsCoS" {
		return nil, r.fail("%w body %s", ErrUnsupported, describe(body.Name))
	}
	// The header names the service the body performs; a 6.23 body under
	// another service reference is a malformed request, not a 6.23.
	if req.Header.ServiceReference != ServiceReferenceCoS || req.Header.ServiceReferenceVariant != ServiceReferenceCoS {
		return nil, r.fail("body UpdateSecurityCredentialsCoS needs ServiceReference and ServiceReferenceVariant %s, header has %s and %s",
			ServiceReferenceCoS, req.Header.ServiceReference, req.Header.ServiceReferenceVariant)
	}
	if req.UpdateSecurityCredentialsCoS, err = decodeCoS(r); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil { // Body
		return nil, err
	}
	if req.Signed, err = r.signature(); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil { // Request
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return req, nil
}

func decodeHeader(r *reader, h *Header) error {
	if _, err := r.open(NSRequest, "Header"); err != nil {
		return err
	}
	var err error
	if h.RequestID, err = r.requestID(NSRequest, "RequestID"); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "FirstInSequence", func() error {
		b, err := r.boolean(NSRequest, "FirstInSequence")
		h.FirstInSequence = &b
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "PrecedingServiceRequestID", func() error {
		id, err := r.requestID(NSRequest, "PrecedingServiceRequestID")
		h.PrecedingServiceRequestID = &id
		return err
	}); err != nil {
		return err
	}
	cv, err := r.text(NSRequest, "CommandVariant")
	if err != nil {
		return err
	}
	if h.CommandVariant, err = strconv.Atoi(cv); err != nil || checkCommandVariant(h.CommandVariant) != nil {
		return r.failAt("CommandVariant", "%q is not a command variant 1..8", cv)
	}
	if h.ServiceReference, err = r.str(NSRequest, "ServiceReference", checkServiceReference); err != nil {
		return err
	}
	if h.ServiceReferenceVariant, err = r.str(NSRequest, "ServiceReferenceVariant", checkServiceReference); err != nil {
		return err
	}
	return r.close()
}

func decodeCoS(r *reader) (*UpdateSecurityCredentialsCoS, error) {
	if _, err := r.open(NSRequest, "UpdateSecurityCredentialsCoS"); err != nil {
		return nil, err
	}
	u := &UpdateSecurityCredentialsCoS{}
	if err := r.optional(NSRequest, "ExecutionDateTime", func() error {
		t, err := r.dateTime(NSRequest, "ExecutionDateTime")
		u.ExecutionDateTime = &t
		return err
	}); err != nil {
		return nil, err
	}
	var err error
	if u.SupplierFloorSeqNumber, err = r.floor(NSRequest, "SupplierFloorSeqNumber"); err != nil {
		return nil, err
	}
	if err := r.optional(NSRequest, "SupplierPrepaymentTopUpFloorSeqNumber", func() error {
		n, err := r.floor(NSRequest, "SupplierPrepaymentTopUpFloorSeqNumber")
		u.SupplierPrepaymentTopUpFloorSeqNumber = &n
		return err
	}); err != nil {
		return nil, err
	}
	if _, err := r.open(NSRequest, "SupplierReplacementCertificates"); err != nil {
		return nil, err
	}
	if u.DigitalSigningCertificate, err = r.base64(NSRequest, "DigitalSigningCertificate"); err != nil {
		return nil, err
	}
	if err := r.optional(NSRequest, "KeyAgreementCertificate", func() (err error) {
		u.KeyAgreementCertificate, err = r.base64(NSRequest, "KeyAgreementCertificate")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(NSRequest, "KeyAgreementTopUpCertificate", func() (err error) {
		u.KeyAgreementTopUpCertificate, err = r.base64(NSRequest, "KeyAgreementTopUpCertificate")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	if _, err := r.open(NSRequest, "CertificationPathCertificates"); err != nil {
		return nil, err
	}
	for {
		ok, err := r.is(NSRequest, "Certificate")
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(u.CertificationPath) == maxPathCertificates {
			return nil, r.fail("more than %d certification path certificates", maxPathCertificates)
		}
		c, err := r.base64(NSRequest, "Certificate")
		if err != nil {
			return nil, err
		}
		u.CertificationPath = append(u.CertificationPath, c)
	}
	if len(u.CertificationPath) == 0 {
		return nil, r.fail("no Certificate in CertificationPathCertificates")
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	if u.ApplyTimeBasedCPVChecks, err = r.boolean(NSRequest, "ApplyTimeBasedCPVChecks"); err != nil {
		return nil, err
	}
	if u.ImportMPxN, err = r.str(NSRequest, "ImportMPxN", checkMPxN); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return u, nil
}
