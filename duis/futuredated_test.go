package duis

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// futureDatedAlertVectors are the RTDS GBCS future-dated alerts (0x00CB).
var futureDatedAlertVectors = []struct {
	code FutureDatedAlertCode
	file string
}{
	{FutureDatedSuccess, "CS02bSupplierByTransCoS_6.23_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"},
	{FutureDatedFailure, "CS02bSupplierBySupplier_6.15.1_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX"},
}

// TestFutureDatedDeviceAlert: a device's future-dated alert travels as
// ResponseMessage/FutureDatedDeviceAlertMessage with the four elements
// of the DUIS 5.4 schema, in its order, and decodes back.
func TestFutureDatedDeviceAlert(t *testing.T) {
	for _, v := range futureDatedAlertVectors {
		t.Run(v.code.String(), func(t *testing.T) {
			alert := testkit.HexVector(t, "gbcs/"+v.file)
			rid := RequestID{Originator: device, Target: user, Counter: 6002}
			r := NewFutureDatedDeviceAlert(testID, rid, at, v.code, alert)
			doc, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			want := `<sr:Body><sr:ResponseMessage><sr:ServiceReference>6.23</sr:ServiceReference><sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant>` +
				`<sr:FutureDatedDeviceAlertMessage><sr:FutureDatedAlertCode>` + v.code.String() + `</sr:FutureDatedAlertCode>` +
				`<sr:GBCSPayload>` + base64.StdEncoding.EncodeToString(alert) + `</sr:GBCSPayload>` +
				`<sr:InstructionNumber>1</sr:InstructionNumber><sr:TotalCommandInstructions>1</sr:TotalCommandInstructions>` +
				`</sr:FutureDatedDeviceAlertMessage></sr:ResponseMessage></sr:Body>`
			if !bytes.Contains(doc, []byte(want)) {
				t.Errorf("body is not the schema's FutureDatedDeviceAlertMessage:\n%s\nwant %s", doc, want)
			}
			if !bytes.Contains(doc, []byte("<sr:ResponseID>"+rid.String()+"</sr:ResponseID><sr:ResponseCode>I0</sr:ResponseCode>")) {
				t.Errorf("header: %s", doc)
			}
			back, err := DecodeResponse(doc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, back, cmpOpts...); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFutureDatedDeviceAlertRefused(t *testing.T) {
	good := func() *Response {
		return NewFutureDatedDeviceAlert(testID, RequestID{Originator: device, Target: user, Counter: 1}, at, FutureDatedSuccess, []byte{0xDF, 9})
	}
	for name, tc := range map[string]struct {
		edit func(*Response)
		want string
	}{
		"code":        {func(r *Response) { r.ResponseMessage.FutureDatedDeviceAlert.AlertCode = 0x8F70 }, "FutureDatedAlertCode: 8F70 is not 8F66 or 8F67"},
		"no-payload":  {func(r *Response) { r.ResponseMessage.FutureDatedDeviceAlert.GBCSPayload = nil }, "FutureDatedDeviceAlertMessage/GBCSPayload: empty"},
		"both":        {func(r *Response) { r.ResponseMessage.GBCSPayload = []byte{1} }, "at most one of GBCSPayload and FutureDatedDeviceAlertMessage"},
		"instruction": {func(r *Response) { r.ResponseMessage.FutureDatedDeviceAlert.InstructionNumber = 2 }, "InstructionNumber: 2 is not between 1 and TotalCommandInstructions 1"},
		"zero":        {func(r *Response) { r.ResponseMessage.FutureDatedDeviceAlert.InstructionNumber = 0 }, "InstructionNumber: 0 is not between"},
	} {
		t.Run("encode/"+name, func(t *testing.T) {
			r := good()
			tc.edit(r)
			if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode: %v, want %q", err, tc.want)
			}
		})
	}

	doc, err := good().Encode()
	if err != nil {
		t.Fatal(err)
	}
	lower, err := DecodeResponse(bytes.Replace(doc, []byte(">8F66<"), []byte(">8f66<"), 1))
	if err != nil || lower.ResponseMessage.FutureDatedDeviceAlert.AlertCode != FutureDatedSuccess {
		t.Errorf("8f66 is the same xs:hexBinary value as 8F66: %v", err)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"code":        {`>8F66<`, `>8F70<`, `FutureDatedAlertCode: "8F70" is not 8F66 or 8F67`},
		"code-sign":   {`>8F66<`, `>+8F66<`, `FutureDatedAlertCode: "+8F66" is not 8F66 or 8F67`},
		"short":       {`>1</sr:TotalCommandInstructions>`, `>65536</sr:TotalCommandInstructions>`, "TotalCommandInstructions: 65536 is not an integer in 0..65535"},
		"instruction": {`<sr:InstructionNumber>1<`, `<sr:InstructionNumber>0<`, "InstructionNumber: 0 is not between 1 and TotalCommandInstructions 1"},
		"order":       {`<sr:InstructionNumber>1</sr:InstructionNumber><sr:TotalCommandInstructions>1</sr:TotalCommandInstructions>`, `<sr:TotalCommandInstructions>1</sr:TotalCommandInstructions><sr:InstructionNumber>1</sr:InstructionNumber>`, "where InstructionNumber was expected"},
		"missing":     {`<sr:TotalCommandInstructions>1</sr:TotalCommandInstructions>`, ``, "missing element TotalCommandInstructions"},
		"empty":       {`<sr:GBCSPayload>3wk=</sr:GBCSPayload>`, `<sr:GBCSPayload></sr:GBCSPayload>`, "GBCSPayload: empty value"},
	} {
		t.Run("decode/"+name, func(t *testing.T) {
			bad := bytes.Replace(doc, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(bad, doc) {
				t.Fatalf("test bug: %q not in %s", tc.from, doc)
			}
			r, err := DecodeResponse(bad)
			if err == nil || r != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeResponse: %v, want %q", err, tc.want)
			}
		})
	}
}
