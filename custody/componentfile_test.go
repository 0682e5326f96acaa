package custody

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestComponentFileRoundTrip(t *testing.T) {
	for _, bits := range []int{128, 192, 256} {
		comps, _ := testComponents(t, 3, bits)
		for _, c := range comps {
			text := FormatComponent(c)
			got, err := ParseComponent(text)
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			if !bytes.Equal(got.Value, c.Value) || got.KCV != c.KCV || got.Index != c.Index || got.Of != c.Of || got.Bits != c.Bits || got.Ceremony != c.Ceremony {
				t.Errorf("round trip: %+v, want %+v", got, c)
			}
			if !bytes.Equal(FormatComponent(got), text) {
				t.Error("formatting the parsed file does not give the file back")
			}
		}
	}
}

func TestComponentFileFormat(t *testing.T) {
	c := &Component{Ceremony: "kek-2026", Index: 2, Of: 3, Bits: 128, Value: []byte{0x1f, 0x2e, 0x3d, 0x4c, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15}}
	c.KCV = mustKCV(t, c.Value, "aes-cmac-zero")
	want := "ecos KEK component\nceremony: kek-2026\ncomponent: 2 of 3\nbits: 128\nvalue: 1F2E 3D4C 0A0B 0C0D 0E0F 1011 1213 1415\nkcv: " + c.KCV.Value + " (aes-cmac-zero)\n"
	if got := string(FormatComponent(c)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestParseComponentRefuses: each fault is named with its line, and the
// value is never quoted in the message.
func TestParseComponentRefuses(t *testing.T) {
	comps, _ := testComponents(t, 3, 256)
	good := string(FormatComponent(comps[1]))
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	with := func(i int, s string) string {
		l := append([]string(nil), lines...)
		l[i] = s
		return strings.Join(l, "\n") + "\n"
	}
	value := strings.TrimPrefix(lines[4], "value: ")
	for _, tc := range []struct{ name, in, want string }{
		{"one hex digit edited", string(flipDigit([]byte(good), 7)), "line 6: key check value mismatch: component 2: its value gives KCV"},
		{"kcv edited", with(5, "kcv: 000000 (aes-cmac-zero)"), "line 6: key check value mismatch"},
		{"other method named", with(5, strings.Replace(lines[5], "aes-cmac-zero", "aes-ecb-zero", 1)), "line 6: key check value mismatch"},
		{"empty", "", "line 1: the file is empty"},
		{"not a component", "hello\n", `line 1: want "ecos KEK component"`},
		{"missing lines", strings.Join(lines[:3], "\n"), `line 4: missing; want "bits: 128|192|256"`},
		{"line out of order", strings.Join([]string{lines[0], lines[4], lines[1], lines[2], lines[3], lines[5]}, "\n"), `line 2: it starts "value:"; want "ceremony: NAME"`},
		{"bad ceremony name", with(1, "ceremony: a b"), `line 2: ceremony: "a b": want 1 to 64 letters`},
		{"component not I of N", with(2, "component: 2/3"), `line 3: component: "2/3": want "I of N"`},
		{"component 4 of 3", with(2, "component: 4 of 3"), "line 3: component: \"4 of 3\": the component's number must be 1 to 3"},
		{"one of four", with(2, "component: 1 of 4"), "a KEK has 2 or 3 components, not 4"},
		{"leading zero", with(2, "component: 02 of 3"), `want "I of N"`},
		{"bits 512", with(3, "bits: 512"), `line 4: bits: "512": want 128, 192 or 256`},
		{"bits disagree with value", with(3, "bits: 128"), "line 5: value: 64 hex digits: a 128-bit component has 32"},
		{"value short", with(4, "value: "+value[:len(value)-5]), "line 5: value: 60 hex digits: a 256-bit component has 64"},
		{"value not in groups", with(4, "value: "+strings.ReplaceAll(value, " ", "")), "line 5: value: group 1 has 64 characters"},
		{"value two spaces", with(4, "value: "+strings.Replace(value, " ", "  ", 1)), "line 5: value: group 2 has 0 characters"},
		{"value not hex", with(4, "value: "+strings.Replace(value, value[:1], "G", 1)), "line 5: value: group 1, character 1 is not a hex digit"},
		{"value zeros", with(4, "value: "+strings.TrimSpace(strings.Repeat("0000 ", 16))), "line 5: value: the value is all zeros"},
		{"kcv without method", with(5, "kcv: "+comps[1].KCV.Value), `line 6: kcv: "`},
		{"kcv short", with(5, "kcv: ABCD (aes-cmac-zero)"), `line 6: kcv: KCV "ABCD": want 6 hex digits`},
		{"kcv unknown method", with(5, "kcv: ABCDEF (md5)"), `unknown KCV method "md5"`},
		{"trailing line", good + "extra\n", "line 7: nothing may follow the kcv line"},
		{"too long", strings.Repeat("x", 5000), "5000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseComponent([]byte(tc.in))
			if c != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want %q", err, tc.want)
			}
			for _, group := range strings.Fields(value) {
				if strings.Contains(err.Error(), group) {
					t.Errorf("the error quotes the value: %v", err)
				}
			}
		})
	}
	if _, err := ParseComponent(flipDigit([]byte(good), 0)); !errors.Is(err, ErrKCV) {
		t.Errorf("an edited digit is not ErrKCV: %v", err)
	}
}

// TestParseComponentTolerates what editors and typing leave: CRLF, spaces
// at line ends, blank lines at the end, lower-case hex.
func TestParseComponentTolerates(t *testing.T) {
	comps, _ := testComponents(t, 2, 192)
	good := string(FormatComponent(comps[0]))
	for name, in := range map[string]string{
		"CRLF":             strings.ReplaceAll(good, "\n", "\r\n"),
		"no final newline": strings.TrimSuffix(good, "\n"),
		"trailing spaces":  strings.ReplaceAll(good, "\n", "  \n"),
		"blank lines":      good + "\n\n",
		"lower case":       regexp.MustCompile(`value: .*`).ReplaceAllStringFunc(good, strings.ToLower),
	} {
		c, err := ParseComponent([]byte(in))
		if err != nil || !bytes.Equal(c.Value, comps[0].Value) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestReadComponentFile(t *testing.T) {
	comps, _ := testComponents(t, 2, 128)
	p := filepath.Join(t.TempDir(), "c.txt")
	if err := os.WriteFile(p, flipDigit(FormatComponent(comps[0]), 3), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadComponentFile(p); err == nil || !strings.Contains(err.Error(), "component file "+p+": line 6") {
		t.Errorf("got %v", err)
	}
	if _, err := ReadComponentFile(p + ".missing"); err == nil {
		t.Error("missing file accepted")
	}
}

// FuzzParseComponent: no input panics; what parses formats back to a file
// that parses to the same component.
func FuzzParseComponent(f *testing.F) {
	for _, n := range []int{2, 3} {
		comps, err := GenerateComponents(testRand(byte(n)), "fuzz", n, 128, "aes-ecb-zero")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(FormatComponent(comps[0]))
		f.Add(bytes.ReplaceAll(FormatComponent(comps[1]), []byte("\n"), []byte("\r\n")))
	}
	f.Add([]byte("ecos KEK component\nceremony: x\ncomponent: 1 of 2\nbits: 128\nvalue: 0000\nkcv: 000000 (aes-ecb-zero)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseComponent(data)
		if err != nil {
			if c != nil {
				t.Fatal("a component with an error")
			}
			return
		}
		again, err := ParseComponent(FormatComponent(c))
		if err != nil {
			t.Fatalf("formatted component does not parse: %v", err)
		}
		if !bytes.Equal(again.Value, c.Value) || again.KCV != c.KCV || again.Index != c.Index || again.Of != c.Of || again.Ceremony != c.Ceremony {
			t.Fatalf("round trip: %+v, want %+v", again, c)
		}
	})
}
