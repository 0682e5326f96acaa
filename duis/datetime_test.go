package duis

import (
	"regexp"
	"testing"
	"time"
)

// dccDateTime is the shape of every date-time in DCC's documents (the
// vectors' readfw-response.xml: "2022-08-17T15:45:42.790Z").
var dccDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`)

// anyDateTime finds everything in a document that starts like a date-time,
// so an element added later cannot escape the check.
var anyDateTime = regexp.MustCompile(`>([0-9]{4}-[0-9]{2}-[0-9]{2}T[^<]*)<`)

// TestDateTimeShape: every document type this package writes puts its
// date-times in DCC's one shape, whatever zone and precision the value
// had; and a request's ExecutionDateTime, whose every digit is the
// sender's meaning, is refused rather than cut when finer than that.
func TestDateTimeShape(t *testing.T) {
	bst := time.FixedZone("BST", 3600)
	odd := time.Date(2026, 12, 1, 11, 0, 0, 123456789, bst) // 10:00:00.123456789Z
	whole := time.Date(2030, 1, 2, 1, 0, 0, 0, bst)         // the RTDS template's instant
	rid := RequestID{Originator: device, Target: user, Counter: 9}

	responses := map[string]*Response{
		"acknowledgement":           NewAcknowledgement(testID, ResponseAcknowledged, odd),
		"service response":          NewServiceResponse(testID, rid, ResponseSuccess, odd, []byte{0xDD}),
		"future-dated device alert": NewFutureDatedDeviceAlert(testID, rid, odd, FutureDatedSuccess, []byte{0xDF}),
	}
	for _, a := range sampleAlerts() {
		responses["DCC alert "+a.name] = NewDCCAlert(a.code, odd, a.alert)
	}
	docs := map[string][]byte{}
	for name, r := range responses {
		doc, err := r.Encode()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = doc
	}
	for name, at := range map[string]time.Time{"future-dated": whole, "cancellation": Cancellation} {
		body := validCoSBody()
		body.ExecutionDateTime = &at
		req, err := NewUpdateSecurityCredentialsCoS(testID, body)
		if err != nil {
			t.Fatal(err)
		}
		if docs["request "+name], err = req.Encode(); err != nil {
			t.Fatalf("request %s: %v", name, err)
		}
	}

	want := map[string]string{"request future-dated": "2030-01-02T00:00:00.000Z", "request cancellation": "3000-12-31T00:00:00.000Z"}
	for name, doc := range docs {
		found := anyDateTime.FindAllSubmatch(doc, -1)
		if len(found) == 0 {
			t.Errorf("%s: no date-time found in %s", name, doc)
		}
		for _, m := range found {
			got := string(m[1])
			if !dccDateTime.MatchString(got) {
				t.Errorf("%s: date-time %q is not DCC's shape (2026-12-01T10:00:00.123Z)", name, got)
			}
			if w, ok := want[name]; ok && got != w {
				t.Errorf("%s: %q, want %q", name, got, w)
			} else if !ok && got != "2026-12-01T10:00:00.123Z" {
				t.Errorf("%s: %q, want 2026-12-01T10:00:00.123Z", name, got)
			}
		}
	}

	body := validCoSBody()
	body.ExecutionDateTime = &odd
	req, err := NewUpdateSecurityCredentialsCoS(testID, body)
	if err == nil {
		_, err = req.Encode()
	}
	checkValueError(t, nil, err, "ExecutionDateTime")
}
