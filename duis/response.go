package duis

import (
	"time"
)

// NSResponseAndAlert is the MMC schema's namespace. DUIS responses declare
// it on the root as DCC Boxed does, though sr: elements carry everything.
const NSResponseAndAlert = "http://www.dccinterface.co.uk/ResponseAndAlert"

// Response is a DUIS 5.4 sr:Response: the synchronous acknowledgement of a
// request, a service response carrying a device's GBCS payload, or a DCC
// alert. Exactly one of ResponseMessage and DCCAlertMessage is set. Device
// alerts and SMETS1 responses are not modelled: the ECoS party never sends
// them.
type Response struct {
	SchemaVersion   string
	Header          ResponseHeader
	ResponseMessage *ResponseMessage
	DCCAlertMessage *DCCAlertMessage
	// Signed reports whether a ds:Signature element closed the document.
	// Only decoding sets it; Encode writes unsigned documents.
	Signed bool
}

// ResponseHeader is the response header, in schema order.
type ResponseHeader struct {
	// RequestID echoes the request answered; nil when there is none (DCC
	// alerts, or a request too malformed to have one).
	RequestID *RequestID
	// ResponseID identifies a device-originated response in the same
	// originator:target:counter form, device first
	// ("88-73-84-57-00-2F-96-1E:90-B3-D5-1F-30-01-00-00:1660751141087").
	ResponseID       *RequestID
	ResponseCode     ResponseCode
	ResponseDateTime time.Time
}

// ResponseMessage is the sr:ResponseMessage body. Of the schema's payload
// choices the two a 6.23 needs are modelled: GBCSPayload, the device's
// response to the command, and FutureDatedDeviceAlertMessage, its alert
// when a future-dated command ran. An acknowledgement has neither.
type ResponseMessage struct {
	ServiceReference        string
	ServiceReferenceVariant string
	// GBCSPayload is the device's GBCS message; nil in an acknowledgement.
	GBCSPayload []byte
	// FutureDatedDeviceAlert is set instead of GBCSPayload for a
	// device's future-dated execution alert.
	FutureDatedDeviceAlert *FutureDatedDeviceAlert
}

// NewAcknowledgement is the synchronous reply to a 6.23 request: I99
// (ResponseAcknowledged) when it was accepted for processing, or the error
// code it was refused with. The shape is DCC Boxed's: RequestID,
// ResponseCode, ResponseDateTime and a ResponseMessage holding only the
// service reference. For a request whose ID could not be read, set
// Header.RequestID to nil.
func NewAcknowledgement(id RequestID, code ResponseCode, at time.Time) *Response {
	return &Response{
		SchemaVersion: SchemaVersion,
		Header:        ResponseHeader{RequestID: &id, ResponseCode: code, ResponseDateTime: at},
		ResponseMessage: &ResponseMessage{
			ServiceReference:        ServiceReferenceCoS,
			ServiceReferenceVariant: ServiceReferenceCoS,
		},
	}
}

// NewServiceResponse is the asynchronous 6.23 response carrying the
// device's GBCS response to the command: ResponseID is the device's
// (device:user:counter), code I0 for a device that answered.
func NewServiceResponse(id, responseID RequestID, code ResponseCode, at time.Time, gbcsPayload []byte) *Response {
	return &Response{
		SchemaVersion: SchemaVersion,
		Header:        ResponseHeader{RequestID: &id, ResponseID: &responseID, ResponseCode: code, ResponseDateTime: at},
		ResponseMessage: &ResponseMessage{
			ServiceReference:        ServiceReferenceCoS,
			ServiceReferenceVariant: ServiceReferenceCoS,
			GBCSPayload:             gbcsPayload,
		},
	}
}

// NewDCCAlert is a DCC alert with response code I0 and no IDs in the
// header: DUIS defines which IDs an alert carries and which DCCAlertCode
// goes with which alert, no public source does, so callers set
// Header.RequestID / ResponseID and pick the code.
func NewDCCAlert(code DCCAlertCode, at time.Time, alert DCCAlert) *Response {
	return &Response{
		SchemaVersion:   SchemaVersion,
		Header:          ResponseHeader{ResponseCode: ResponseSuccess, ResponseDateTime: at},
		DCCAlertMessage: &DCCAlertMessage{DCCAlertCode: code, Alert: alert},
	}
}

// Validate reports the first field Encode could not write as a valid,
// round-tripping DUIS 5.4 response, as a *ValueError naming the element.
func (r *Response) Validate() error {
	const root = "Response"
	if err := checkDecimal(r.SchemaVersion); err != nil {
		return invalidf(root+"@schemaVersion", "%v", err)
	}
	if !r.Header.ResponseCode.Valid() {
		return invalidf(root+"/Header/ResponseCode", "%q is not a DUIS 5.4 response code", r.Header.ResponseCode)
	}
	if err := checkDateTime(r.Header.ResponseDateTime); err != nil {
		return invalidf(root+"/Header/ResponseDateTime", "%v", err)
	}
	switch {
	case (r.ResponseMessage == nil) == (r.DCCAlertMessage == nil):
		return invalidf(root+"/Body", "want exactly one of ResponseMessage and DCCAlertMessage")
	case r.ResponseMessage != nil:
		return r.ResponseMessage.validate(root + "/Body/ResponseMessage/")
	default:
		return r.DCCAlertMessage.validate(root + "/Body/DCCAlertMessage/")
	}
}

func (m *ResponseMessage) validate(p string) error {
	if err := checkServiceReference(m.ServiceReference); err != nil {
		return invalidf(p+"ServiceReference", "%v", err)
	}
	if err := checkServiceReference(m.ServiceReferenceVariant); err != nil {
		return invalidf(p+"ServiceReferenceVariant", "%v", err)
	}
	if err := checkOptionalBytes(m.GBCSPayload); err != nil {
		return invalidf(p+"GBCSPayload", "%v", err)
	}
	if a := m.FutureDatedDeviceAlert; a != nil {
		if m.GBCSPayload != nil {
			return invalidf(p+"FutureDatedDeviceAlertMessage", "want at most one of GBCSPayload and FutureDatedDeviceAlertMessage")
		}
		return a.validate(p + "FutureDatedDeviceAlertMessage/")
	}
	return nil
}

// Encode writes the response as DUIS 5.4 XML in DCC Boxed's shape: root
// declaring xmlns:sr, xmlns:ds and xmlns:ra, sr: elements in schema order,
// no indentation, ResponseDateTime in UTC milliseconds
// ("2022-08-17T15:45:42.790Z", finer precision cut). Deterministic;
// unsigned (package xmldsig signs); DecodeResponse(Encode(r)) equals r
// but for Signed and the date-times' precision beyond the millisecond.
func (r *Response) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	w := newWriter()
	w.start("sr:Response",
		attr{"xmlns:sr", NSRequest},
		attr{"xmlns:ds", NSDSig},
		attr{"xmlns:ra", NSResponseAndAlert},
		attr{"schemaVersion", r.SchemaVersion})
	h := &r.Header
	w.start("sr:Header")
	if h.RequestID != nil {
		w.requestID("sr:RequestID", *h.RequestID)
	}
	if h.ResponseID != nil {
		w.requestID("sr:ResponseID", *h.ResponseID)
	}
	w.text("sr:ResponseCode", string(h.ResponseCode))
	w.dateTime("sr:ResponseDateTime", h.ResponseDateTime)
	w.end("sr:Header")
	w.start("sr:Body")
	if m := r.ResponseMessage; m != nil {
		w.start("sr:ResponseMessage")
		w.text("sr:ServiceReference", m.ServiceReference)
		w.text("sr:ServiceReferenceVariant", m.ServiceReferenceVariant)
		if m.GBCSPayload != nil {
			w.base64("sr:GBCSPayload", m.GBCSPayload)
		}
		if m.FutureDatedDeviceAlert != nil {
			m.FutureDatedDeviceAlert.encode(w)
		}
		w.end("sr:ResponseMessage")
	} else {
		r.DCCAlertMessage.encode(w)
	}
	w.end("sr:Body")
	w.end("sr:Response")
	return w.bytes()
}
