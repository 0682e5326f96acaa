package duis

import "fmt"

// DecodeResponse decodes the DUIS responses this package writes: an
// acknowledgement, a ResponseMessage with a GBCSPayload, a
// FutureDatedDeviceAlertMessage or neither, or one of the DCC alerts in
// DCCAlert. It is as strict as DecodeRequest (schema
// order, no DTDs, no unknown elements or attributes) and refuses, naming
// them, the bodies it does not model (device alerts, DSP inventories, …).
// A closing ds:Signature is skipped and reported in Signed, not verified.
func DecodeResponse(doc []byte) (*Response, error) {
	return decodeWith(doc, decodeResponse)
}

func decodeResponse(r *reader) (*Response, error) {
	resp := &Response{}
	var err error
	if resp.SchemaVersion, err = r.openRoot(NSRequest, "Response"); err != nil {
		return nil, err
	}
	if err := decodeResponseHeader(r, &resp.Header); err != nil {
		return nil, err
	}
	body, err := r.openBody()
	if err != nil {
		return nil, err
	}
	switch {
	case body.Name.Space == NSRequest && body.Name.Local == "ResponseMessage":
		if resp.ResponseMessage, err = decodeResponseMessage(r); err != nil {
			return nil, err
		}
	case body.Name.Space == NSRequest && body.Name.Local == "DCCAlertMessage":
		if resp.DCCAlertMessage, err = decodeDCCAlertMessage(r); err != nil {
			return nil, err
		}
	default:
		return nil, r.fail("unsupported response body %s", describe(body.Name))
	}
	if err := r.close(); err != nil { // Body
		return nil, err
	}
	if resp.Signed, err = r.signature(); err != nil {
		return nil, err
	}
	if err := r.close(); err != nil { // Response
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return resp, nil
}

func decodeResponseHeader(r *reader, h *ResponseHeader) error {
	if _, err := r.open(NSRequest, "Header"); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "RequestID", func() error {
		id, err := r.requestID(NSRequest, "RequestID")
		h.RequestID = &id
		return err
	}); err != nil {
		return err
	}
	if err := r.optional(NSRequest, "ResponseID", func() error {
		id, err := r.requestID(NSRequest, "ResponseID")
		h.ResponseID = &id
		return err
	}); err != nil {
		return err
	}
	code, err := r.checked(NSRequest, "ResponseCode", func(s string) error {
		if !ResponseCode(s).Valid() {
			return fmt.Errorf("%q is not a DUIS 5.4 response code", truncate(s))
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.ResponseCode = ResponseCode(code)
	if h.ResponseDateTime, err = r.dateTime(NSRequest, "ResponseDateTime"); err != nil {
		return err
	}
	return r.close()
}

func decodeResponseMessage(r *reader) (*ResponseMessage, error) {
	if _, err := r.open(NSRequest, "ResponseMessage"); err != nil {
		return nil, err
	}
	m := &ResponseMessage{}
	var err error
	if m.ServiceReference, err = r.checked(NSRequest, "ServiceReference", checkServiceReference); err != nil {
		return nil, err
	}
	if m.ServiceReferenceVariant, err = r.checked(NSRequest, "ServiceReferenceVariant", checkServiceReference); err != nil {
		return nil, err
	}
	se, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case se == nil:
	case se.Name.Space == NSRequest && se.Name.Local == "GBCSPayload":
		if m.GBCSPayload, err = r.base64(NSRequest, "GBCSPayload"); err != nil {
			return nil, err
		}
	case se.Name.Space == NSRequest && se.Name.Local == "FutureDatedDeviceAlertMessage":
		if m.FutureDatedDeviceAlert, err = decodeFutureDatedDeviceAlert(r); err != nil {
			return nil, err
		}
	default:
		return nil, r.fail("unsupported ResponseMessage content %s", describe(se.Name))
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return m, nil
}
