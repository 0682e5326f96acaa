package duis

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// Fuzz targets for the response decoders (C7). Properties: never panic; on
// error the value is nil; whatever decodes also encodes, decodes back to
// the same value, and re-encodes to the same bytes, since these decoders
// only accept what the encoders can write.

func responseSeeds(f *testing.F) {
	for _, r := range []*Response{
		NewAcknowledgement(testID, ResponseAcknowledged, at),
		NewServiceResponse(testID, RequestID{Originator: device, Target: cosEUI, Counter: 6001}, ResponseSuccess, at, []byte{0xDD, 0, 1}),
		NewFutureDatedDeviceAlert(testID, RequestID{Originator: device, Target: cosEUI, Counter: 6002}, at, FutureDatedFailure, []byte{0xDF, 0, 1}),
	} {
		doc, err := r.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	for _, a := range sampleAlerts() {
		doc, err := NewDCCAlert(a.code, at, a.alert).Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Add([]byte(ackShape))
	if testkit.OptionalVectorsDir() != "" {
		for _, n := range []string{"readfw-response.xml", "read-inventory-response-5.4.xml", "readfw-response-invalid.xml", "duis-xxe.xml"} {
			f.Add(testkit.Vector(f, "duis/"+n))
		}
	}
}

func FuzzDecodeResponse(f *testing.F) {
	responseSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		resp, err := DecodeResponse(doc)
		if err != nil {
			if resp != nil {
				t.Fatal("non-nil response with error")
			}
			return
		}
		out, err := resp.Encode()
		if err != nil {
			t.Fatalf("Encode of a decoded response: %v", err)
		}
		again, err := DecodeResponse(out)
		if err != nil {
			t.Fatalf("re-decoding: %v\n%s", err, out)
		}
		resp.Signed = false
		if diff := cmp.Diff(resp, again, cmpOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		if out2, err := again.Encode(); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not a fixed point (%v):\n%s\n%s", err, out, out2)
		}
	})
}
