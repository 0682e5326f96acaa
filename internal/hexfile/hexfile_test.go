package hexfile

import (
	"bytes"
	"testing"
)

func TestDecode(t *testing.T) {
	got, err := Decode([]byte("DD 00\n0a\tFf\r\n"))
	if err != nil || !bytes.Equal(got, []byte{0xdd, 0x00, 0x0a, 0xff}) {
		t.Fatalf("Decode = %x, %v", got, err)
	}
	for _, bad := range []string{"D", "DD 0", "DX", "DD:00"} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) succeeded", bad)
		}
	}
	if !LooksLikeHex([]byte("dd 00\n")) || LooksLikeHex([]byte{0xdd, 0x00}) || LooksLikeHex([]byte("  ")) {
		t.Error("LooksLikeHex misclassifies")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("DD 00 0a\nff"))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Decode(in)
		if err != nil {
			if out != nil {
				t.Fatal("output with error")
			}
			return
		}
		if !LooksLikeHex(in) && len(out) > 0 {
			t.Fatal("decoded input that does not look like hex")
		}
	})
}
