package duis

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Request is a decoded DUIS service request. Exactly one body field is set.
type Request struct {
	SchemaVersion string
	Header        Header
	// UpdateSecurityCredentialsCoS is the SR 6.23 body.
	UpdateSecurityCredentialsCoS *UpdateSecurityCredentialsCoS
	// Signed reports whether a ds:Signature element closed the document.
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
// request (GBCS carries it as 99991231235959Z).
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

// IsCancellation reports whether the request cancels a future-dated one.
func (u *UpdateSecurityCredentialsCoS) IsCancellation() bool {
	return u.ExecutionDateTime != nil && u.ExecutionDateTime.Equal(Cancellation)
}

// DecodeRequest decodes a DUIS request. The SR 6.23 body is the one this
// version understands; any other body is reported as unsupported.
func DecodeRequest(doc []byte) (*Request, error) {
	r, err := newReader(doc)
	if err != nil {
		return nil, err
	}
	req, err := decodeRequest(r)
	if err != nil {
		return nil, err
	}
	return req, nil
}

func decodeRequest(r *reader) (*Request, error) {
	root, err := r.open(NSRequest, "Request")
	if err != nil {
		return nil, err
	}
	req := &Request{}
	for _, a := range root.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "schemaVersion":
			req.SchemaVersion = strings.TrimSpace(a.Value)
		case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns"):
		case a.Name.Space == "http://www.w3.org/2001/XMLSchema-instance":
		default:
			return nil, r.fail("unexpected attribute %s", describe(a.Name))
		}
	}
	if req.SchemaVersion == "" {
		return nil, r.fail("missing schemaVersion attribute")
	}
	if _, err := strconv.ParseFloat(req.SchemaVersion, 64); err != nil {
		return nil, r.fail("schemaVersion %q is not a decimal", req.SchemaVersion)
	}
	if err := decodeHeader(r, &req.Header); err != nil {
		return nil, err
	}
	if _, err := r.open(NSRequest, "Body"); err != nil {
		return nil, err
	}
	body, err := r.peek()
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, r.fail("empty body")
	}
	if body.Name.Space != NSRequest || body.Name.Local != "UpdateSecurityCredentialsCoS" {
		return nil, r.fail("unsupported request body %s", describe(body.Name))
	}
	if req.UpdateSecurityCredentialsCoS, err = decodeCoS(r); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil { // Body
		return nil, err
	}
	if ok, err := r.is(NSDSig, "Signature"); err != nil {
		return nil, err
	} else if ok {
		if err := r.skip(); err != nil {
			return nil, err
		}
		req.Signed = true
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
	s, err := r.text(NSRequest, "RequestID")
	if err != nil {
		return err
	}
	if h.RequestID, err = ParseRequestID(s); err != nil {
		return errorf(r.where()+"/RequestID", "%v", err)
	}
	if ok, err := r.is(NSRequest, "FirstInSequence"); err != nil {
		return err
	} else if ok {
		b, err := r.boolean(NSRequest, "FirstInSequence")
		if err != nil {
			return err
		}
		h.FirstInSequence = &b
	}
	if ok, err := r.is(NSRequest, "PrecedingServiceRequestID"); err != nil {
		return err
	} else if ok {
		s, err := r.text(NSRequest, "PrecedingServiceRequestID")
		if err != nil {
			return err
		}
		id, err := ParseRequestID(s)
		if err != nil {
			return errorf(r.where()+"/PrecedingServiceRequestID", "%v", err)
		}
		h.PrecedingServiceRequestID = &id
	}
	cv, err := r.text(NSRequest, "CommandVariant")
	if err != nil {
		return err
	}
	if h.CommandVariant, err = strconv.Atoi(cv); err != nil || h.CommandVariant < 1 || h.CommandVariant > 8 {
		return errorf(r.where()+"/CommandVariant", "%q is not a command variant 1..8", cv)
	}
	if h.ServiceReference, err = r.text(NSRequest, "ServiceReference"); err != nil {
		return err
	}
	if h.ServiceReferenceVariant, err = r.text(NSRequest, "ServiceReferenceVariant"); err != nil {
		return err
	}
	return r.close()
}

func decodeCoS(r *reader) (*UpdateSecurityCredentialsCoS, error) {
	if _, err := r.open(NSRequest, "UpdateSecurityCredentialsCoS"); err != nil {
		return nil, err
	}
	u := &UpdateSecurityCredentialsCoS{}
	if ok, err := r.is(NSRequest, "ExecutionDateTime"); err != nil {
		return nil, err
	} else if ok {
		s, err := r.text(NSRequest, "ExecutionDateTime")
		if err != nil {
			return nil, err
		}
		t, err := parseDateTime(s)
		if err != nil {
			return nil, errorf(r.where()+"/ExecutionDateTime", "%v", err)
		}
		u.ExecutionDateTime = &t
	}
	var err error
	if u.SupplierFloorSeqNumber, err = r.floor(NSRequest, "SupplierFloorSeqNumber"); err != nil {
		return nil, err
	}
	if ok, err := r.is(NSRequest, "SupplierPrepaymentTopUpFloorSeqNumber"); err != nil {
		return nil, err
	} else if ok {
		n, err := r.floor(NSRequest, "SupplierPrepaymentTopUpFloorSeqNumber")
		if err != nil {
			return nil, err
		}
		u.SupplierPrepaymentTopUpFloorSeqNumber = &n
	}
	if _, err := r.open(NSRequest, "SupplierReplacementCertificates"); err != nil {
		return nil, err
	}
	if u.DigitalSigningCertificate, err = r.base64(NSRequest, "DigitalSigningCertificate"); err != nil {
		return nil, err
	}
	if ok, err := r.is(NSRequest, "KeyAgreementCertificate"); err != nil {
		return nil, err
	} else if ok {
		if u.KeyAgreementCertificate, err = r.base64(NSRequest, "KeyAgreementCertificate"); err != nil {
			return nil, err
		}
	}
	if ok, err := r.is(NSRequest, "KeyAgreementTopUpCertificate"); err != nil {
		return nil, err
	} else if ok {
		if u.KeyAgreementTopUpCertificate, err = r.base64(NSRequest, "KeyAgreementTopUpCertificate"); err != nil {
			return nil, err
		}
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
		if len(u.CertificationPath) == 3 {
			return nil, r.fail("more than 3 certification path certificates")
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
	if u.ImportMPxN, err = r.text(NSRequest, "ImportMPxN"); err != nil {
		return nil, err
	}
	if len(u.ImportMPxN) < 1 || len(u.ImportMPxN) > 13 {
		return nil, errorf(r.where()+"/ImportMPxN", "length %d, want 1..13", len(u.ImportMPxN))
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return u, nil
}

func (r *reader) boolean(ns, local string) (bool, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return false, err
	}
	switch s {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errorf(r.where()+"/"+local, "%q is not an xs:boolean", s)
}

// floor reads a floorSequenceNumber: a non-negative integer ≤ 2^63−1.
func (r *reader) floor(ns, local string) (uint64, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 63)
	if err != nil {
		return 0, errorf(r.where()+"/"+local, "%q is not an integer in 0..9223372036854775807", s)
	}
	return n, nil
}

func (r *reader) base64(ns, local string) ([]byte, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return nil, err
	}
	// xs:base64Binary allows white space anywhere; Java signers wrap lines.
	s = strings.Map(func(c rune) rune {
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			return -1
		}
		return c
	}, s)
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errorf(r.where()+"/"+local, "invalid base64: %v", err)
	}
	if len(b) == 0 {
		return nil, errorf(r.where()+"/"+local, "empty certificate")
	}
	return b, nil
}

// parseDateTime reads xs:dateTime. DUIS always sends a zone; a time without
// one would be ambiguous for a future-dated command, so it is refused.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errorf("", "%q is not an xs:dateTime with a time zone", s)
}
