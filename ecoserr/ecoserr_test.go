package ecoserr

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/duis"
)

var update = flag.Bool("update", false, "rewrite docs/response-codes.md from the table")

func TestTableIsComplete(t *testing.T) {
	names := map[string]bool{}
	for i, e := range Table() {
		if e.Reason != Reason(i+1) {
			t.Errorf("row %d holds reason %d", i, e.Reason)
		}
		if e.Name == "" || e.Message == "" || e.Code == "" {
			t.Errorf("%d: incomplete row %+v", e.Reason, e)
		}
		if names[e.Name] {
			t.Errorf("duplicate name %q", e.Name)
		}
		names[e.Name] = true
		if !duis.ResponseCode(e.Code).Valid() {
			t.Errorf("%s: %s is not a DUIS 5.4 ResponseCode", e.Name, e.Code)
		}
		if e.Configurable != strings.HasPrefix(e.Code, "E0623") {
			t.Errorf("%s: configurable=%v but code %s", e.Name, e.Configurable, e.Code)
		}
		if r, ok := ByName(e.Name); !ok || r != e.Reason {
			t.Errorf("ByName(%q) = %v %v", e.Name, r, ok)
		}
	}
}

func TestErrorWrapping(t *testing.T) {
	cause := errors.New("counter 5 <= 7")
	err := fmt.Errorf("accepting request: %w", New(Replay, cause, "RequestID counter %d is not above %d", 5, 7))
	if !errors.Is(err, Replay) || !errors.Is(err, cause) || errors.Is(err, BadSignature) {
		t.Errorf("errors.Is through wrapping fails: %v", err)
	}
	if ReasonOf(err) != Replay || PublicMessage(err) != "RequestID counter 5 is not above 7" {
		t.Errorf("ReasonOf %v, PublicMessage %q", ReasonOf(err), PublicMessage(err))
	}
	// Anything without a reason is internal, and its text never becomes public.
	plain := errors.New("pq: connection refused on 10.0.0.7")
	if ReasonOf(plain) != Internal || strings.Contains(PublicMessage(plain), "10.0.0.7") {
		t.Errorf("plain error leaks: %v %q", ReasonOf(plain), PublicMessage(plain))
	}
	internal := New(Internal, plain, "")
	if strings.Contains(PublicMessage(internal), "10.0.0.7") {
		t.Error("internal cause leaks into the public message")
	}
	if ReasonOf(nil) != 0 || ReasonOf(UnknownDevice) != UnknownDevice {
		t.Error("ReasonOf(nil) or of a bare Reason")
	}
}

func TestCodesOverrides(t *testing.T) {
	c, err := NewCodes(map[string]string{"replay": "E062306"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Code(Replay) != "E062306" || c.Code(UnknownDevice) != "E19" || (*Codes)(nil).Code(Replay) != "E062303" {
		t.Errorf("codes: %s %s", c.Code(Replay), c.Code(UnknownDevice))
	}
	for name, bad := range map[string]map[string]string{
		"unknown reason":     {"nope": "E062301"},
		"generic code fixed": {"unknown-device": "E062301"},
		"not 6.23-specific":  {"replay": "E4"},
		"malformed code":     {"replay": "E0623"},
	} {
		if _, err := NewCodes(bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestDocsMatchTable keeps docs/response-codes.md the mirror of Table.
func TestDocsMatchTable(t *testing.T) {
	const path = "../docs/response-codes.md"
	var b strings.Builder
	b.WriteString("| reason | step | DUIS code | configurable | message |\n|---|---|---|---|---|\n")
	for _, e := range Table() {
		step := "—"
		if e.Step > 0 {
			step = fmt.Sprint(e.Step)
		}
		conf := ""
		if e.Configurable {
			conf = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", e.Name, step, e.Code, conf, e.Message)
	}
	want := b.String()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- table:begin -->\n", "<!-- table:end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the table markers", path)
	}
	got := string(doc[i+len(begin) : j])
	if got == want {
		return
	}
	if *update {
		out := string(doc[:i+len(begin)]) + want + string(doc[j:])
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date; run go test ./ecoserr -update", path)
}
