package duis

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

// DecodeGBCSResponse decodes the MMC ra:GBCSResponse documents this package
// writes (the SR 6.23 outcome), with the strictness of DecodeRequest.
// GBCSData, DebugInfo, device alerts, header Timestamp attributes and every
// other SMETSData body are refused, naming the element.
func DecodeGBCSResponse(doc []byte) (*GBCSResponse, error) {
	return decodeWith(doc, decodeGBCSResponse)
}

func decodeGBCSResponse(r *reader) (*GBCSResponse, error) {
	const ns = NSResponseAndAlert
	g := &GBCSResponse{}
	var err error
	if g.SchemaVersion, err = r.openRoot(ns, "GBCSResponse"); err != nil {
		return nil, err
	}
	if err := decodeGBCSResponseHeader(r, &g.Header); err != nil {
		return nil, err
	}
	for _, local := range []string{"Body", "ResponseMessage", "SMETSData"} {
		if _, err := r.open(ns, local); err != nil {
			return nil, err
		}
	}
	se, err := r.peek()
	if err != nil {
		return nil, err
	}
	if se == nil {
		return nil, r.fail("empty SMETSData")
	}
	if se.Name.Space != ns || se.Name.Local != "UpdateSecurityCredentialsCoSRsp" {
		return nil, r.fail("unsupported SMETSData content %s", describe(se.Name))
	}
	if g.UpdateSecurityCredentialsCoSRsp, err = decodeCoSRsp(r); err != nil {
		return nil, err
	}
	for range 4 { // SMETSData, ResponseMessage, Body, GBCSResponse
		if err := r.close(); err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return g, nil
}

func decodeGBCSResponseHeader(r *reader, h *GBCSResponseHeader) error {
	const ns = NSResponseAndAlert
	if _, err := r.open(ns, "Header"); err != nil {
		return err
	}
	var err error
	if h.BusinessOriginatorID, err = r.eui(ns, "BusinessOriginatorID"); err != nil {
		return err
	}
	if h.BusinessTargetID, err = r.eui(ns, "BusinessTargetID"); err != nil {
		return err
	}
	if h.OriginatorCounter, err = r.uint(ns, "OriginatorCounter"); err != nil {
		return err
	}
	if err := r.optional(ns, "SupplementaryRemotePartyID", func() (err error) {
		h.SupplementaryRemotePartyID, err = r.eui(ns, "SupplementaryRemotePartyID")
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(ns, "SupplementaryRemotePartyCounter", func() (err error) {
		h.SupplementaryRemotePartyCounter, err = r.optionalUint(ns, "SupplementaryRemotePartyCounter")
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(ns, "SupplementaryOriginatorCounter", func() (err error) {
		h.SupplementaryOriginatorCounter, err = r.optionalUint(ns, "SupplementaryOriginatorCounter")
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(ns, "GBCSHexadecimalMessageCode", func() error {
		s, err := r.checked(ns, "GBCSHexadecimalMessageCode", checkMessageCode)
		if err != nil {
			return err
		}
		b, _ := hex.DecodeString(s)
		h.GBCSHexadecimalMessageCode = uint16(b[0])<<8 | uint16(b[1])
		return nil
	}); err != nil {
		return err
	}
	if err := r.optional(ns, "ServiceReference", func() (err error) {
		h.ServiceReference, err = r.checked(ns, "ServiceReference", checkServiceReference)
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(ns, "ServiceReferenceVariant", func() (err error) {
		h.ServiceReferenceVariant, err = r.checked(ns, "ServiceReferenceVariant", checkServiceReference)
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(ns, "Timestamp", func() error {
		t, err := r.dateTime(ns, "Timestamp")
		h.Timestamp = &t
		return err
	}); err != nil {
		return err
	}
	return r.close()
}

// checkMessageCode accepts a GBCS message code as xs:hexBinary: two octets.
func checkMessageCode(s string) error {
	if b, err := hex.DecodeString(s); err != nil || len(b) != 2 {
		return fmt.Errorf("%q is not a two-octet hexBinary message code", truncate(s))
	}
	return nil
}

func (r *reader) optionalUint(ns, local string) (*uint64, error) {
	n, err := r.uint(ns, local)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func decodeCoSRsp(r *reader) (*UpdateSecurityCredentialsCoSRsp, error) {
	const ns = NSResponseAndAlert
	se, err := r.openAttrs(ns, "UpdateSecurityCredentialsCoSRsp")
	if err != nil {
		return nil, err
	}
	rsp := &UpdateSecurityCredentialsCoSRsp{}
	for _, a := range se.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "MessageSuccess":
			var b bool
			switch trimXMLSpace(a.Value) {
			case "true", "1":
				b = true
			case "false", "0":
			default:
				return nil, r.fail("MessageSuccess %q is not an xs:boolean", truncate(a.Value))
			}
			rsp.MessageSuccess = &b
		case isNSDecl(a.Name):
		default:
			return nil, r.fail("unexpected attribute %s", describe(a.Name))
		}
	}
	if err := r.optional(ns, "ExecutionOutcome", func() (err error) {
		rsp.ExecutionOutcome, err = decodeExecutionOutcome(r)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return rsp, nil
}

func decodeExecutionOutcome(r *reader) (*ExecutionOutcome, error) {
	const ns = NSResponseAndAlert
	if _, err := r.open(ns, "ExecutionOutcome"); err != nil {
		return nil, err
	}
	o := &ExecutionOutcome{}
	if err := r.optional(ns, "AuthorisingRemotePartyOriginatorCounter", func() (err error) {
		o.AuthorisingRemotePartyOriginatorCounter, err = r.optionalUint(ns, "AuthorisingRemotePartyOriginatorCounter")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "CredentialsReplacementMode", func() (err error) {
		o.CredentialsReplacementMode, err = r.enum(ns, "CredentialsReplacementMode", replacementModes)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "RemotePartySeqNumberChange", func() (err error) {
		o.RemotePartySeqNumberChange, err = decodeSeqNumberChange(r)
		return err
	}); err != nil {
		return nil, err
	}
	for {
		ok, err := r.is(ns, "ReplacementOutcome")
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(o.ReplacementOutcomes) == maxReplacementOutcomes {
			return nil, r.fail("more than %d ReplacementOutcome elements", maxReplacementOutcomes)
		}
		ro, err := decodeReplacementOutcome(r)
		if err != nil {
			return nil, err
		}
		o.ReplacementOutcomes = append(o.ReplacementOutcomes, *ro)
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return o, nil
}

func decodeSeqNumberChange(r *reader) (*RemotePartySeqNumberChange, error) {
	const ns = NSResponseAndAlert
	if _, err := r.open(ns, "RemotePartySeqNumberChange"); err != nil {
		return nil, err
	}
	c := &RemotePartySeqNumberChange{}
	if err := r.optional(ns, "RemotePartyRole", func() (err error) {
		c.RemotePartyRole, err = r.enum(ns, "RemotePartyRole", remotePartyRoles)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "RemotePartyFloorSeqNumber", func() (err error) {
		c.RemotePartyFloorSeqNumber, err = r.optionalUint(ns, "RemotePartyFloorSeqNumber")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "RemotePartyPrepaymentTopUpFloorSeqNumber", func() (err error) {
		c.RemotePartyPrepaymentTopUpFloorSeqNumber, err = r.optionalUint(ns, "RemotePartyPrepaymentTopUpFloorSeqNumber")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeReplacementOutcome(r *reader) (*ReplacementOutcome, error) {
	const ns = NSResponseAndAlert
	if _, err := r.open(ns, "ReplacementOutcome"); err != nil {
		return nil, err
	}
	o := &ReplacementOutcome{}
	if err := r.optional(ns, "StatusCode", func() (err error) {
		o.StatusCode, err = decodeStatusASN1(r)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "CertificateType", func() (err error) {
		o.CertificateType, err = r.enum(ns, "CertificateType", certificateTypes)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "RemotePartyRole", func() (err error) {
		o.RemotePartyRole, err = r.enum(ns, "RemotePartyRole", remotePartyRoles)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "ExistingRemotePartyID", func() (err error) {
		o.ExistingRemotePartyID, err = r.eui(ns, "ExistingRemotePartyID")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "NewRemotePartyID", func() (err error) {
		o.NewRemotePartyID, err = r.eui(ns, "NewRemotePartyID")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "ExistingCertificateHash", func() (err error) {
		o.ExistingCertificateHash, err = r.base64(ns, "ExistingCertificateHash")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.optional(ns, "NewCertificateHash", func() (err error) {
		o.NewCertificateHash, err = r.base64(ns, "NewCertificateHash")
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return o, nil
}

// enum reads a text element holding one of the schema's enumerated values.
func (r *reader) enum(ns, local string, values []string) (string, error) {
	return r.checked(ns, local, func(s string) error { return checkEnum(s, values) })
}

func decodeStatusASN1(r *reader) (*StatusASN1, error) {
	const ns = NSResponseAndAlert
	se, err := r.openAttrs(ns, "StatusCode")
	if err != nil {
		return nil, err
	}
	st := &StatusASN1{}
	seen := false
	for _, a := range se.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "ResponseCode":
			if st.ResponseCode, err = strconv.ParseInt(trimXMLSpace(a.Value), 10, 64); err != nil {
				return nil, r.fail("ResponseCode %q is not an integer", truncate(a.Value))
			}
			seen = true
		case isNSDecl(a.Name):
		default:
			return nil, r.fail("unexpected attribute %s", describe(a.Name))
		}
	}
	if !seen {
		return nil, r.fail("missing ResponseCode attribute")
	}
	if st.ASN1Status, err = r.enum(ns, "ASN1Status", credentialStatus); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return st, nil
}
