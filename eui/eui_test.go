package eui

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	want := EUI{0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x00, 0x00, 0x04}
	for _, s := range []string{"90-B3-D5-1F-30-00-00-04", "90-b3-d5-1f-30-00-00-04", "90B3D51F30000004", "90b3d51f30000004"} {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "90B3D51F3000000", "90B3D51F300000040", "90:B3:D5:1F:30:00:00:04", "90-B3-D5-1F-30-00-00-0G", "90-B3-D5-1F-30-00-0004-"} {
		if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error = %v, want ErrSyntax", s, err)
		}
	}
	if got := want.String(); got != "90-B3-D5-1F-30-00-00-04" {
		t.Errorf("String() = %q", got)
	}
	if got := want.Hex(); got != "90B3D51F30000004" {
		t.Errorf("Hex() = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("90-B3-D5-1F-30-00-00-04")
	f.Add("00db1234567890a0")
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if e != (EUI{}) {
				t.Fatal("non-zero EUI with error")
			}
			return
		}
		again, err := Parse(e.String())
		if err != nil || again != e {
			t.Fatalf("String() does not round trip: %v %v", again, err)
		}
	})
}
