package duis

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// hostileValue is one textual change to the minimal request.
type hostileValue struct {
	name, from, to string
}

// Values padded or spelt in ways time.Parse, strconv and strings.TrimSpace
// take but the DUIS XSD does not: Unicode spaces that are not XML white
// space, white space inside an xs:string, and xs:dateTime forms Go is lax
// about. Each must be refused by the decoder, and xmllint must agree that
// the XSD refuses it.
var xsdRefuses = []hostileValue{
	{"mpxn/trailing-nbsp", `>1312345678333<`, ">1312345678333\u00a0<"},
	{"mpxn/leading-space", `>1312345678333<`, "> 1312345678333<"},
	{"mpxn/trailing-tab", `>1312345678333<`, ">1312345678333\t<"},
	{"mpxn/trailing-ideographic-space", `>1312345678333<`, ">1312345678333\u3000<"},
	{"service-reference/trailing-space", `<sr:ServiceReference>6.23<`, "<sr:ServiceReference>6.23 <"},
	{"service-reference-variant/leading-newline", `<sr:ServiceReferenceVariant>6.23<`, "<sr:ServiceReferenceVariant>\n6.23<"},
	{"command-variant/nbsp", `<sr:CommandVariant>1<`, "<sr:CommandVariant>1\u00a0<"},
	{"command-variant/nel", `<sr:CommandVariant>1<`, "<sr:CommandVariant>\u00851<"},
	{"command-variant/line-separator", `<sr:CommandVariant>1<`, "<sr:CommandVariant>1\u2028<"},
	{"request-id/ideographic-space", `90-A0:7<`, "90-A0:7\u3000<"},
	{"request-id/figure-space", `<sr:RequestID>90`, "<sr:RequestID>\u200790"},
	{"boolean/nbsp", `>false<`, ">false\u00a0<"},
	{"floor/paragraph-separator", `<sr:SupplierFloorSeqNumber>5<`, "<sr:SupplierFloorSeqNumber>5\u2029<"},
	{"between-elements/nbsp", `</sr:CommandVariant><sr:ServiceReference>`, "</sr:CommandVariant>\u00a0<sr:ServiceReference>"},
	{"between-elements/em-space", `<sr:Body><sr:UpdateSecurityCredentialsCoS>`, "<sr:Body>\u2003<sr:UpdateSecurityCredentialsCoS>"},
	{"schema-version/nbsp", ` schemaVersion="5.4"`, " schemaVersion=\"5.4\u00a0\""},
	{"datetime/nbsp", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>2030-01-02T00:00:00Z\u00a0</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
	{"datetime/comma-fraction", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>2030-01-02T00:00:00,5Z</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
	{"datetime/one-digit-hour", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>2030-01-02T0:00:00Z</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
	{"datetime/offset-beyond-14h", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>2030-01-02T00:00:00+14:30</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
	{"datetime/offset-15h", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>2030-01-02T00:00:00-15:00</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
	{"datetime/year-0000", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>0000-01-02T00:00:00Z</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
}

// Values libxml2 accepts though the XSD does not, which we refuse.
var libxml2Accepts = []hostileValue{
	{"base64/nbsp", `<sr:DigitalSigningCertificate>MAA=`, "<sr:DigitalSigningCertificate>MA\u00a0A="},
}

// Values the XSD accepts and so must we: XML white space around collapsed
// types, and a time zone offset.
var xsdAccepts = []hostileValue{
	{"command-variant/xml-space", `<sr:CommandVariant>1<`, "<sr:CommandVariant>\t\r\n 1 \n<"},
	{"datetime/offset", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime>2030-01-02T01:00:00+01:00</sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
	{"mpxn/inner-nbsp", `>1312345678333<`, ">131234567833\u00a0<"}, // 13 characters: authorisation finds it invalid
}

// Values the XSD accepts (xs:dateTime's whiteSpace is collapse) and so do
// we, though libxml2 refuses them.
var libxml2Refuses = []hostileValue{
	{"datetime/padded", `<sr:SupplierFloorSeqNumber>`, "<sr:ExecutionDateTime> 2030-01-02T00:00:00.00Z </sr:ExecutionDateTime><sr:SupplierFloorSeqNumber>"},
}

func (h hostileValue) apply(t *testing.T) []byte {
	t.Helper()
	if !strings.Contains(good, h.from) {
		t.Fatalf("test bug: %q not in document", h.from)
	}
	return []byte(strings.Replace(good, h.from, h.to, 1))
}

// TestHostileValues: the decoder refuses what the XSD refuses and takes
// what it takes; xmllint checks the table itself.
func TestHostileValues(t *testing.T) {
	docs := map[string][]byte{}
	for _, h := range xsdRefuses {
		doc := h.apply(t)
		docs[h.name] = doc
		t.Run("refuse/"+h.name, func(t *testing.T) {
			if req, err := DecodeRequest(doc); err == nil {
				t.Fatalf("decoded %+v", req.Header)
			}
		})
	}
	for _, h := range libxml2Accepts {
		t.Run("refuse/"+h.name, func(t *testing.T) {
			if req, err := DecodeRequest(h.apply(t)); err == nil {
				t.Fatalf("decoded %+v", req.Header)
			}
		})
	}
	for _, h := range xsdAccepts {
		doc := h.apply(t)
		docs[h.name] = doc
		t.Run("accept/"+h.name, func(t *testing.T) {
			if _, err := DecodeRequest(doc); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, h := range libxml2Refuses {
		t.Run("accept/"+h.name, func(t *testing.T) {
			if _, err := DecodeRequest(h.apply(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
	s := loadSchemas(t)
	res := xsdResults(t, s.duis, docs)
	for _, h := range xsdRefuses {
		if res[h.name] == nil {
			t.Errorf("test bug: the XSD accepts %s", h.name)
		}
	}
	for _, h := range xsdAccepts {
		if res[h.name] != nil {
			t.Errorf("test bug: the XSD refuses %s: %v", h.name, res[h.name])
		}
	}
}

// TestDateTimeRange: an xs:dateTime the XSD accepts but no GBCS time can
// hold is refused with ErrDateTimeRange, so intake can name it.
func TestDateTimeRange(t *testing.T) {
	for _, s := range []string{"10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"} {
		_, err := parseDateTime(s)
		if !errors.Is(err, ErrDateTimeRange) {
			t.Errorf("parseDateTime(%q): %v, want ErrDateTimeRange", s, err)
		}
	}
	for _, s := range []string{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59+01:00", "3000-12-31T00:00:00.00Z"} {
		if _, err := parseDateTime(s); err != nil {
			t.Errorf("parseDateTime(%q): %v", s, err)
		}
	}
}

// FuzzParseDateTime: whatever parseDateTime accepts has the XSD's lexical
// form (no comma, no one-digit field, no Unicode space, a zone within
// ±14:00) and reads back unchanged from its RFC 3339 form.
func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2030-01-02T00:00:00.00Z", "3000-12-31T00:00:00Z", "9999-12-31T23:59:59-01:00", "2030-01-02T00:00:00,5Z", "2030-01-02T0:00:00Z", "2030-01-02T01:00:00+14:00", "10000-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDateTime(s)
		if err != nil {
			return
		}
		if !dateTimeLexical.MatchString(s) || strings.ContainsAny(s, ",\u00a0") {
			t.Fatalf("accepted %q, not an xs:dateTime", s)
		}
		out := got.Format(time.RFC3339Nano)
		back, err := parseDateTime(out)
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q → %v → %q → %v, %v", s, got, out, back, err)
		}
	})
}
