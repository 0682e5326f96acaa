package duis

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// GBCSResponse is the MMC 5.4 ra:GBCSResponse document: a device's GBCS
// response as DCC's Parse and Correlate software renders it for Users.
// The DUIS response carries only the base64 GBCSPayload (the DUIS schema
// has no element for a parsed outcome), so the ECoS party offers the SR
// 6.23 outcome in this form beside it. Only the 6.23 body,
// ResponseMessage/SMETSData/UpdateSecurityCredentialsCoSRsp, is modelled.
type GBCSResponse struct {
	SchemaVersion                   string
	Header                          GBCSResponseHeader
	UpdateSecurityCredentialsCoSRsp *UpdateSecurityCredentialsCoSRsp
}

// GBCSResponseHeader is ra:HeaderType: the GBCS addressing of the device's
// response. Zero values mean absent for the optional EUI, message code
// and strings, which no real message uses as a value.
type GBCSResponseHeader struct {
	BusinessOriginatorID eui.EUI // the device
	BusinessTargetID     eui.EUI // the party the device answered (the CoS party for 6.23)
	OriginatorCounter    uint64  // the command's originator counter
	// SupplementaryRemotePartyID and Counter name the User when the DCC
	// (here: the CoS party) originated the command on its behalf (GBCS 4.3.1.4).
	SupplementaryRemotePartyID      eui.EUI
	SupplementaryRemotePartyCounter *uint64
	SupplementaryOriginatorCounter  *uint64
	GBCSHexadecimalMessageCode      uint16 // e.g. 0x0107 for CS02b supplierByTransCoS
	ServiceReference                string
	ServiceReferenceVariant         string
	Timestamp                       *time.Time
}

// UpdateSecurityCredentialsCoSRsp is ra:UpdateSecurityCredentialsCoSRsp
// (SR 6.23). ExecutionOutcome is nil for a future-dated command, whose
// outcome comes later in an alert.
type UpdateSecurityCredentialsCoSRsp struct {
	MessageSuccess   *bool // the MessageSuccess attribute; nil when absent
	ExecutionOutcome *ExecutionOutcome
}

// ExecutionOutcome is ra:ExecutionOutcome: what the device did, per trust
// anchor cell. Every field is optional in the schema; zero values mean
// absent. The string fields take the schema's enumerations (constants
// below); the lead's gbcs mapping fills them.
type ExecutionOutcome struct {
	AuthorisingRemotePartyOriginatorCounter *uint64
	CredentialsReplacementMode              string
	RemotePartySeqNumberChange              *RemotePartySeqNumberChange
	ReplacementOutcomes                     []ReplacementOutcome // at most 3
}

// RemotePartySeqNumberChange is ra:RemotePartySeqNumberChange: the floors
// the device set for the new remote party.
type RemotePartySeqNumberChange struct {
	RemotePartyRole                          string
	RemotePartyFloorSeqNumber                *uint64
	RemotePartyPrepaymentTopUpFloorSeqNumber *uint64
}

// ReplacementOutcome is ra:ReplacementOutcome: one cell's result.
type ReplacementOutcome struct {
	StatusCode              *StatusASN1
	CertificateType         string
	RemotePartyRole         string
	ExistingRemotePartyID   eui.EUI
	NewRemotePartyID        eui.EUI
	ExistingCertificateHash []byte
	NewCertificateHash      []byte
}

// StatusASN1 is ra:StatusASN1: the device's ENUMERATED status for a cell,
// as its number (the required ResponseCode attribute: 0 success,
// 5 badCertificate, 10 noTrustAnchor, 17 insufficientMemory, 30
// resourcesBusy, 127 other in GBCS) and its name (one of the Status
// constants). gbcs.Status gives both.
type StatusASN1 struct {
	ResponseCode int64
	ASN1Status   string
}

// ra:ExecutionOutcome/CredentialsReplacementMode values.
const (
	ModeACBByACB                         = "ACBByACB"
	ModeSupplierBySupplier               = "SupplierBySupplier"
	ModeNetworkOperatorByNetworkOperator = "NetworkOperatorByNetworkOperator"
	ModeLoadControllerBySupplier         = "LoadControllerBySupplier"
	ModeSupplierByTransCoS               = "SupplierByTransCoS" // SR 6.23
)

// ra:RemotePartyRole values.
const (
	RoleACB             = "ACB"
	RoleNetworkOperator = "NetworkOperator"
	RoleRecovery        = "Recovery"
	RoleRoot            = "Root"
	RoleSupplier        = "Supplier"
	RoleTransCoS        = "TransCoS"
	RoleLoadController  = "LoadController"
)

// ra:ReplacementOutcome/CertificateType values.
const (
	CertificateDigitalSigning    = "DigitalSigning"
	CertificateKeyAgreement      = "KeyAgreement"
	CertificateKeyAgreementTopUp = "KeyAgreementTopUp"
	CertificateKeyCertSign       = "KeyCertSign"
)

// ra:ASN1Status values the schema lists for SRs 6.15.1, 6.21, 6.23 and 8.5,
// plus its two generic ones. The other values belong to other SRs and are
// refused.
const (
	StatusSuccess            = "success"
	StatusNotKnown           = "notKnown"
	StatusBadCertificate     = "badCertificate"
	StatusNoTrustAnchor      = "noTrustAnchor"
	StatusInsufficientMemory = "insufficientMemory"
	StatusResourcesBusy      = "resourcesBusy"
	StatusOther              = "other"
)

var (
	replacementModes = []string{ModeACBByACB, ModeSupplierBySupplier, ModeNetworkOperatorByNetworkOperator, ModeLoadControllerBySupplier, ModeSupplierByTransCoS}
	remotePartyRoles = []string{RoleACB, RoleNetworkOperator, RoleRecovery, RoleRoot, RoleSupplier, RoleTransCoS, RoleLoadController}
	certificateTypes = []string{CertificateDigitalSigning, CertificateKeyAgreement, CertificateKeyAgreementTopUp, CertificateKeyCertSign}
	credentialStatus = []string{StatusSuccess, StatusNotKnown, StatusBadCertificate, StatusNoTrustAnchor, StatusInsufficientMemory, StatusResourcesBusy, StatusOther}
)

// maxReplacementOutcomes is ReplacementOutcome's maxOccurs: one per
// supplier cell (DS, KA, KA top-up).
const maxReplacementOutcomes = 3

// NewCoSOutcome is the MMC rendering of a device's 6.23 response: header h
// with service reference and variant 6.23 filled in when empty, and the
// outcome (nil for a future-dated command). MessageSuccess is left to the
// caller, who knows what counts as success.
func NewCoSOutcome(h GBCSResponseHeader, outcome *ExecutionOutcome) *GBCSResponse {
	if h.ServiceReference == "" {
		h.ServiceReference = ServiceReferenceCoS
	}
	if h.ServiceReferenceVariant == "" {
		h.ServiceReferenceVariant = ServiceReferenceCoS
	}
	return &GBCSResponse{
		SchemaVersion:                   SchemaVersion,
		Header:                          h,
		UpdateSecurityCredentialsCoSRsp: &UpdateSecurityCredentialsCoSRsp{ExecutionOutcome: outcome},
	}
}

// Validate reports the first field Encode could not write as a valid,
// round-tripping MMC 5.4 document, as a *ValueError naming the element.
func (g *GBCSResponse) Validate() error {
	const root = "GBCSResponse"
	if err := checkDecimal(g.SchemaVersion); err != nil {
		return invalidf(root+"@schemaVersion", "%v", err)
	}
	h := &g.Header
	const hp = root + "/Header/"
	if h.ServiceReference != "" {
		if err := checkServiceReference(h.ServiceReference); err != nil {
			return invalidf(hp+"ServiceReference", "%v", err)
		}
	}
	if h.ServiceReferenceVariant != "" {
		if err := checkServiceReference(h.ServiceReferenceVariant); err != nil {
			return invalidf(hp+"ServiceReferenceVariant", "%v", err)
		}
	}
	if h.Timestamp != nil {
		if err := checkDateTime(*h.Timestamp); err != nil {
			return invalidf(hp+"Timestamp", "%v", err)
		}
	}
	rsp := g.UpdateSecurityCredentialsCoSRsp
	if rsp == nil {
		return invalidf(root+"/Body/ResponseMessage/SMETSData", "no UpdateSecurityCredentialsCoSRsp")
	}
	if o := rsp.ExecutionOutcome; o != nil {
		return o.validate(root + "/Body/ResponseMessage/SMETSData/UpdateSecurityCredentialsCoSRsp/ExecutionOutcome/")
	}
	return nil
}

func (o *ExecutionOutcome) validate(p string) error {
	if err := checkOptionalEnum(o.CredentialsReplacementMode, replacementModes); err != nil {
		return invalidf(p+"CredentialsReplacementMode", "%v", err)
	}
	if c := o.RemotePartySeqNumberChange; c != nil {
		if err := checkOptionalEnum(c.RemotePartyRole, remotePartyRoles); err != nil {
			return invalidf(p+"RemotePartySeqNumberChange/RemotePartyRole", "%v", err)
		}
	}
	if n := len(o.ReplacementOutcomes); n > maxReplacementOutcomes {
		return invalidf(p+"ReplacementOutcome", "%d outcomes, at most %d allowed", n, maxReplacementOutcomes)
	}
	for i := range o.ReplacementOutcomes {
		if err := o.ReplacementOutcomes[i].validate(fmt.Sprintf("%sReplacementOutcome[%d]/", p, i+1)); err != nil {
			return err
		}
	}
	return nil
}

func (o *ReplacementOutcome) validate(p string) error {
	if o.StatusCode != nil {
		if err := checkEnum(o.StatusCode.ASN1Status, credentialStatus); err != nil {
			return invalidf(p+"StatusCode/ASN1Status", "%v", err)
		}
	}
	if err := checkOptionalEnum(o.CertificateType, certificateTypes); err != nil {
		return invalidf(p+"CertificateType", "%v", err)
	}
	if err := checkOptionalEnum(o.RemotePartyRole, remotePartyRoles); err != nil {
		return invalidf(p+"RemotePartyRole", "%v", err)
	}
	if err := checkOptionalBytes(o.ExistingCertificateHash); err != nil {
		return invalidf(p+"ExistingCertificateHash", "%v", err)
	}
	if err := checkOptionalBytes(o.NewCertificateHash); err != nil {
		return invalidf(p+"NewCertificateHash", "%v", err)
	}
	return nil
}

func checkOptionalEnum(s string, values []string) error {
	if s == "" {
		return nil
	}
	return checkEnum(s, values)
}

// Encode writes the document as MMC 5.4 XML: root ra:GBCSResponse
// declaring only xmlns:ra, ra: elements in schema order, no indentation,
// Timestamp in UTC milliseconds, the message code as four upper-case hex
// digits. Deterministic; DecodeGBCSResponse(Encode(g)) equals g.
func (g *GBCSResponse) Encode() ([]byte, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	w := newWriter()
	w.start("ra:GBCSResponse", attr{"xmlns:ra", NSResponseAndAlert}, attr{"schemaVersion", g.SchemaVersion})
	g.Header.encode(w)
	w.start("ra:Body")
	w.start("ra:ResponseMessage")
	w.start("ra:SMETSData")
	rsp := g.UpdateSecurityCredentialsCoSRsp
	var attrs []attr
	if rsp.MessageSuccess != nil {
		attrs = append(attrs, attr{"MessageSuccess", strconv.FormatBool(*rsp.MessageSuccess)})
	}
	w.start("ra:UpdateSecurityCredentialsCoSRsp", attrs...)
	if rsp.ExecutionOutcome != nil {
		rsp.ExecutionOutcome.encode(w)
	}
	w.end("ra:UpdateSecurityCredentialsCoSRsp")
	w.end("ra:SMETSData")
	w.end("ra:ResponseMessage")
	w.end("ra:Body")
	w.end("ra:GBCSResponse")
	return w.bytes()
}

func (h *GBCSResponseHeader) encode(w *writer) {
	w.start("ra:Header")
	w.eui("ra:BusinessOriginatorID", h.BusinessOriginatorID)
	w.eui("ra:BusinessTargetID", h.BusinessTargetID)
	w.uint("ra:OriginatorCounter", h.OriginatorCounter)
	if !h.SupplementaryRemotePartyID.IsZero() {
		w.eui("ra:SupplementaryRemotePartyID", h.SupplementaryRemotePartyID)
	}
	if h.SupplementaryRemotePartyCounter != nil {
		w.uint("ra:SupplementaryRemotePartyCounter", *h.SupplementaryRemotePartyCounter)
	}
	if h.SupplementaryOriginatorCounter != nil {
		w.uint("ra:SupplementaryOriginatorCounter", *h.SupplementaryOriginatorCounter)
	}
	if h.GBCSHexadecimalMessageCode != 0 {
		w.text("ra:GBCSHexadecimalMessageCode", fmt.Sprintf("%04X", h.GBCSHexadecimalMessageCode))
	}
	if h.ServiceReference != "" {
		w.text("ra:ServiceReference", h.ServiceReference)
	}
	if h.ServiceReferenceVariant != "" {
		w.text("ra:ServiceReferenceVariant", h.ServiceReferenceVariant)
	}
	if h.Timestamp != nil {
		w.dateTime("ra:Timestamp", *h.Timestamp, responseFracDigits)
	}
	w.end("ra:Header")
}

func (o *ExecutionOutcome) encode(w *writer) {
	w.start("ra:ExecutionOutcome")
	if o.AuthorisingRemotePartyOriginatorCounter != nil {
		w.uint("ra:AuthorisingRemotePartyOriginatorCounter", *o.AuthorisingRemotePartyOriginatorCounter)
	}
	if o.CredentialsReplacementMode != "" {
		w.text("ra:CredentialsReplacementMode", o.CredentialsReplacementMode)
	}
	if c := o.RemotePartySeqNumberChange; c != nil {
		w.start("ra:RemotePartySeqNumberChange")
		if c.RemotePartyRole != "" {
			w.text("ra:RemotePartyRole", c.RemotePartyRole)
		}
		if c.RemotePartyFloorSeqNumber != nil {
			w.uint("ra:RemotePartyFloorSeqNumber", *c.RemotePartyFloorSeqNumber)
		}
		if c.RemotePartyPrepaymentTopUpFloorSeqNumber != nil {
			w.uint("ra:RemotePartyPrepaymentTopUpFloorSeqNumber", *c.RemotePartyPrepaymentTopUpFloorSeqNumber)
		}
		w.end("ra:RemotePartySeqNumberChange")
	}
	for i := range o.ReplacementOutcomes {
		o.ReplacementOutcomes[i].encode(w)
	}
	w.end("ra:ExecutionOutcome")
}

func (o *ReplacementOutcome) encode(w *writer) {
	w.start("ra:ReplacementOutcome")
	if o.StatusCode != nil {
		w.start("ra:StatusCode", attr{"ResponseCode", strconv.FormatInt(o.StatusCode.ResponseCode, 10)})
		w.text("ra:ASN1Status", o.StatusCode.ASN1Status)
		w.end("ra:StatusCode")
	}
	if o.CertificateType != "" {
		w.text("ra:CertificateType", o.CertificateType)
	}
	if o.RemotePartyRole != "" {
		w.text("ra:RemotePartyRole", o.RemotePartyRole)
	}
	if !o.ExistingRemotePartyID.IsZero() {
		w.eui("ra:ExistingRemotePartyID", o.ExistingRemotePartyID)
	}
	if !o.NewRemotePartyID.IsZero() {
		w.eui("ra:NewRemotePartyID", o.NewRemotePartyID)
	}
	if o.ExistingCertificateHash != nil {
		w.base64("ra:ExistingCertificateHash", o.ExistingCertificateHash)
	}
	if o.NewCertificateHash != nil {
		w.base64("ra:NewCertificateHash", o.NewCertificateHash)
	}
	w.end("ra:ReplacementOutcome")
}
