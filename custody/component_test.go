package custody

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/keywrap"
)

// TestCombineGivesTheKEKBack: for random KEKs of every size, split into 2
// or 3 components (all but one random, the last the KEK XOR the others),
// Combine gives the KEK back.
func TestCombineGivesTheKEKBack(t *testing.T) {
	for range 300 {
		bits := []int{128, 192, 256}[randInt(t, 3)]
		n := 2 + randInt(t, 2)
		kek := make([]byte, bits/8)
		rand.Read(kek)
		last := bytes.Clone(kek)
		var comps []*Component
		for i := 1; i <= n; i++ {
			v := make([]byte, bits/8)
			if i < n {
				rand.Read(v)
				subtle.XORBytes(last, last, v)
			} else {
				v = last
			}
			comps = append(comps, &Component{Ceremony: "p", Index: i, Of: n, Bits: bits, Value: v, KCV: mustKCV(t, v, keywrap.KCVECB)})
		}
		// Any order.
		comps[0], comps[n-1] = comps[n-1], comps[0]
		got, err := Combine(comps)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, kek) {
			t.Fatalf("combine gave %x, want %x", got, kek)
		}
	}
}

func randInt(t *testing.T, n int) int {
	var b [1]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return int(b[0]) % n
}

func TestGenerateComponents(t *testing.T) {
	for _, n := range []int{2, 3} {
		for _, bits := range []int{128, 192, 256} {
			comps, kek := testComponents(t, n, bits)
			if len(comps) != n || len(kek) != bits/8 {
				t.Fatalf("%d×%d: %d components, %d-byte KEK", n, bits, len(comps), len(kek))
			}
			for i, c := range comps {
				if c.Index != i+1 || c.Of != n || c.Bits != bits || len(c.Value) != bits/8 || c.KCV != mustKCV(t, c.Value, keywrap.KCVCMAC) {
					t.Errorf("component %+v", c)
				}
			}
		}
	}
	for name, tc := range map[string]struct {
		n, bits int
		method  keywrap.KCVMethod
		name    string
		want    string
	}{
		"one component":   {1, 256, keywrap.KCVCMAC, "k", "1 components: want 2 or 3"},
		"four components": {4, 256, keywrap.KCVCMAC, "k", "4 components"},
		"512 bits":        {3, 512, keywrap.KCVCMAC, "k", "512 bits"},
		"unknown method":  {3, 256, "sha1", "k", `unknown KCV method "sha1"`},
		"bad name":        {3, 256, keywrap.KCVCMAC, "a/b", `"a/b": want 1 to 64 letters`},
	} {
		if _, err := GenerateComponents(testRand(1), tc.name, tc.n, tc.bits, tc.method); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// A broken source: zeros, or the same bytes twice.
	if _, err := GenerateComponents(bytes.NewReader(make([]byte, 96)), "k", 3, 256, keywrap.KCVECB); err == nil || !strings.Contains(err.Error(), "all zeros") {
		t.Errorf("zero source: %v", err)
	}
	same := bytes.Repeat([]byte{0xA5}, 96)
	if _, err := GenerateComponents(bytes.NewReader(same), "k", 3, 256, keywrap.KCVECB); err == nil || !strings.Contains(err.Error(), "are equal") {
		t.Errorf("repeating source: %v", err)
	}
	if _, err := GenerateComponents(bytes.NewReader(make([]byte, 10)), "k", 2, 128, keywrap.KCVECB); err == nil {
		t.Error("short source accepted")
	}
}

func TestCombineRefuses(t *testing.T) {
	fresh := func(t *testing.T) []*Component {
		comps, _ := testComponents(t, 3, 256)
		return comps
	}
	other, _ := testComponents(t, 3, 128)
	for _, tc := range []struct {
		name   string
		edit   func([]*Component) []*Component
		target error
		want   string
	}{
		{"two of three", func(c []*Component) []*Component { return c[:2] }, ErrComponents, "2 components given"},
		{"none", func(c []*Component) []*Component { return nil }, ErrComponents, "no components"},
		{"one twice", func(c []*Component) []*Component { return []*Component{c[0], c[1], c[0]} }, ErrComponents, "component 1 is given twice"},
		{"mixed bit sizes", func(c []*Component) []*Component { return []*Component{c[0], c[1], other[2]} }, ErrComponents, "component 3 has 128 bits, component 1 has 256"},
		{"another ceremony", func(c []*Component) []*Component { c[1].Ceremony = "other"; return c }, ErrComponents, `component 2 is from ceremony "other"`},
		{"one of two among three", func(c []*Component) []*Component { c[2].Of = 2; return c }, ErrComponents, "component 3 is one of 2"},
		{"index out of range", func(c []*Component) []*Component { c[2].Index = 4; return c }, ErrComponents, "the index must be 1 to 3"},
		{"short value", func(c []*Component) []*Component { c[1].Value = c[1].Value[:16]; return c }, ErrComponents, "holds 16 bytes"},
		{"equal values", func(c []*Component) []*Component { copy(c[2].Value, c[0].Value); c[2].KCV = c[0].KCV; return c }, ErrComponents, "components 1 and 3 are equal"},
		{"a digit changed", func(c []*Component) []*Component { c[1].Value[5] ^= 0x10; return c }, ErrKCV, "component 2: its value gives KCV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kek, err := Combine(tc.edit(fresh(t)))
			if kek != nil || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %x, %v; want %v %q", kek, err, tc.target, tc.want)
			}
		})
	}
}

func TestCheckExpected(t *testing.T) {
	comps, _ := testComponents(t, 2, 256)
	c := comps[0]
	if err := c.CheckExpected(strings.ToLower(c.KCV.Value), keywrap.KCVCMAC); err != nil {
		t.Errorf("lower-case expected KCV: %v", err)
	}
	for name, tc := range map[string]struct {
		kcv    string
		method keywrap.KCVMethod
		want   string
	}{
		"other KCV":    {"000000", keywrap.KCVCMAC, "the ceremony expects 000000"},
		"other method": {c.KCV.Value, keywrap.KCVECB, "KCV is by aes-cmac-zero, the ceremony's by aes-ecb-zero"},
		"not hex":      {"ABCDEG", keywrap.KCVCMAC, "want 6 hex digits"},
		"too long":     {"ABCDEF0", keywrap.KCVCMAC, "want 6 hex digits"},
	} {
		if err := c.CheckExpected(tc.kcv, tc.method); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestMatchCheckValue(t *testing.T) {
	kek := []byte("0123456789abcdef0123456789abcdef")
	ecb, cmac := mustKCV(t, kek, keywrap.KCVECB), mustKCV(t, kek, keywrap.KCVCMAC)
	v, _ := keywrap.KCV(kek, keywrap.KCVECB)
	if err := MatchCheckValue(v[:], ecb); err != nil {
		t.Error(err)
	}
	for name, tc := range map[string]struct {
		cv   []byte
		want KCV
		msg  string
	}{
		"other key":         {[]byte{1, 2, 3}, ecb, "the token's key has KCV 010203 (aes-ecb-zero), want " + ecb.String()},
		"short":             {v[:2], ecb, "check value of 2 bytes"},
		"none":              {nil, ecb, "check value of 0 bytes"},
		"by another method": {v[:], cmac, "a token's check value is by aes-ecb-zero"},
	} {
		if err := MatchCheckValue(tc.cv, tc.want); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", name, err, tc.msg)
		}
	}
}
