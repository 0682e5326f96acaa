package duis

import (
	"bytes"
	"encoding/xml"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// The enumerations this package copies by hand are compared with the
// schemas themselves, so a new schema release shows up as a test failure.

type xsdNode struct {
	local string
	attrs map[string]string
	kids  []*xsdNode
}

func parseXSD(t *testing.T, file string) *xsdNode {
	t.Helper()
	b := testkit.Vector(t, filepath.Join("schema", file))
	d := xml.NewDecoder(bytes.NewReader(b))
	root := &xsdNode{}
	stack := []*xsdNode{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			n := &xsdNode{local: tt.Name.Local, attrs: map[string]string{}}
			for _, a := range tt.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return root
}

// find returns the first node, depth first, with the given local name and
// name attribute.
func (n *xsdNode) find(local, name string) *xsdNode {
	if n.local == local && n.attrs["name"] == name {
		return n
	}
	for _, k := range n.kids {
		if f := k.find(local, name); f != nil {
			return f
		}
	}
	return nil
}

// enum collects the enumeration values under n, in schema order.
func (n *xsdNode) enum() []string {
	var out []string
	if n.local == "enumeration" {
		out = append(out, n.attrs["value"])
	}
	for _, k := range n.kids {
		out = append(out, k.enum()...)
	}
	return out
}

func mustFind(t *testing.T, n *xsdNode, path ...[2]string) *xsdNode {
	t.Helper()
	for _, p := range path {
		if n = n.find(p[0], p[1]); n == nil {
			t.Fatalf("schema has no %s %q", p[0], p[1])
		}
	}
	return n
}

func asStrings[S ~string](v []S) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

func TestResponseCodesMatchXSD(t *testing.T) {
	duis := parseXSD(t, "DUIS Schema V5.4.xsd")
	want := mustFind(t, duis, [2]string{"simpleType", "ResponseCode"}).enum()
	if diff := cmp.Diff(want, asStrings(responseCodes)); diff != "" {
		t.Errorf("ResponseCodes differ from the XSD (-xsd +ours):\n%s", diff)
	}
	for _, c := range []ResponseCode{ResponseSuccess, ResponseAcknowledged, "E062301", "E062306"} {
		if !c.Valid() {
			t.Errorf("%s not valid", c)
		}
	}
	if ResponseCode("E062307").Valid() || ResponseCode("i0").Valid() {
		t.Error("invented codes are valid")
	}
}

func TestDCCAlertCodesMatchXSD(t *testing.T) {
	duis := parseXSD(t, "DUIS Schema V5.4.xsd")
	want := mustFind(t, duis, [2]string{"complexType", "DCCAlertMessage"}, [2]string{"element", "DCCAlertCode"}).enum()
	if diff := cmp.Diff(want, asStrings(dccAlertCodes)); diff != "" {
		t.Errorf("DCCAlertCodes differ from the XSD (-xsd +ours):\n%s", diff)
	}
	if DCCAlertCode("N32").Valid() {
		t.Error("N32 is not in the 5.4 enumeration")
	}
}

func TestBreachesMatchXSD(t *testing.T) {
	duis := parseXSD(t, "DUIS Schema V5.4.xsd")
	var want []string
	for _, k := range mustFind(t, duis, [2]string{"complexType", "QuarantinedRequest"}).kids[0].kids {
		want = append(want, k.attrs["name"])
	}
	if diff := cmp.Diff(want, breaches); diff != "" {
		t.Errorf("breaches differ from the XSD (-xsd +ours):\n%s", diff)
	}
}
