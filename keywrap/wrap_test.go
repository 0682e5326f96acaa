package keywrap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vectors of RFC 3394 §4 and RFC 5649 §6.
func TestVectors(t *testing.T) {
	const (
		kek128 = "000102030405060708090A0B0C0D0E0F"
		kek192 = "000102030405060708090A0B0C0D0E0F1011121314151617"
		kek256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
		key128 = "00112233445566778899AABBCCDDEEFF"
		key192 = "00112233445566778899AABBCCDDEEFF0001020304050607"
		key256 = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F"
		kwpKEK = "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8"
	)
	for _, v := range []struct {
		name, kek, key, wrapped string
		pad                     bool
	}{
		{"rfc3394-4.1", kek128, key128, "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5", false},
		{"rfc3394-4.2", kek192, key128, "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D", false},
		{"rfc3394-4.3", kek256, key128, "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7", false},
		{"rfc3394-4.4", kek192, key192, "031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2", false},
		{"rfc3394-4.5", kek256, key192, "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1", false},
		{"rfc3394-4.6", kek256, key256, "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21", false},
		{"rfc5649-20-octets", kwpKEK, "c37b7e6492584340 bed1220780894115 5068f738", "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a", true},
		{"rfc5649-7-octets", kwpKEK, "466f7250617369", "afbeb0f07dfbf541 9200f2ccb50bb24f", true},
	} {
		t.Run(v.name, func(t *testing.T) {
			kek, key, want := unhex(t, v.kek), unhex(t, v.key), unhex(t, v.wrapped)
			wrapF, unwrapF := wrapKW, unwrapKW
			if v.pad {
				wrapF, unwrapF = WrapPad, UnwrapPad
			}
			got, err := wrapF(kek, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("wrap: %x, %v; want %x", got, err, want)
			}
			back, err := unwrapF(kek, want)
			if err != nil || !bytes.Equal(back, key) {
				t.Fatalf("unwrap: %x, %v; want %x", back, err, key)
			}
		})
	}
}

// Property: for every KEK size and plaintext length, unwrap gives back
// what was wrapped; changing any single bit of the blob, or using another
// KEK, is refused with ErrUnwrap and no plaintext.
func TestRoundTripAndTamper(t *testing.T) {
	rng := rand.New(rand.NewPCG(5649, 3394))
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, kekLen := range []int{16, 24, 32} {
		for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 121, 138} {
			kek, key := fill(kekLen), fill(n)
			other := fill(kekLen)
			type scheme struct {
				name   string
				wrap   func(k, p []byte) ([]byte, error)
				unwrap func(k, c []byte) ([]byte, error)
			}
			schemes := []scheme{{"kwp", WrapPad, UnwrapPad}}
			if n >= 16 && n%8 == 0 {
				schemes = append(schemes, scheme{"kw", wrapKW, unwrapKW})
			}
			for _, s := range schemes {
				blob, err := s.wrap(kek, key)
				if err != nil {
					t.Fatalf("%s kek %d len %d: %v", s.name, kekLen, n, err)
				}
				back, err := s.unwrap(kek, blob)
				if err != nil || !bytes.Equal(back, key) {
					t.Fatalf("%s kek %d len %d: round trip %x, %v", s.name, kekLen, n, back, err)
				}
				for bit := range 8 * len(blob) {
					bad := bytes.Clone(blob)
					bad[bit/8] ^= 1 << (bit % 8)
					if p, err := s.unwrap(kek, bad); !errors.Is(err, ErrUnwrap) || p != nil {
						t.Fatalf("%s kek %d len %d: bit %d flipped: %x, %v", s.name, kekLen, n, bit, p, err)
					}
				}
				if p, err := s.unwrap(other, blob); !errors.Is(err, ErrUnwrap) || p != nil {
					t.Fatalf("%s kek %d len %d: another KEK: %x, %v", s.name, kekLen, n, p, err)
				}
				for _, cut := range [][]byte{blob[:len(blob)-8], blob[:len(blob)-1], append(bytes.Clone(blob), make([]byte, 8)...)} {
					if p, err := s.unwrap(kek, cut); err == nil {
						t.Fatalf("%s kek %d len %d: a blob of %d bytes unwrapped to %x", s.name, kekLen, n, len(cut), p)
					}
				}
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	kek := make([]byte, 16)
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"kek-length", func() error { _, err := wrapKW(make([]byte, 20), make([]byte, 16)); return err }, "a key-encryption key of 20 bytes"},
		{"kek-length-unwrap", func() error { _, err := UnwrapPad(nil, make([]byte, 16)); return err }, "a key-encryption key of 0 bytes"},
		{"kw-short", func() error { _, err := wrapKW(kek, make([]byte, 8)); return err }, "at least 16; got 8"},
		{"kw-unaligned", func() error { _, err := wrapKW(kek, make([]byte, 20)); return err }, "got 20 (use WrapPad)"},
		{"kwp-empty", func() error { _, err := WrapPad(kek, nil); return err }, "1 to 2³²−1 bytes; got 0"},
		{"kw-unwrap-short", func() error { _, err := unwrapKW(kek, make([]byte, 16)); return err }, ErrUnwrap.Error()},
		{"kwp-unwrap-short", func() error { _, err := UnwrapPad(kek, make([]byte, 8)); return err }, ErrUnwrap.Error()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to say %q", err, c.want)
			}
		})
	}
	// An RFC 3394 blob is not an RFC 5649 one, and the other way round.
	kw, _ := wrapKW(kek, make([]byte, 16))
	if _, err := UnwrapPad(kek, kw); !errors.Is(err, ErrUnwrap) {
		t.Errorf("an RFC 3394 blob unwrapped as RFC 5649: %v", err)
	}
	kwp, _ := WrapPad(kek, make([]byte, 16))
	if _, err := unwrapKW(kek, kwp); !errors.Is(err, ErrUnwrap) {
		t.Errorf("an RFC 5649 blob unwrapped as RFC 3394: %v", err)
	}
}
