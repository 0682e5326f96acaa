package duis

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/ecos-cos/ecos/eui"
)

// immediateOutcome is the RTDS 6.23 IMMEDIATE response rendered as MMC: the
// device answers the CoS party's counter 6001; the supplier cells (DS, KA,
// KA top-up) move from supplier 1 to supplier 2. Hashes are placeholders.
func immediateOutcome() *GBCSResponse {
	old, replacement := eui.MustParse("90-B3-D5-1F-30-01-00-00"), eui.MustParse("90-B3-D5-1F-30-03-00-00")
	var outcomes []ReplacementOutcome
	for i, ct := range []string{CertificateDigitalSigning, CertificateKeyAgreement, CertificateKeyAgreementTopUp} {
		outcomes = append(outcomes, ReplacementOutcome{
			StatusCode: &StatusASN1{ResponseCode: 0, ASN1Status: StatusSuccess}, CertificateType: ct, RemotePartyRole: RoleSupplier,
			ExistingRemotePartyID: old, NewRemotePartyID: replacement,
			ExistingCertificateHash: bytes.Repeat([]byte{byte(i)}, 20), NewCertificateHash: bytes.Repeat([]byte{byte(0x10 + i)}, 20),
		})
	}
	g := NewCoSOutcome(GBCSResponseHeader{
		BusinessOriginatorID:       device,
		BusinessTargetID:           cosEUI,
		OriginatorCounter:          6001,
		GBCSHexadecimalMessageCode: 0x0107,
		Timestamp:                  &at,
	}, &ExecutionOutcome{
		AuthorisingRemotePartyOriginatorCounter: ptr(uint64(6001)),
		CredentialsReplacementMode:              ModeSupplierByTransCoS,
		RemotePartySeqNumberChange:              &RemotePartySeqNumberChange{RemotePartyRole: RoleSupplier, RemotePartyFloorSeqNumber: ptr(uint64(0)), RemotePartyPrepaymentTopUpFloorSeqNumber: ptr(uint64(0))},
		ReplacementOutcomes:                     outcomes,
	})
	g.UpdateSecurityCredentialsCoSRsp.MessageSuccess = ptr(true)
	return g
}

func TestGBCSResponseEncode(t *testing.T) {
	doc, err := immediateOutcome().Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><ra:GBCSResponse xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert" schemaVersion="5.4"><ra:Header>`,
		`<ra:BusinessOriginatorID>00-DB-12-34-56-78-90-A0</ra:BusinessOriginatorID><ra:BusinessTargetID>90-B3-D5-1F-30-00-00-04</ra:BusinessTargetID><ra:OriginatorCounter>6001</ra:OriginatorCounter>`,
		`<ra:GBCSHexadecimalMessageCode>0107</ra:GBCSHexadecimalMessageCode><ra:ServiceReference>6.23</ra:ServiceReference><ra:ServiceReferenceVariant>6.23</ra:ServiceReferenceVariant><ra:Timestamp>2030-01-02T03:04:05.678Z</ra:Timestamp></ra:Header>`,
		`<ra:Body><ra:ResponseMessage><ra:SMETSData><ra:UpdateSecurityCredentialsCoSRsp MessageSuccess="true"><ra:ExecutionOutcome><ra:AuthorisingRemotePartyOriginatorCounter>6001</ra:AuthorisingRemotePartyOriginatorCounter><ra:CredentialsReplacementMode>SupplierByTransCoS</ra:CredentialsReplacementMode>`,
		`<ra:RemotePartySeqNumberChange><ra:RemotePartyRole>Supplier</ra:RemotePartyRole><ra:RemotePartyFloorSeqNumber>0</ra:RemotePartyFloorSeqNumber><ra:RemotePartyPrepaymentTopUpFloorSeqNumber>0</ra:RemotePartyPrepaymentTopUpFloorSeqNumber></ra:RemotePartySeqNumberChange>`,
		`<ra:ReplacementOutcome><ra:StatusCode ResponseCode="0"><ra:ASN1Status>success</ra:ASN1Status></ra:StatusCode><ra:CertificateType>DigitalSigning</ra:CertificateType><ra:RemotePartyRole>Supplier</ra:RemotePartyRole><ra:ExistingRemotePartyID>90-B3-D5-1F-30-01-00-00</ra:ExistingRemotePartyID><ra:NewRemotePartyID>90-B3-D5-1F-30-03-00-00</ra:NewRemotePartyID><ra:ExistingCertificateHash>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</ra:ExistingCertificateHash>`,
		`</ra:ReplacementOutcome></ra:ExecutionOutcome></ra:UpdateSecurityCredentialsCoSRsp></ra:SMETSData></ra:ResponseMessage></ra:Body></ra:GBCSResponse>`,
	} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("Encode lacks\n%s\nin\n%s", want, doc)
		}
	}
	got, err := DecodeGBCSResponse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(immediateOutcome(), got, cmpOpts...); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	future, err := NewCoSOutcome(GBCSResponseHeader{BusinessOriginatorID: device, BusinessTargetID: cosEUI, OriginatorCounter: 6002}, nil).Encode()
	if err != nil || !bytes.Contains(future, []byte(`<ra:SMETSData><ra:UpdateSecurityCredentialsCoSRsp></ra:UpdateSecurityCredentialsCoSRsp></ra:SMETSData>`)) {
		t.Errorf("future-dated outcome: %v\n%s", err, future)
	}
}

func TestGBCSResponseValidate(t *testing.T) {
	cases := map[string]struct {
		edit func(*GBCSResponse)
		want string
	}{
		"fail/no-rsp": {func(g *GBCSResponse) { g.UpdateSecurityCredentialsCoSRsp = nil }, "SMETSData: no UpdateSecurityCredentialsCoSRsp"},
		"fail/mode": {func(g *GBCSResponse) {
			g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome.CredentialsReplacementMode = "SupplierByCoS"
		}, `CredentialsReplacementMode: "SupplierByCoS" is not one of`},
		"fail/status": {func(g *GBCSResponse) {
			g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome.ReplacementOutcomes[1].StatusCode.ASN1Status = "trustAnchorNotFound"
		}, `ReplacementOutcome[2]/StatusCode/ASN1Status: "trustAnchorNotFound" is not one of`},
		"fail/cert-type": {func(g *GBCSResponse) {
			g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome.ReplacementOutcomes[0].CertificateType = "DS"
		}, "ReplacementOutcome[1]/CertificateType"},
		"fail/role": {func(g *GBCSResponse) {
			g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome.ReplacementOutcomes[2].RemotePartyRole = "supplier"
		}, "ReplacementOutcome[3]/RemotePartyRole"},
		"fail/change-role": {func(g *GBCSResponse) {
			g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome.RemotePartySeqNumberChange.RemotePartyRole = "X"
		}, "RemotePartySeqNumberChange/RemotePartyRole"},
		"fail/four-outcomes": {func(g *GBCSResponse) {
			o := g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome
			o.ReplacementOutcomes = append(o.ReplacementOutcomes, ReplacementOutcome{})
		}, "4 outcomes, at most 3"},
		"fail/empty-hash": {func(g *GBCSResponse) {
			g.UpdateSecurityCredentialsCoSRsp.ExecutionOutcome.ReplacementOutcomes[0].NewCertificateHash = []byte{}
		}, "NewCertificateHash: empty"},
		"fail/service-ref":    {func(g *GBCSResponse) { g.Header.ServiceReference = "6.23.1.1" }, "Header/ServiceReference"},
		"fail/timestamp-zero": {func(g *GBCSResponse) { g.Header.Timestamp = &time.Time{} }, "Header/Timestamp: time is not set"},
		"fail/schema-version": {func(g *GBCSResponse) { g.SchemaVersion = "v5" }, "GBCSResponse@schemaVersion"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := immediateOutcome()
			tc.edit(g)
			doc, err := g.Encode()
			checkValueError(t, doc, err, tc.want)
		})
	}
}

func TestGBCSResponseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrip(t, genGBCSResponse.Draw(t, "g"), DecodeGBCSResponse, "DecodeGBCSResponse")
	})
}

func TestDecodeGBCSResponseMalformed(t *testing.T) {
	good, err := immediateOutcome().Encode()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ from, to, want string }{
		"fail/doctype":         {`<?xml version="1.0" encoding="UTF-8"?>`, `<!DOCTYPE x>`, "DTD"},
		"fail/duis-root":       {`<ra:GBCSResponse `, `<ra:Response `, "found element {http://www.dccinterface.co.uk/ResponseAndAlert}Response where GBCSResponse was expected"},
		"fail/counter":         {`>6001</ra:OriginatorCounter>`, `>-1</ra:OriginatorCounter>`, `Header/OriginatorCounter: "-1" is not an integer`},
		"fail/counter-big":     {`>6001</ra:OriginatorCounter>`, `>18446744073709551616</ra:OriginatorCounter>`, "OriginatorCounter"},
		"fail/message-code":    {`>0107<`, `>107<`, `GBCSHexadecimalMessageCode: "107" is not a two-octet hexBinary`},
		"fail/timestamp-attr":  {`<ra:Timestamp>`, `<ra:Timestamp ClockStatus="reliable">`, "Timestamp: unexpected attribute ClockStatus"},
		"fail/gbcs-data":       {`<ra:SMETSData>`, `<ra:GBCSData format="plain" sequence="0" name="x" type="gbcs">AA==</ra:GBCSData><ra:SMETSData>`, "found element {http://www.dccinterface.co.uk/ResponseAndAlert}GBCSData where SMETSData was expected"},
		"fail/other-rsp":       {`<ra:UpdateSecurityCredentialsCoSRsp `, `<ra:ReadNetworkDataRsp/><ra:UpdateSecurityCredentialsCoSRsp `, "unsupported SMETSData content {http://www.dccinterface.co.uk/ResponseAndAlert}ReadNetworkDataRsp"},
		"fail/message-success": {`MessageSuccess="true"`, `MessageSuccess="yes"`, `MessageSuccess "yes" is not an xs:boolean`},
		"fail/rsp-attr":        {`MessageSuccess="true"`, `Other="1"`, "UpdateSecurityCredentialsCoSRsp: unexpected attribute Other"},
		"fail/mode":            {`>SupplierByTransCoS<`, `>supplierByTransCoS<`, `CredentialsReplacementMode: "supplierByTransCoS" is not one of`},
		"fail/status":          {`>success<`, `>trustAnchorNotFound<`, `ReplacementOutcome/StatusCode/ASN1Status: "trustAnchorNotFound" is not one of`},
		"fail/order":           {`<ra:CertificateType>DigitalSigning</ra:CertificateType><ra:RemotePartyRole>Supplier</ra:RemotePartyRole>`, `<ra:RemotePartyRole>Supplier</ra:RemotePartyRole><ra:CertificateType>DigitalSigning</ra:CertificateType>`, "ReplacementOutcome: unexpected element {http://www.dccinterface.co.uk/ResponseAndAlert}CertificateType"},
		"fail/four-outcomes":   {`</ra:ExecutionOutcome>`, `<ra:ReplacementOutcome/></ra:ExecutionOutcome>`, "more than 3 ReplacementOutcome"},
		"fail/status-no-code":  {`<ra:StatusCode ResponseCode="0">`, `<ra:StatusCode>`, "StatusCode: missing ResponseCode attribute"},
		"fail/status-code":     {`<ra:StatusCode ResponseCode="0">`, `<ra:StatusCode ResponseCode="zero">`, `StatusCode: ResponseCode "zero" is not an integer`},
		"fail/hash":            {`>AAAAAAAAAAAAAAAAAAAAAAAAAAA=<`, `>AAAA*<`, "ExistingCertificateHash: invalid base64"},
		"fail/debug-info":      {`</ra:SMETSData>`, `</ra:SMETSData><ra:DebugInfo/>`, "ResponseMessage: unexpected element {http://www.dccinterface.co.uk/ResponseAndAlert}DebugInfo"},
		"fail/trailing":        {`</ra:GBCSResponse>`, `</ra:GBCSResponse>x`, "after the root"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(tc.from)) {
				t.Fatalf("test bug: %q not in document", tc.from)
			}
			g, err := DecodeGBCSResponse(bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1))
			var pe *ParseError
			if !errors.As(err, &pe) || g != nil {
				t.Fatalf("DecodeGBCSResponse = %+v, %v; want *ParseError", g, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestEmittedGBCSResponsesValidate runs the MMC documents we write through
// the MMC 5.4 XSD.
func TestEmittedGBCSResponsesValidate(t *testing.T) {
	s := loadSchemas(t)
	docs := map[string][]byte{}
	add := func(name string, g *GBCSResponse) {
		t.Helper()
		doc, err := g.Encode()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = doc
	}
	add("6.23 immediate outcome", immediateOutcome())
	add("6.23 future-dated acceptance", NewCoSOutcome(GBCSResponseHeader{BusinessOriginatorID: device, BusinessTargetID: cosEUI, OriginatorCounter: 6002}, nil))
	for i := range randomXSDSamples {
		add(fmt.Sprintf("random GBCSResponse %d", i), genGBCSResponse.Example(i))
	}
	mustValidate(t, s.mmc, docs)
}
