package duis

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

var templates = []string{
	"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
	"CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML",
	"CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_REQUEST_DUIS.XML",
}

var (
	reComment   = regexp.MustCompile(`(?s)<!--.*?-->`)
	reSignature = regexp.MustCompile(`(?s)<ds:Signature.*</ds:Signature>`)
	reIndent    = regexp.MustCompile(`>\s+<`)
)

// unindented is an RTDS template as our encoder would write it: no
// comments, no signature, no white space between elements, and its
// date-times' hundredths ("2030-01-02T00:00:00.00Z") in DCC's
// milliseconds, the one shape every document we emit uses.
func unindented(doc []byte) []byte {
	s := reComment.ReplaceAllString(string(doc), "")
	s = reSignature.ReplaceAllString(s, "")
	s = reIndent.ReplaceAllString(s, "><")
	s = reHundredths.ReplaceAllString(s, "${1}0Z<")
	return []byte(strings.TrimSpace(s))
}

var reHundredths = regexp.MustCompile(`(DateTime>[0-9T:.-]*\.[0-9]{2})Z<`)

// TestEncodeReproducesTemplates: decoding an RTDS 6.23 template and encoding
// it again gives the template byte for byte, once its indentation and
// placeholder signature are taken away. So our root, prefixes, element
// order, base64 and date-time forms are the RTDS ones.
func TestEncodeReproducesTemplates(t *testing.T) {
	for _, name := range templates {
		t.Run(name, func(t *testing.T) {
			doc := testkit.Vector(t, "duis/"+name)
			req, err := DecodeRequest(doc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := req.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := unindented(doc); !bytes.Equal(got, want) {
				t.Errorf("Encode differs from the template:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestNewUpdateSecurityCredentialsCoS builds the three templates from their
// parts, the way `ecos duis new-6.23` will.
func TestNewUpdateSecurityCredentialsCoS(t *testing.T) {
	future := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	for i, exec := range []*time.Time{nil, &future, &Cancellation} {
		name := templates[i]
		t.Run(name, func(t *testing.T) {
			doc := testkit.Vector(t, "duis/"+name)
			tmpl, err := DecodeRequest(doc)
			if err != nil {
				t.Fatal(err)
			}
			b := tmpl.UpdateSecurityCredentialsCoS
			body := &UpdateSecurityCredentialsCoS{
				ExecutionDateTime:                     exec,
				SupplierFloorSeqNumber:                0,
				SupplierPrepaymentTopUpFloorSeqNumber: ptr(uint64(0)),
				DigitalSigningCertificate:             b.DigitalSigningCertificate,
				KeyAgreementCertificate:               b.KeyAgreementCertificate,
				KeyAgreementTopUpCertificate:          b.KeyAgreementTopUpCertificate,
				CertificationPath:                     b.CertificationPath,
				ApplyTimeBasedCPVChecks:               true,
				ImportMPxN:                            "1312345678333",
			}
			id := RequestID{Originator: eui.MustParse("90-B3-D5-1F-30-01-00-00"), Target: eui.MustParse("00-DB-12-34-56-78-90-A0"), Counter: uint64(1006 + i)}
			req, err := NewUpdateSecurityCredentialsCoS(id, body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := req.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := unindented(doc); !bytes.Equal(got, want) {
				t.Errorf("built request differs from the template:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func validCoSBody() *UpdateSecurityCredentialsCoS {
	return &UpdateSecurityCredentialsCoS{
		DigitalSigningCertificate:    []byte{0x30, 0x00},
		KeyAgreementCertificate:      []byte{0x30, 0x01},
		KeyAgreementTopUpCertificate: []byte{0x30, 0x02},
		CertificationPath:            [][]byte{{0x30, 0x03}},
		ImportMPxN:                   "1312345678333",
	}
}

var testID = RequestID{Originator: eui.MustParse("90-B3-D5-1F-30-01-00-00"), Target: eui.MustParse("00-DB-12-34-56-78-90-A0"), Counter: 7}

func TestRequestValidate(t *testing.T) {
	cases := map[string]struct {
		edit func(*Request)
		want string // substring of the error, naming the element
	}{
		"fail/no-ds":             {func(r *Request) { r.UpdateSecurityCredentialsCoS.DigitalSigningCertificate = nil }, "DigitalSigningCertificate: required"},
		"fail/top-up-without-ka": {func(r *Request) { r.UpdateSecurityCredentialsCoS.KeyAgreementCertificate = nil }, "KeyAgreementTopUpCertificate: given without a KeyAgreementCertificate"},
		"fail/empty-ka":          {func(r *Request) { r.UpdateSecurityCredentialsCoS.KeyAgreementCertificate = []byte{} }, "KeyAgreementCertificate: empty"},
		"fail/no-path":           {func(r *Request) { r.UpdateSecurityCredentialsCoS.CertificationPath = nil }, "CertificationPathCertificates: at least one"},
		"fail/four-path-certs":   {func(r *Request) { r.UpdateSecurityCredentialsCoS.CertificationPath = [][]byte{{1}, {2}, {3}, {4}} }, "4 certificates, at most 3"},
		"fail/empty-path-cert":   {func(r *Request) { r.UpdateSecurityCredentialsCoS.CertificationPath = [][]byte{{1}, nil} }, "Certificate[2]: empty"},
		"fail/mpxn-too-long":     {func(r *Request) { r.UpdateSecurityCredentialsCoS.ImportMPxN = "13123456783330" }, "ImportMPxN: length 14, want 1..13"},
		"fail/mpxn-empty":        {func(r *Request) { r.UpdateSecurityCredentialsCoS.ImportMPxN = "" }, "ImportMPxN: length 0"},
		"fail/mpxn-space":        {func(r *Request) { r.UpdateSecurityCredentialsCoS.ImportMPxN = " 131" }, "ImportMPxN: leading or trailing white space"},
		"fail/mpxn-control":      {func(r *Request) { r.UpdateSecurityCredentialsCoS.ImportMPxN = "13\x0012" }, "ImportMPxN: character U+0000"},
		"fail/mpxn-bad-utf8":     {func(r *Request) { r.UpdateSecurityCredentialsCoS.ImportMPxN = "13\xff" }, "ImportMPxN: not valid UTF-8"},
		"fail/floor-too-big":     {func(r *Request) { r.UpdateSecurityCredentialsCoS.SupplierFloorSeqNumber = 1 << 63 }, "SupplierFloorSeqNumber: 9223372036854775808 is above"},
		"fail/top-up-floor-too-big": {func(r *Request) {
			r.UpdateSecurityCredentialsCoS.SupplierPrepaymentTopUpFloorSeqNumber = ptr(uint64(1<<64 - 1))
		}, "SupplierPrepaymentTopUpFloorSeqNumber"},
		"fail/year-10000": {func(r *Request) {
			r.UpdateSecurityCredentialsCoS.ExecutionDateTime = ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
		}, "ExecutionDateTime: year 10000"},
		"fail/zero-time":         {func(r *Request) { r.UpdateSecurityCredentialsCoS.ExecutionDateTime = &time.Time{} }, "ExecutionDateTime: time is not set"},
		"fail/schema-version":    {func(r *Request) { r.SchemaVersion = "1e3" }, "schemaVersion"},
		"fail/command-variant":   {func(r *Request) { r.Header.CommandVariant = 9 }, "CommandVariant: 9 is not"},
		"fail/service-reference": {func(r *Request) { r.Header.ServiceReference = "6.15" }, "needs 6.23"},
		"fail/bad-variant":       {func(r *Request) { r.Header.ServiceReferenceVariant = "six" }, "ServiceReferenceVariant"},
		"fail/no-body":           {func(r *Request) { r.UpdateSecurityCredentialsCoS = nil }, "Request/Body: no UpdateSecurityCredentialsCoS"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := NewUpdateSecurityCredentialsCoS(testID, validCoSBody())
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(req)
			doc, err := req.Encode()
			checkValueError(t, doc, err, tc.want)
			if err2 := req.Validate(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Validate = %v, Encode = %v", err2, err)
			}
		})
	}
	t.Run("fail/constructor", func(t *testing.T) {
		body := validCoSBody()
		body.DigitalSigningCertificate = nil
		if req, err := NewUpdateSecurityCredentialsCoS(testID, body); err == nil || req != nil {
			t.Fatalf("NewUpdateSecurityCredentialsCoS = %v, %v", req, err)
		}
	})
	t.Run("ok/non-ascii-mpxn-counts-characters", func(t *testing.T) {
		body := validCoSBody()
		body.ImportMPxN = strings.Repeat("é", 13) // 26 bytes, 13 characters
		if _, err := NewUpdateSecurityCredentialsCoS(testID, body); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRequestRoundTrip is the property Encode promises: DecodeRequest gives
// back the value encoded, and the bytes are a fixed point.
func TestRequestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrip(t, genRequest.Draw(t, "req"), DecodeRequest, "DecodeRequest")
	})
}

// TestFormatDateTime: one shape for every date-time, DCC's (UTC,
// milliseconds, Z), whatever the zone and precision of the value.
func TestFormatDateTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), "2030-01-02T00:00:00.000Z"},
		{Cancellation, "3000-12-31T00:00:00.000Z"},
		{time.Date(2022, 8, 17, 15, 45, 42, 790e6, time.UTC), "2022-08-17T15:45:42.790Z"},
		{time.Date(2022, 8, 17, 15, 45, 42, 5e8, time.UTC), "2022-08-17T15:45:42.500Z"},
		{time.Date(2022, 8, 17, 15, 45, 42, 999999999, time.UTC), "2022-08-17T15:45:42.999Z"},
		{time.Date(2022, 8, 17, 15, 45, 42, 1, time.UTC), "2022-08-17T15:45:42.000Z"},
		{time.Date(2022, 8, 17, 16, 45, 42, 0, time.FixedZone("BST", 3600)), "2022-08-17T15:45:42.000Z"},
	} {
		got, err := formatDateTime(tc.t)
		if err != nil || got != tc.want {
			t.Errorf("formatDateTime(%v) = %q, %v; want %q", tc.t, got, err, tc.want)
		}
		back, err := parseDateTime(got)
		if err != nil || !back.Equal(tc.t.Truncate(time.Millisecond)) {
			t.Errorf("parseDateTime(%q) = %v, %v", got, back, err)
		}
	}
	for _, s := range []string{"0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"} {
		if _, err := parseDateTime(s); err == nil {
			t.Errorf("parseDateTime(%q) accepted", s)
		}
	}
}

// TestEmittedRequestsValidate runs every request shape we write through the
// DUIS 5.4 XSD: the templates re-encoded, the built ones, and random ones.
func TestEmittedRequestsValidate(t *testing.T) {
	s := loadSchemas(t)
	docs := map[string][]byte{}
	for _, name := range append(templates, "GENERATED_6.23_IMMEDIATE_REQUEST_signed-by-dccboxed-signing-tool.xml") {
		req, err := DecodeRequest(testkit.Vector(t, "duis/"+name))
		if err != nil {
			t.Fatal(err)
		}
		if docs["re-encoded "+name], err = req.Encode(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range randomXSDSamples {
		doc, err := genRequest.Example(i).Encode()
		if err != nil {
			t.Fatal(err)
		}
		docs[fmt.Sprintf("random request %d", i)] = doc
	}
	mustValidate(t, s.duis, docs)
}

// randomXSDSamples is how many generated documents of each kind go through
// xmllint: enough to reach every optional element and enumeration many
// times, while one xmllint run stays well under a second.
const randomXSDSamples = 60
