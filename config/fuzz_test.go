package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse: Parse never panics; a failure returns no Config and an
// *Error; a success is valid and survives marshalling and parsing again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir, err := filepath.Abs("testdata/good")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, dir)
		if err != nil {
			if c != nil {
				t.Fatal("Config returned with an error")
			}
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(b, dir)
		if err != nil {
			t.Fatalf("marshalled config does not parse: %v\n%s", err, b)
		}
		if d := cmp.Diff(c, c2, cmpopts.IgnoreUnexported(Config{})); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}
