package keywrap

import (
	"bytes"
	"testing"
)

// FuzzUnwrapPad: any blob under any KEK is refused or unwraps to a key
// that wraps back to exactly that blob (the wrapping is deterministic).
func FuzzUnwrapPad(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 16), []byte{0xaf, 0xbe, 0xb0, 0xf0, 0x7d, 0xfb, 0xf5, 0x41, 0x92, 0x00, 0xf2, 0xcc, 0xb5, 0x0b, 0xb2, 0x4f})
	f.Add(bytes.Repeat([]byte{2}, 24), make([]byte, 40))
	f.Fuzz(func(t *testing.T, kek, blob []byte) {
		for _, s := range []struct {
			wrap, unwrap func(k, b []byte) ([]byte, error)
		}{{WrapPad, UnwrapPad}, {wrapKW, unwrapKW}} {
			p, err := s.unwrap(kek, blob)
			if err != nil {
				continue
			}
			again, err := s.wrap(kek, p)
			if err != nil || !bytes.Equal(again, blob) {
				t.Fatalf("unwrapped %x to %x, which wraps to %x (%v)", blob, p, again, err)
			}
		}
	})
}
