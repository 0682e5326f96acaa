package duis

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

var (
	user   = eui.MustParse("90-B3-D5-1F-30-01-00-00")
	device = eui.MustParse("00-DB-12-34-56-78-90-A0")
	cosEUI = eui.MustParse("90-B3-D5-1F-30-00-00-04")
	at     = time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC)
)

func TestDecodeResponseVectors(t *testing.T) {
	t.Run("ok/readfw-response", func(t *testing.T) {
		doc := testkit.Vector(t, "duis/readfw-response.xml")
		resp, err := DecodeResponse(doc)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := ParseRequestID("90-B3-D5-1F-30-01-00-00:88-73-84-57-00-2F-96-1E:1660751141087")
		rid, _ := ParseRequestID("88-73-84-57-00-2F-96-1E:90-B3-D5-1F-30-01-00-00:1660751141087")
		payload, _ := base64.StdEncoding.DecodeString("3QAAAAAAAFURAAAAAN8JAgAAAYKse1oHCIhzhFcAL5YeCJCz1R8wAAACABIAWZCz1R8wAQAAAAABgqx7WN8R2iB7WgcAAAEJBAwjAAABAQAAnbt9CWxcgwworYef")
		want := &Response{
			SchemaVersion:   "5.1",
			Header:          ResponseHeader{RequestID: &id, ResponseID: &rid, ResponseCode: ResponseSuccess, ResponseDateTime: time.Date(2022, 8, 17, 15, 45, 42, 790e6, time.UTC)},
			ResponseMessage: &ResponseMessage{ServiceReference: "11.2", ServiceReferenceVariant: "11.2", GBCSPayload: payload},
			Signed:          true,
		}
		if diff := cmp.Diff(want, resp, cmpOpts...); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// Re-encoding a real DCC response gives DCC Boxed's own bytes up
		// to the root's declarations and the signature: same shape.
		resp.SchemaVersion = SchemaVersion
		out, err := resp.Encode()
		if err != nil {
			t.Fatal(err)
		}
		_, wantBody, ok1 := bytes.Cut(reSignature.ReplaceAll(doc, nil), []byte("<sr:Header>"))
		_, gotBody, ok2 := bytes.Cut(out, []byte("<sr:Header>"))
		if !ok1 || !ok2 || !bytes.Equal(gotBody, wantBody) {
			t.Errorf("re-encoded body differs:\n got %s\nwant %s", gotBody, wantBody)
		}
	})
	t.Run("ok/unsigned", func(t *testing.T) {
		resp, err := DecodeResponse(testkit.Vector(t, "duis/readfw-response-no-signature.xml"))
		if err != nil || resp.Signed {
			t.Fatalf("DecodeResponse = %+v, %v", resp, err)
		}
	})
	for name, tc := range map[string]struct{ file, want string }{
		"fail/inventory":    {"read-inventory-response-5.4.xml", "unsupported ResponseMessage content {http://www.dccinterface.co.uk/ServiceUserGateway}DSPInventory"},
		"fail/invalid":      {"readfw-response-invalid.xml", `ServiceReference: "11.2.11.2" is not a service reference`},
		"fail/xxe":          {"duis-xxe.xml", "DTDs"},
		"fail/request-root": {templates[0], "found element {http://www.dccinterface.co.uk/ServiceUserGateway}Request where Response was expected"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := DecodeResponse(testkit.Vector(t, "duis/"+tc.file))
			var pe *ParseError
			if !errors.As(err, &pe) || resp != nil {
				t.Fatalf("DecodeResponse = %v, %v; want *ParseError", resp, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// ackShape is an E65 acknowledgement in the shape of DCC Boxed's
// acknowledgement-error.xml (duis-parser test resources; values ours):
// header without ResponseID, a ResponseMessage with no payload.
const ackShape = `<?xml version='1.0' encoding='UTF-8'?>
<sr:Response xmlns:ns3="http://www.w3.org/2000/09/xmldsig#"
  xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert"
  xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4">
  <sr:Header>
    <sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:7</sr:RequestID>
    <sr:ResponseCode>E65</sr:ResponseCode>
    <sr:ResponseDateTime>2030-01-02T03:04:05.678Z</sr:ResponseDateTime>
  </sr:Header>
  <sr:Body>
    <sr:ResponseMessage>
      <sr:ServiceReference>6.23</sr:ServiceReference>
      <sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant>
    </sr:ResponseMessage>
  </sr:Body>
</sr:Response>`

func TestAcknowledgement(t *testing.T) {
	ack := NewAcknowledgement(testID, "E65", at)
	doc, err := ack.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = `<?xml version="1.0" encoding="UTF-8"?>` +
		`<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert" schemaVersion="5.4">` +
		`<sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:7</sr:RequestID><sr:ResponseCode>E65</sr:ResponseCode><sr:ResponseDateTime>2030-01-02T03:04:05.678Z</sr:ResponseDateTime></sr:Header>` +
		`<sr:Body><sr:ResponseMessage><sr:ServiceReference>6.23</sr:ServiceReference><sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant></sr:ResponseMessage></sr:Body></sr:Response>`
	if string(doc) != want {
		t.Errorf("Encode:\n got %s\nwant %s", doc, want)
	}
	dcc, err := DecodeResponse([]byte(ackShape))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dcc, ack, cmpOpts...); diff != "" {
		t.Errorf("our acknowledgement differs from DCC Boxed's shape (-dcc +ours):\n%s", diff)
	}
	if ok := NewAcknowledgement(testID, ResponseAcknowledged, at); ok.Header.ResponseCode != "I99" || ok.Validate() != nil {
		t.Errorf("I99 acknowledgement: %+v %v", ok.Header, ok.Validate())
	}
}

// sampleAlerts are one of each alert shape we emit, with the body each
// must produce.
func sampleAlerts() []struct {
	name  string
	code  DCCAlertCode
	alert DCCAlert
	body  string
} {
	serial, _ := new(big.Int).SetString("27572613927499351639968579586655397031", 10) // a real 16-octet SMKI serial
	other := RequestID{Originator: cosEUI, Target: user, Counter: 42}
	rid := testID.String()
	return []struct {
		name  string
		code  DCCAlertCode
		alert DCCAlert
		body  string
	}{
		{"quarantine/user", "AD1", &QuarantinedRequest{Breach: UserThresholdBreach, RequestID: testID, QuarantineEventRef: 12345678901234567890},
			`<sr:QuarantinedRequest><sr:ADUserThresholdBreach><sr:RequestID>` + rid + `</sr:RequestID><sr:QuarantineEventRef>12345678901234567890</sr:QuarantineEventRef></sr:ADUserThresholdBreach></sr:QuarantinedRequest>`},
		{"quarantine/dcc", "AD1", &QuarantinedRequest{Breach: DCCThresholdBreach, RequestID: testID, QuarantineEventRef: 0},
			`<sr:ADDCCThresholdBreach><sr:RequestID>` + rid + `</sr:RequestID><sr:QuarantineEventRef>0</sr:QuarantineEventRef></sr:ADDCCThresholdBreach>`},
		{"quarantine/attribute", "AD1", &QuarantinedRequest{Breach: AttributeLimitsBreach, RequestID: testID, QuarantineEventRef: 1},
			`<sr:ADAttributeLimitsBreach>`},
		{"cos/success", "N42", &ChangeOfSupplier{ServiceRequestID: testID},
			`<sr:ChangeOfSupplier><sr:ChangeOfSupplierServiceRequestID>` + rid + `</sr:ChangeOfSupplierServiceRequestID></sr:ChangeOfSupplier>`},
		{"cos/error", "N42", &ChangeOfSupplier{ServiceRequestID: testID, ECoSErrorCode: "E01"},
			`<sr:ChangeOfSupplierServiceRequestID>` + rid + `</sr:ChangeOfSupplierServiceRequestID><sr:ECoSErrorCode>E01</sr:ECoSErrorCode></sr:ChangeOfSupplier>`},
		{"ecos/full", "N60", &ECoSAlert{AlertID: other, RequestID: &testID, ECoSAlertCode: "X01", DeviceID: device, AdditionalInformation: "counter 6001 < floor & \"retry\""},
			`<sr:ECoSAlert><sr:AlertID>90-B3-D5-1F-30-00-00-04:90-B3-D5-1F-30-01-00-00:42</sr:AlertID><sr:RequestID>` + rid + `</sr:RequestID><sr:ECoSAlertCode>X01</sr:ECoSAlertCode><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:AdditionalInformation>counter 6001 &lt; floor &amp; &#34;retry&#34;</sr:AdditionalInformation></sr:ECoSAlert>`},
		{"ecos/minimal", "N60", &ECoSAlert{AlertID: other, ECoSAlertCode: "X02", DeviceID: device},
			`<sr:ECoSAlert><sr:AlertID>90-B3-D5-1F-30-00-00-04:90-B3-D5-1F-30-01-00-00:42</sr:AlertID><sr:ECoSAlertCode>X02</sr:ECoSAlertCode><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID></sr:ECoSAlert>`},
		{"certificate/serial", "N61", &CoSCertificateAlert{DeviceID: device, CertificateSerialNumber: serial},
			`<sr:CoSCertificateAlert><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:CertificateSerialNumber>27572613927499351639968579586655397031</sr:CertificateSerialNumber></sr:CoSCertificateAlert>`},
		{"certificate/bare", "N61", &CoSCertificateAlert{DeviceID: device},
			`<sr:CoSCertificateAlert><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID></sr:CoSCertificateAlert>`},
	}
}

func TestDCCAlerts(t *testing.T) {
	for _, tc := range sampleAlerts() {
		t.Run(tc.name, func(t *testing.T) {
			resp := NewDCCAlert(tc.code, at, tc.alert)
			doc, err := resp.Encode()
			if err != nil {
				t.Fatal(err)
			}
			head := `<sr:Header><sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2030-01-02T03:04:05.678Z</sr:ResponseDateTime></sr:Header>` +
				`<sr:Body><sr:DCCAlertMessage><sr:DCCAlertCode>` + string(tc.code) + `</sr:DCCAlertCode><sr:DCCAlert>`
			if !bytes.Contains(doc, []byte(head)) || !bytes.Contains(doc, []byte(tc.body)) {
				t.Errorf("Encode:\n%s\nwant to contain\n%s\n%s", doc, head, tc.body)
			}
			got, err := DecodeResponse(doc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(resp, got, cmpOpts...); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResponseValidate(t *testing.T) {
	ack := func() *Response { return NewAcknowledgement(testID, ResponseAcknowledged, at) }
	alert := func(a DCCAlert) func() *Response { return func() *Response { return NewDCCAlert("AD1", at, a) } }
	cases := map[string]struct {
		make func() *Response
		edit func(*Response)
		want string
	}{
		"fail/code":            {ack, func(r *Response) { r.Header.ResponseCode = "E9999" }, `Response/Header/ResponseCode: "E9999" is not a DUIS 5.4 response code`},
		"fail/no-time":         {ack, func(r *Response) { r.Header.ResponseDateTime = time.Time{} }, "ResponseDateTime: time is not set"},
		"fail/no-body":         {ack, func(r *Response) { r.ResponseMessage = nil }, "Response/Body: want exactly one"},
		"fail/two-bodies":      {ack, func(r *Response) { r.DCCAlertMessage = &DCCAlertMessage{} }, "Response/Body: want exactly one"},
		"fail/service-ref":     {ack, func(r *Response) { r.ResponseMessage.ServiceReference = "6" }, "ResponseMessage/ServiceReference"},
		"fail/empty-payload":   {ack, func(r *Response) { r.ResponseMessage.GBCSPayload = []byte{} }, "GBCSPayload: empty"},
		"fail/schema-version":  {ack, func(r *Response) { r.SchemaVersion = "" }, "schemaVersion"},
		"fail/alert-code":      {alert(&ChangeOfSupplier{}), func(r *Response) { r.DCCAlertMessage.DCCAlertCode = "N32" }, `DCCAlertCode: "N32" is not`},
		"fail/no-alert":        {alert(nil), func(*Response) {}, "DCCAlert: no alert"},
		"fail/breach":          {alert(&QuarantinedRequest{Breach: "ADOtherBreach"}), func(*Response) {}, "DCCAlert/QuarantinedRequest: breach: \"ADOtherBreach\" is not one of"},
		"fail/ecos-error-code": {alert(&ChangeOfSupplier{ECoSErrorCode: "E1"}), func(*Response) {}, "ChangeOfSupplier/ECoSErrorCode: length 2, want 3"},
		"fail/ecos-alert-code": {alert(&ECoSAlert{}), func(*Response) {}, "ECoSAlert/ECoSAlertCode: empty"},
		"fail/additional-info": {alert(&ECoSAlert{ECoSAlertCode: "X", AdditionalInformation: "text "}), func(*Response) {}, "AdditionalInformation: leading or trailing"},
		"fail/serial-negative": {alert(&CoSCertificateAlert{CertificateSerialNumber: big.NewInt(-1)}), func(*Response) {}, "CertificateSerialNumber: negative"},
		"fail/serial-huge":     {alert(&CoSCertificateAlert{CertificateSerialNumber: new(big.Int).Lsh(big.NewInt(1), 300)}), func(*Response) {}, "longer than 64 digits"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := tc.make()
			tc.edit(r)
			doc, err := r.Encode()
			checkValueError(t, doc, err, tc.want)
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrip(t, genResponse.Draw(t, "resp"), DecodeResponse, "DecodeResponse")
	})
}

// goodAlert is a DCC alert document for the malformed-input table.
func goodAlert(t *testing.T) string {
	doc, err := NewDCCAlert("N60", at, &ECoSAlert{AlertID: testID, ECoSAlertCode: "X01", DeviceID: device}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

func TestDecodeResponseMalformed(t *testing.T) {
	good := goodAlert(t)
	cases := map[string]struct{ from, to, want string }{
		"fail/doctype":            {`<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>`, "DTD"},
		"fail/entity":             {`>X01<`, `>&a;<`, "syntax"},
		"fail/code":               {`>I0<`, `>I1<`, `Response/Header/ResponseCode: "I1" is not a DUIS 5.4 response code`},
		"fail/no-time":            {`<sr:ResponseDateTime>2030-01-02T03:04:05.678Z</sr:ResponseDateTime>`, ``, "missing element ResponseDateTime"},
		"fail/zoneless-time":      {`05.678Z<`, `05.678<`, "ResponseDateTime: \"2030-01-02T03:04:05.678\" is not an xs:dateTime with a time zone"},
		"fail/order":              {`<sr:ResponseCode>I0</sr:ResponseCode>`, `<sr:ResponseCode>I0</sr:ResponseCode><sr:RequestID>` + testID.String() + `</sr:RequestID>`, "found element {http://www.dccinterface.co.uk/ServiceUserGateway}RequestID where ResponseDateTime was expected"},
		"fail/attribute":          {`<sr:ECoSAlertCode>`, `<sr:ECoSAlertCode xml:lang="en">`, "ECoSAlertCode: unexpected attribute"},
		"fail/xsi-type":           {` schemaVersion=`, ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="sr:Request" schemaVersion=`, "unexpected attribute {http://www.w3.org/2001/XMLSchema-instance}type"},
		"fail/alert-code":         {`>N60<`, `>N32<`, `DCCAlertCode: "N32" is not a DUIS 5.4 DCC alert code`},
		"fail/throttled":          {`</sr:DCCAlertCode>`, `</sr:DCCAlertCode><sr:ThrottledAlertCount>1</sr:ThrottledAlertCount>`, "ThrottledAlertCount where DCCAlert was expected"},
		"fail/other-alert":        {`<sr:ECoSAlert>`, `<sr:PowerOutageEvent/><sr:ECoSAlert>`, "unsupported DCC alert {http://www.dccinterface.co.uk/ServiceUserGateway}PowerOutageEvent"},
		"fail/two-alerts":         {`</sr:ECoSAlert>`, `</sr:ECoSAlert><sr:ECoSAlert/>`, "DCCAlert: unexpected element"},
		"fail/bad-device":         {`>00-DB-12-34-56-78-90-A0<`, `>00DB1234567890A0<`, "ECoSAlert/DeviceID"},
		"fail/empty-code":         {`>X01<`, `><`, "ECoSAlertCode: empty"},
		"fail/device-alert":       {`<sr:DCCAlertMessage>`, `<sr:DeviceAlertMessage/><sr:DCCAlertMessage>`, "unsupported response body {http://www.dccinterface.co.uk/ServiceUserGateway}DeviceAlertMessage"},
		"fail/trailing":           {`</sr:Response>`, `</sr:Response><x/>`, "after the root"},
		"fail/wrong-ns":           {`<sr:ECoSAlertCode>X01</sr:ECoSAlertCode>`, `<ra:ECoSAlertCode>X01</ra:ECoSAlertCode>`, "found element {http://www.dccinterface.co.uk/ResponseAndAlert}ECoSAlertCode where ECoSAlertCode was expected"},
		"fail/signature-not-last": {`</sr:Body>`, `</sr:Body><ds:Signature/><ds:Signature/>`, "Response: unexpected element"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, tc.from) {
				t.Fatalf("test bug: %q not in document", tc.from)
			}
			doc := strings.Replace(good, tc.from, tc.to, 1)
			resp, err := DecodeResponse([]byte(doc))
			var pe *ParseError
			if !errors.As(err, &pe) || resp != nil {
				t.Fatalf("DecodeResponse = %+v, %v; want *ParseError", resp, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestDecodeAlertMalformed covers the alert bodies' own fields.
func TestDecodeAlertMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alert DCCAlert
		from  string
		to    string
		want  string
	}{
		{"fail/breach", &QuarantinedRequest{Breach: UserThresholdBreach, RequestID: testID}, `ADUserThresholdBreach>`, `ADOtherBreach>`, "found element {http://www.dccinterface.co.uk/ServiceUserGateway}ADOtherBreach where one of ADUserThresholdBreach"},
		{"fail/no-breach", &QuarantinedRequest{Breach: UserThresholdBreach, RequestID: testID}, `<sr:ADUserThresholdBreach><sr:RequestID>` + testID.String() + `</sr:RequestID><sr:QuarantineEventRef>0</sr:QuarantineEventRef></sr:ADUserThresholdBreach>`, ``, "QuarantinedRequest: missing element"},
		{"fail/event-ref-negative", &QuarantinedRequest{Breach: UserThresholdBreach, RequestID: testID}, `>0</sr:Q`, `>-1</sr:Q`, `QuarantineEventRef: "-1" is not an integer`},
		{"fail/event-ref-overflow", &QuarantinedRequest{Breach: UserThresholdBreach, RequestID: testID}, `>0</sr:Q`, `>18446744073709551616</sr:Q`, "QuarantineEventRef"},
		{"fail/device-cos", &ChangeOfSupplier{ServiceRequestID: testID}, `<sr:ChangeOfSupplierServiceRequestID>`, `<sr:DeviceChangeOfSupplier/><sr:ChangeOfSupplierServiceRequestID>`, "DeviceChangeOfSupplier is not supported"},
		{"fail/error-code-length", &ChangeOfSupplier{ServiceRequestID: testID, ECoSErrorCode: "E01"}, `>E01<`, `>E012<`, "ECoSErrorCode: length 4, want 3"},
		{"fail/serial-text", &CoSCertificateAlert{DeviceID: device, CertificateSerialNumber: big.NewInt(5)}, `>5<`, `>0x5<`, "CertificateSerialNumber"},
		{"fail/serial-negative", &CoSCertificateAlert{DeviceID: device, CertificateSerialNumber: big.NewInt(5)}, `>5<`, `>-5<`, "CertificateSerialNumber"},
		{"fail/alert-id", &ECoSAlert{AlertID: testID, ECoSAlertCode: "X", DeviceID: device}, `<sr:AlertID>90-B3`, `<sr:AlertID>xx-B3`, "ECoSAlert/AlertID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good, err := NewDCCAlert("AD1", at, tc.alert).Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(good, []byte(tc.from)) {
				t.Fatalf("test bug: %q not in %s", tc.from, good)
			}
			resp, err := DecodeResponse(bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1))
			if err == nil || resp != nil {
				t.Fatalf("decoded a malformed alert: %+v", resp)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestEmittedResponsesValidate runs every response and alert shape we
// write through the DUIS 5.4 XSD.
func TestEmittedResponsesValidate(t *testing.T) {
	s := loadSchemas(t)
	docs := map[string][]byte{}
	add := func(name string, r *Response) {
		t.Helper()
		doc, err := r.Encode()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = doc
	}
	add("acknowledgement I99", NewAcknowledgement(testID, ResponseAcknowledged, at))
	add("acknowledgement E062301", NewAcknowledgement(testID, "E062301", at))
	noID := NewAcknowledgement(testID, "E2", at)
	noID.Header.RequestID = nil
	add("acknowledgement without RequestID", noID)
	payload := testkit.HexVector(t, "gbcs/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX")
	add("6.23 service response", NewServiceResponse(testID, RequestID{Originator: device, Target: cosEUI, Counter: 6001}, ResponseSuccess, at, payload))
	for _, tc := range sampleAlerts() {
		add("alert "+tc.name, NewDCCAlert(tc.code, at, tc.alert))
	}
	for _, v := range futureDatedAlertVectors {
		alert := testkit.HexVector(t, "gbcs/"+v.file)
		add("future-dated alert "+v.code.String(), NewFutureDatedDeviceAlert(testID, RequestID{Originator: device, Target: user, Counter: 6002}, at, v.code, alert))
	}
	for i := range randomXSDSamples {
		add(fmt.Sprintf("random response %d", i), genResponse.Example(i))
	}
	mustValidate(t, s.duis, docs)
}
