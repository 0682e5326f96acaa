package duis

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// encodable is every document type this package writes.
type encodable interface {
	Encode() ([]byte, error)
}

// checkRoundTrip is the property every encoder promises: decode gives back
// the value encoded, and re-encoding gives back the same bytes.
func checkRoundTrip[T encodable](t *rapid.T, v T, decode func([]byte) (T, error), name string) {
	doc, err := v.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := decode(doc)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, doc)
	}
	if diff := cmp.Diff(v, got, cmpOpts...); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", diff, doc)
	}
	again, err := got.Encode()
	if err != nil || !bytes.Equal(again, doc) {
		t.Fatalf("re-encoding changed the bytes (%v):\n%s\n%s", err, doc, again)
	}
}

// checkValueError asserts Encode refused a value with a *ValueError that
// mentions want, and wrote nothing.
func checkValueError(t *testing.T, doc []byte, err error, want string) {
	t.Helper()
	var ve *ValueError
	if !errors.As(err, &ve) || doc != nil {
		t.Fatalf("Encode = %q, %v; want *ValueError", doc, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not mention %q", err, want)
	}
}
