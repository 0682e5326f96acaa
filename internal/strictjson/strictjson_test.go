package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	File string `json:"file"`
	KCV  string `json:"kcv"`
}

type doc struct {
	Name   string            `json:"name"`
	Count  int               `json:"count"`
	On     bool              `json:"on"`
	Parts  []inner           `json:"parts"`
	Opt    *inner            `json:"opt"`
	Labels map[string]string `json:"labels"`
	Colour colour            `json:"colour"`
}

// colour is checked by its own rule, as config's Duration is.
type colour string

var opts = Options{
	What: "ceremony",
	Rules: map[reflect.Type]Rule{reflect.TypeFor[colour](): func(tok json.Token) string {
		if s, ok := tok.(string); !ok || (s != "red" && s != "green") {
			return "must be red or green"
		}
		return ""
	}},
	Renamed: map[string]string{"old": ": renamed name"},
}

func TestDecode(t *testing.T) {
	good := "\ufeff{\"name\": \"a\", \"count\": 3, \"on\": true, \"parts\": [{\"file\": \"x\", \"kcv\": \"ABCDEF\"}], \"opt\": null, \"labels\": {\"k\": \"v\"}, \"colour\": \"red\"}\n"
	var d doc
	present, err := Decode([]byte(good), &d, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "a" || d.Count != 3 || !d.On || len(d.Parts) != 1 || d.Parts[0].KCV != "ABCDEF" || d.Labels["k"] != "v" || d.Colour != "red" {
		t.Errorf("decoded %+v", d)
	}
	if !present["parts"] || !present["name"] || present["missing"] {
		t.Errorf("present %v", present)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown key", "{\n  \"name\": \"a\",\n  \"nmae\": 1}", "ceremony: line 3, column 3: nmae: unknown key"},
		{"duplicate key", `{"name": "a", "name": "b"}`, "ceremony: line 1, column 15: name: duplicate key"},
		{"case-different key", `{"Name": "a"}`, `ceremony: line 1, column 2: Name: unknown key (did you mean "name"?)`},
		{"dash for underscore", `{"parts": [{"File": "a"}]}`, `parts[0].File: unknown key (did you mean "file"?)`},
		{"renamed key", `{"old": "a"}`, "old: unknown key: renamed name"},
		{"string for int", `{"count": "3"}`, "count: must be an integer, not a string"},
		{"fraction for int", `{"count": 3.5}`, "count: must be an integer, not 3.5"},
		{"int for string", `{"name": 3}`, "name: must be a string, not a number"},
		{"string for bool", `{"on": "yes"}`, "on: must be true or false, not a string"},
		{"object for array", `{"parts": {}}`, "parts: must be an array, not an object"},
		{"array for object", `{"opt": []}`, "opt: must be an object, not an array"},
		{"rule", `{"colour": "blue"}`, "colour: must be red or green"},
		{"rule, not a string", `{"colour": {"a": [1]}, "name": 1}`, "2 problems"},
		{"not an object", `[1]`, "ceremony: line 1, column 1: the ceremony must be a JSON object, not an array"},
		{"empty", ``, "the file is empty"},
		{"trailing", `{} {}`, "line 1, column 4: unexpected data after the ceremony object"},
		{"syntax", "{\"name\": \"a\",\n}", "line 2, column 1: invalid JSON"},
		{"truncated", `{"name": "a"`, "invalid JSON: unexpected end of file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := doc{Name: "unchanged"}
			_, err := Decode([]byte(tc.in), &d, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Errorf("%T, want *Error", err)
			}
			if d.Name != "unchanged" {
				t.Error("a refused document changed the struct")
			}
		})
	}
	if _, err := Decode([]byte(`{}`), doc{}, opts); err == nil {
		t.Error("Decode into a non-pointer accepted")
	}
}

func TestManyProblemsStop(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 200 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"x": 1`)
	}
	b.WriteString("}")
	_, problems := Check([]byte(b.String()), reflect.TypeFor[doc](), opts)
	// A member can add two (duplicate and unknown) before the check.
	if len(problems) < MaxProblems || len(problems) > MaxProblems+1 {
		t.Errorf("%d problems, want %d", len(problems), MaxProblems)
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\nçd\ne")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 2}, {7, 3, 1}, {8, 3, 2}, {100, 3, 2}, {-1, 1, 1}} {
		if l, c := Position(data, tc.off); l != tc.line || c != tc.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

// FuzzDecode: any bytes give a document or an *Error, never a panic, and
// an accepted document is what encoding/json makes of it.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"name": "a", "count": 3, "parts": [{"file": "x"}], "colour": "red"}`))
	f.Add([]byte(`{"name": "a", "name": "b", "Count": 1}`))
	f.Add([]byte(`{"labels": {"a": "b", "a": "c"}, "opt": {"kcv": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		_, err := Decode(data, &d, opts)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		var again doc
		if err := json.Unmarshal(data[len(data)-len(strings.TrimPrefix(string(data), "\ufeff")):], &again); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("decoded %+v, encoding/json %+v", d, again)
		}
	})
}
