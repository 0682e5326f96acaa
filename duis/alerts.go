package duis

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ecos-cos/ecos/eui"
)

// DCCAlertMessage is the sr:DCCAlertMessage body: a code and one alert.
// The schema's ThrottledAlertSequenceId / ThrottledAlertCount are for
// throttled device alerts and are not modelled.
type DCCAlertMessage struct {
	DCCAlertCode DCCAlertCode
	Alert        DCCAlert
}

// DCCAlert is one of the DCC alert bodies the ECoS party raises:
// *QuarantinedRequest, *ChangeOfSupplier, *ECoSAlert or
// *CoSCertificateAlert. The interface is closed so that decoders and
// encoders agree on the set.
type DCCAlert interface {
	element() string
	validate(path string) error
	encode(w *writer)
	decode(r *reader) error
}

var (
	_ DCCAlert = (*QuarantinedRequest)(nil)
	_ DCCAlert = (*ChangeOfSupplier)(nil)
	_ DCCAlert = (*ECoSAlert)(nil)
	_ DCCAlert = (*CoSCertificateAlert)(nil)
)

// newDCCAlert maps an sr:DCCAlert child to its type, for decoding.
func newDCCAlert(local string) DCCAlert {
	switch local {
	case "QuarantinedRequest":
		return new(QuarantinedRequest)
	case "ChangeOfSupplier":
		return new(ChangeOfSupplier)
	case "ECoSAlert":
		return new(ECoSAlert)
	case "CoSCertificateAlert":
		return new(CoSCertificateAlert)
	}
	return nil
}

// Breach names which anomaly-detection threshold quarantined a request
// (the element chosen inside sr:QuarantinedRequest).
type Breach string

// The sr:QuarantinedRequest choices.
const (
	UserThresholdBreach   Breach = "ADUserThresholdBreach"
	DCCThresholdBreach    Breach = "ADDCCThresholdBreach"
	AttributeLimitsBreach Breach = "ADAttributeLimitsBreach"
)

var breaches = []string{string(UserThresholdBreach), string(DCCThresholdBreach), string(AttributeLimitsBreach)}

// QuarantinedRequest tells a User that anomaly detection holds its
// request. QuarantineEventRef is the schema's integer of up to 20 digits;
// the ECoS party numbers events with a uint64.
type QuarantinedRequest struct {
	Breach             Breach
	RequestID          RequestID
	QuarantineEventRef uint64
}

func (*QuarantinedRequest) element() string { return "QuarantinedRequest" }

func (a *QuarantinedRequest) validate(p string) error {
	if err := checkEnum(string(a.Breach), breaches); err != nil {
		return invalidf(strings.TrimSuffix(p, "/"), "breach: %v", err)
	}
	return nil
}

func (a *QuarantinedRequest) encode(w *writer) {
	w.start("sr:QuarantinedRequest")
	w.start("sr:" + string(a.Breach))
	w.requestID("sr:RequestID", a.RequestID)
	w.uint("sr:QuarantineEventRef", a.QuarantineEventRef)
	w.end("sr:" + string(a.Breach))
	w.end("sr:QuarantinedRequest")
}

func (a *QuarantinedRequest) decode(r *reader) (err error) {
	if _, err := r.open(NSRequest, "QuarantinedRequest"); err != nil {
		return err
	}
	se, err := r.peek()
	if err != nil {
		return err
	}
	if se == nil {
		return r.fail("missing element, want one of %s", strings.Join(breaches, ", "))
	}
	if se.Name.Space != NSRequest || checkEnum(se.Name.Local, breaches) != nil {
		return r.fail("found element %s where one of %s was expected", describe(se.Name), strings.Join(breaches, ", "))
	}
	a.Breach = Breach(se.Name.Local)
	if _, err := r.open(NSRequest, se.Name.Local); err != nil {
		return err
	}
	if a.RequestID, err = r.requestID(NSRequest, "RequestID"); err != nil {
		return err
	}
	if a.QuarantineEventRef, err = r.uint(NSRequest, "QuarantineEventRef"); err != nil {
		return err
	}
	if err := r.close(); err != nil {
		return err
	}
	return r.close()
}

// ChangeOfSupplier reports the end of a 6.23 request to the User that sent
// it: the request's ID and, when it failed in the ECoS party, a 3-character
// ECoSErrorCode (added in DUIS 5.3a; its values are defined in DUIS). The
// schema's other branch, DeviceChangeOfSupplier, is the DCC's notice to the
// losing supplier and is not modelled.
type ChangeOfSupplier struct {
	ServiceRequestID RequestID
	ECoSErrorCode    string // "" when absent
}

func (*ChangeOfSupplier) element() string { return "ChangeOfSupplier" }

func (a *ChangeOfSupplier) validate(p string) error {
	if a.ECoSErrorCode != "" {
		if err := checkLength(a.ECoSErrorCode, 3, 3); err != nil {
			return invalidf(p+"ECoSErrorCode", "%v", err)
		}
	}
	return nil
}

func (a *ChangeOfSupplier) encode(w *writer) {
	w.start("sr:ChangeOfSupplier")
	w.requestID("sr:ChangeOfSupplierServiceRequestID", a.ServiceRequestID)
	if a.ECoSErrorCode != "" {
		w.text("sr:ECoSErrorCode", a.ECoSErrorCode)
	}
	w.end("sr:ChangeOfSupplier")
}

func (a *ChangeOfSupplier) decode(r *reader) (err error) {
	if _, err := r.open(NSRequest, "ChangeOfSupplier"); err != nil {
		return err
	}
	if ok, err := r.is(NSRequest, "DeviceChangeOfSupplier"); err != nil {
		return err
	} else if ok {
		return r.fail("DeviceChangeOfSupplier is not supported")
	}
	if a.ServiceRequestID, err = r.requestID(NSRequest, "ChangeOfSupplierServiceRequestID"); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "ECoSErrorCode", func() (err error) {
		a.ECoSErrorCode, err = r.checked(NSRequest, "ECoSErrorCode", func(s string) error { return checkLength(s, 3, 3) })
		return err
	}); err != nil {
		return err
	}
	return r.close()
}

// ECoSAlert is the ECoS party's alert about a device: AlertID is the
// alert's own ID (originator:target:counter), RequestID the request it
// concerns if any. ECoSAlertCode values are defined in DUIS, not in the
// schema (an xs:string), so callers choose them.
type ECoSAlert struct {
	AlertID               RequestID
	RequestID             *RequestID
	ECoSAlertCode         string
	DeviceID              eui.EUI
	AdditionalInformation string // "" when absent
}

func (*ECoSAlert) element() string { return "ECoSAlert" }

func (a *ECoSAlert) validate(p string) error {
	if err := checkRequiredText(a.ECoSAlertCode); err != nil {
		return invalidf(p+"ECoSAlertCode", "%v", err)
	}
	if err := checkText(a.AdditionalInformation); err != nil {
		return invalidf(p+"AdditionalInformation", "%v", err)
	}
	return nil
}

func (a *ECoSAlert) encode(w *writer) {
	w.start("sr:ECoSAlert")
	w.requestID("sr:AlertID", a.AlertID)
	if a.RequestID != nil {
		w.requestID("sr:RequestID", *a.RequestID)
	}
	w.text("sr:ECoSAlertCode", a.ECoSAlertCode)
	w.eui("sr:DeviceID", a.DeviceID)
	if a.AdditionalInformation != "" {
		w.text("sr:AdditionalInformation", a.AdditionalInformation)
	}
	w.end("sr:ECoSAlert")
}

func (a *ECoSAlert) decode(r *reader) (err error) {
	if _, err := r.open(NSRequest, "ECoSAlert"); err != nil {
		return err
	}
	if a.AlertID, err = r.requestID(NSRequest, "AlertID"); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "RequestID", func() error {
		id, err := r.requestID(NSRequest, "RequestID")
		a.RequestID = &id
		return err
	}); err != nil {
		return err
	}
	if a.ECoSAlertCode, err = r.checked(NSRequest, "ECoSAlertCode", checkRequiredText); err != nil {
		return err
	}
	if a.DeviceID, err = r.eui(NSRequest, "DeviceID"); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "AdditionalInformation", func() (err error) {
		a.AdditionalInformation, err = r.checked(NSRequest, "AdditionalInformation", checkText)
		return err
	}); err != nil {
		return err
	}
	return r.close()
}

// CoSCertificateAlert reports a device whose CoS certificate needs
// attention; CertificateSerialNumber (xs:integer: SMKI serials run to 20
// octets, beyond uint64) is nil when absent.
type CoSCertificateAlert struct {
	DeviceID                eui.EUI
	CertificateSerialNumber *big.Int
}

func (*CoSCertificateAlert) element() string { return "CoSCertificateAlert" }

func (a *CoSCertificateAlert) validate(p string) error {
	if a.CertificateSerialNumber != nil {
		if err := checkSerial(a.CertificateSerialNumber); err != nil {
			return invalidf(p+"CertificateSerialNumber", "%v", err)
		}
	}
	return nil
}

func (a *CoSCertificateAlert) encode(w *writer) {
	w.start("sr:CoSCertificateAlert")
	w.eui("sr:DeviceID", a.DeviceID)
	if a.CertificateSerialNumber != nil {
		w.text("sr:CertificateSerialNumber", a.CertificateSerialNumber.String())
	}
	w.end("sr:CoSCertificateAlert")
}

func (a *CoSCertificateAlert) decode(r *reader) (err error) {
	if _, err := r.open(NSRequest, "CoSCertificateAlert"); err != nil {
		return err
	}
	if a.DeviceID, err = r.eui(NSRequest, "DeviceID"); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "CertificateSerialNumber", func() (err error) {
		a.CertificateSerialNumber, err = r.bigInt(NSRequest, "CertificateSerialNumber")
		return err
	}); err != nil {
		return err
	}
	return r.close()
}

func (m *DCCAlertMessage) validate(p string) error {
	if !m.DCCAlertCode.Valid() {
		return invalidf(p+"DCCAlertCode", "%q is not a DUIS 5.4 DCC alert code", m.DCCAlertCode)
	}
	if m.Alert == nil {
		return invalidf(p+"DCCAlert", "no alert")
	}
	return m.Alert.validate(fmt.Sprintf("%sDCCAlert/%s/", p, m.Alert.element()))
}

func (m *DCCAlertMessage) encode(w *writer) {
	w.start("sr:DCCAlertMessage")
	w.text("sr:DCCAlertCode", string(m.DCCAlertCode))
	w.start("sr:DCCAlert")
	m.Alert.encode(w)
	w.end("sr:DCCAlert")
	w.end("sr:DCCAlertMessage")
}

func decodeDCCAlertMessage(r *reader) (*DCCAlertMessage, error) {
	if _, err := r.open(NSRequest, "DCCAlertMessage"); err != nil {
		return nil, err
	}
	m := &DCCAlertMessage{}
	code, err := r.checked(NSRequest, "DCCAlertCode", func(s string) error {
		if !DCCAlertCode(s).Valid() {
			return fmt.Errorf("%q is not a DUIS 5.4 DCC alert code", truncate(s))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.DCCAlertCode = DCCAlertCode(code)
	if _, err := r.open(NSRequest, "DCCAlert"); err != nil {
		return nil, err
	}
	se, err := r.peek()
	if err != nil {
		return nil, err
	}
	if se == nil {
		return nil, r.fail("empty DCCAlert")
	}
	if se.Name.Space == NSRequest {
		m.Alert = newDCCAlert(se.Name.Local)
	}
	if m.Alert == nil {
		return nil, r.fail("unsupported DCC alert %s", describe(se.Name))
	}
	if err := m.Alert.decode(r); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil { // DCCAlert
		return nil, err
	}
	if err := r.close(); err != nil { // DCCAlertMessage
		return nil, err
	}
	return m, nil
}
