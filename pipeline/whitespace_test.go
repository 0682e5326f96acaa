package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/store"
)

// TestSubmitIndentedAfterSigning: the intake accepts what the DCC's
// validator accepts, a request signed compact and indented on its way,
// and decides on the digested bytes; white space added inside a value is
// a change to the request and is refused.
func TestSubmitIndentedAfterSigning(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	signed := string(f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 500}))
	indented := strings.ReplaceAll(signed, "><", ">\n    <")

	ack, err := f.p.Submit(ctx, []byte(indented))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Accepted || ack.Code != duis.ResponseAcknowledged {
		t.Fatalf("indented request: %s accepted=%v: %v", ack.Code, ack.Accepted, ack.Err)
	}
	req, err := f.db.Request(ctx, store.RequestID(*ack.RequestID))
	if err != nil || req.ID.Counter != 500 {
		t.Fatalf("stored %+v %v", req, err)
	}

	other := string(f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(2), Counter: 501}))
	padded := strings.Replace(strings.ReplaceAll(other, "><", ">\n  <"), "<sr:ImportMPxN>", "<sr:ImportMPxN> ", 1)
	ack, err = f.p.Submit(ctx, []byte(padded))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Accepted {
		t.Fatal("a request with a space added inside a value was accepted")
	}
}
