package duis

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

func TestDecodeVectors(t *testing.T) {
	cases := []struct {
		file      string
		counter   uint64
		exec      *time.Time
		cancel    bool
		signed    bool
		dsSubject string
	}{
		{file: "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML", counter: 1006, signed: true},
		{file: "CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML", counter: 1007, exec: ptr(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)), signed: true},
		{file: "CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_REQUEST_DUIS.XML", counter: 1008, exec: &Cancellation, cancel: true, signed: true},
		{file: "GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml", counter: 1006, signed: true},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			req, err := DecodeRequest(testkit.Vector(t, "duis/"+tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := RequestID{Originator: eui.MustParse("90-B3-D5-1F-30-01-00-00"), Target: eui.MustParse("00-DB-12-34-56-78-90-A0"), Counter: tc.counter}
			if req.Header.RequestID != want {
				t.Errorf("RequestID = %v, want %v", req.Header.RequestID, want)
			}
			if req.SchemaVersion != "5.4" || req.Header.CommandVariant != 1 || req.Header.ServiceReference != "6.23" || req.Header.ServiceReferenceVariant != "6.23" || req.Signed != tc.signed {
				t.Errorf("header = %+v schema %q signed %v", req.Header, req.SchemaVersion, req.Signed)
			}
			u := req.UpdateSecurityCredentialsCoS
			if u == nil {
				t.Fatal("no 6.23 body")
			}
			if (u.ExecutionDateTime == nil) != (tc.exec == nil) || (tc.exec != nil && !u.ExecutionDateTime.Equal(*tc.exec)) {
				t.Errorf("ExecutionDateTime = %v, want %v", u.ExecutionDateTime, tc.exec)
			}
			if isCancel := u.ExecutionDateTime != nil && u.ExecutionDateTime.Equal(Cancellation); isCancel != tc.cancel {
				t.Errorf("cancellation date = %v", isCancel)
			}
			if u.SupplierFloorSeqNumber != 0 || u.SupplierPrepaymentTopUpFloorSeqNumber == nil || *u.SupplierPrepaymentTopUpFloorSeqNumber != 0 {
				t.Errorf("floors = %d %v", u.SupplierFloorSeqNumber, u.SupplierPrepaymentTopUpFloorSeqNumber)
			}
			for name, c := range map[string][]byte{"DS": u.DigitalSigningCertificate, "KA": u.KeyAgreementCertificate, "KA top-up": u.KeyAgreementTopUpCertificate} {
				if len(c) < 300 || c[0] != 0x30 {
					t.Errorf("%s certificate looks wrong: %d bytes", name, len(c))
				}
			}
			if len(u.CertificationPath) != 1 || !u.ApplyTimeBasedCPVChecks || u.ImportMPxN != "1312345678333" {
				t.Errorf("path %d, cpv %v, mpxn %q", len(u.CertificationPath), u.ApplyTimeBasedCPVChecks, u.ImportMPxN)
			}
		})
	}
}

func TestDecodeRefusesXXE(t *testing.T) {
	_, err := DecodeRequest(testkit.Vector(t, "duis/duis-xxe.xml"))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ParseError", err)
	}
}

const good = `<?xml version="1.0" encoding="UTF-8"?>
<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4"><sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:7</sr:RequestID><sr:CommandVariant>1</sr:CommandVariant><sr:ServiceReference>6.23</sr:ServiceReference><sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant></sr:Header><sr:Body><sr:UpdateSecurityCredentialsCoS><sr:SupplierFloorSeqNumber>5</sr:SupplierFloorSeqNumber><sr:SupplierReplacementCertificates><sr:DigitalSigningCertificate>MAA=</sr:DigitalSigningCertificate></sr:SupplierReplacementCertificates><sr:CertificationPathCertificates><sr:Certificate>MAA=</sr:Certificate></sr:CertificationPathCertificates><sr:ApplyTimeBasedCPVChecks>false</sr:ApplyTimeBasedCPVChecks><sr:ImportMPxN>1312345678333</sr:ImportMPxN></sr:UpdateSecurityCredentialsCoS></sr:Body></sr:Request>`

func TestDecodeMinimal(t *testing.T) {
	req, err := DecodeRequest([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	u := req.UpdateSecurityCredentialsCoS
	if u.SupplierFloorSeqNumber != 5 || u.SupplierPrepaymentTopUpFloorSeqNumber != nil || u.KeyAgreementCertificate != nil || u.ApplyTimeBasedCPVChecks || req.Signed {
		t.Errorf("decoded %+v", u)
	}
}

func TestDecodeMalformed(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"fail/doctype":          {`<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>`, "DTD"},
		"fail/entity":           {`<sr:ImportMPxN>1312345678333`, `<sr:ImportMPxN>&a;`, "syntax"},
		"fail/bad-request-id":   {`:00-DB-12-34-56-78-90-A0:7`, `:00DB1234567890A0:7`, "RequestID"},
		"fail/counter-overflow": {`90-A0:7<`, `90-A0:18446744073709551616<`, "counter"},
		"fail/leading-zero":     {`90-A0:7<`, `90-A0:07<`, "counter"},
		"fail/order":            {`<sr:CommandVariant>1</sr:CommandVariant><sr:ServiceReference>6.23</sr:ServiceReference>`, `<sr:ServiceReference>6.23</sr:ServiceReference><sr:CommandVariant>1</sr:CommandVariant>`, "CommandVariant was expected"},
		"fail/unknown-element":  {`<sr:ApplyTimeBasedCPVChecks>`, `<sr:Extra>1</sr:Extra><sr:ApplyTimeBasedCPVChecks>`, "Extra"},
		"fail/bad-boolean":      {`>false<`, `>no<`, "xs:boolean"},
		"fail/floor-too-big":    {`>5<`, `>9223372036854775808<`, "SupplierFloorSeqNumber"},
		"fail/bad-base64":       {`<sr:DigitalSigningCertificate>MAA=`, `<sr:DigitalSigningCertificate>M@A=`, "base64"},
		"fail/no-path":          {`<sr:Certificate>MAA=</sr:Certificate>`, ``, "no Certificate"},
		"fail/long-mpxn":        {`1312345678333<`, `13123456783330<`, "length 14"},
		"fail/wrong-namespace":  {`xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"`, `xmlns:sr="urn:other"`, "Request was expected"},
		"fail/no-schema":        {` schemaVersion="5.4"`, ``, "schemaVersion"},
		"fail/zoneless-time":    {`<sr:SupplierFloorSeqNumber>`, `<sr:ExecutionDateTime>2030-01-02T00:00:00</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>`, "time zone"},
		"fail/trailing":         {`</sr:Request>`, `</sr:Request><x/>`, "after the root"},
		"fail/other-body":       {`<sr:UpdateSecurityCredentialsCoS>`, `<sr:ReadInventory/><sr:UpdateSecurityCredentialsCoS>`, "unsupported request body"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, tc.from) {
				t.Fatalf("test bug: %q not in document", tc.from)
			}
			doc := strings.Replace(good, tc.from, tc.to, 1)
			req, err := DecodeRequest([]byte(doc))
			if err == nil || req != nil {
				t.Fatalf("decoded a malformed document: %+v", req)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestDecodeDepthAndSize(t *testing.T) {
	deep := strings.Replace(good, `</sr:Body>`, strings.Repeat("<a>", 100)+strings.Repeat("</a>", 100)+`</sr:Body>`, 1)
	if _, err := DecodeRequest([]byte(deep)); err == nil {
		t.Error("deep document accepted")
	}
	big := bytes.Repeat([]byte(" "), MaxDocumentBytes+1)
	if _, err := DecodeRequest(big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized document: %v", err)
	}
}

func TestRequestIDRoundTrip(t *testing.T) {
	s := "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551615"
	id, err := ParseRequestID(s)
	if err != nil || id.String() != s {
		t.Fatalf("ParseRequestID = %v, %v", id, err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(good))
	if dir := testkit.OptionalVectorsDir(); dir != "" {
		for _, n := range []string{"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML", "GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml", "duis-xxe.xml"} {
			f.Add(testkit.Vector(f, "duis/"+n))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		req, err := DecodeRequest(doc)
		if err != nil {
			if req != nil {
				t.Fatal("non-nil request with error")
			}
			return
		}
		if req.UpdateSecurityCredentialsCoS == nil {
			t.Fatal("nil body without error")
		}
		// Whatever decodes and passes Validate encodes, and decodes back to
		// the same value (Signed aside: Encode never signs).
		if req.Validate() != nil {
			return
		}
		out, err := req.Encode()
		if err != nil {
			t.Fatalf("Encode of a valid decoded request: %v", err)
		}
		again, err := DecodeRequest(out)
		if err != nil {
			t.Fatalf("re-decoding: %v\n%s", err, out)
		}
		req.Signed = false
		if diff := cmp.Diff(req, again, cmpOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzParseRequestID(f *testing.F) {
	f.Add("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseRequestID(s)
		if err != nil {
			return
		}
		again, err := ParseRequestID(id.String())
		if err != nil || again != id {
			t.Fatalf("round trip %v -> %v %v", id, again, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
