package gbcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ecos-cos/ecos/internal/hexfile"
)

// fuzzFrames are the seed frames: our committed seeds, plus the RTDS frames
// when $ECOS_VECTORS_DIR is set (read directly: a fuzz target must not skip
// when they are missing).
func fuzzFrames(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, b := range committedSeeds(f) {
		out = append(out, b)
	}
	if dir := os.Getenv("ECOS_VECTORS_DIR"); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "gbcs", "*.HEX"))
		for _, p := range paths {
			raw, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			b, err := hexfile.Decode(raw)
			if err != nil {
				f.Fatalf("%s: %v", p, err)
			}
			out = append(out, b)
		}
	}
	return out
}

// fuzzPayloads are the contents of the seed frames.
func fuzzPayloads(f *testing.F) [][]byte {
	var out [][]byte
	for _, b := range fuzzFrames(f) {
		if fr, err := ParseFrame(b); err == nil {
			out = append(out, fr.Message.Content)
		}
	}
	return out
}

// fuzzDecoder is the common property: no panic, nil value on error, and on
// success marshalling gives back the input exactly.
func fuzzDecoder[T cryptobyte.MarshalingValue](f *testing.F, seeds [][]byte, parse func([]byte) (T, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parse(b)
		if err != nil {
			if any(v) != any((T)(zeroOf[T]())) {
				t.Fatalf("non-nil value with error %v", err)
			}
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			return
		}
		out, err := marshalValue(v)
		if err != nil {
			t.Fatalf("marshal after parse: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip changed bytes:\n got %X\nwant %X", out, b)
		}
	})
}

func zeroOf[T any]() (z T) { return }

func FuzzParseFrame(f *testing.F) { fuzzDecoder(f, fuzzFrames(f), ParseFrame) }

func FuzzParseMessage(f *testing.F) { fuzzDecoder(f, fuzzFrames(f), ParseMessage) }

func FuzzParseUpdateSecurityCredentials(f *testing.F) {
	fuzzDecoder(f, fuzzPayloads(f), ParseUpdateSecurityCredentials)
}

func FuzzParseUpdateSecurityCredentialsResponse(f *testing.F) {
	fuzzDecoder(f, fuzzPayloads(f), ParseUpdateSecurityCredentialsResponse)
}

func FuzzParseUpdateSecurityCredentialsAlert(f *testing.F) {
	fuzzDecoder(f, fuzzPayloads(f), ParseUpdateSecurityCredentialsAlert)
}

func FuzzParseProvideSecurityCredentialDetails(f *testing.F) {
	fuzzDecoder(f, fuzzPayloads(f), ParseProvideSecurityCredentialDetails)
}

func FuzzParseProvideSecurityCredentialDetailsResponse(f *testing.F) {
	fuzzDecoder(f, fuzzPayloads(f), ParseProvideSecurityCredentialDetailsResponse)
}

// FuzzDescribe: no panic, nil on error, and a description always renders as
// JSON and as text.
func FuzzDescribe(f *testing.F) {
	for _, s := range fuzzFrames(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Describe(b)
		if err != nil {
			if d != nil {
				t.Fatal("non-nil description with error")
			}
			return
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatal(err)
		}
		if err := WriteText(io.Discard, d); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDER exercises the length and primitive helpers on their own.
func FuzzDER(f *testing.F) {
	for _, s := range [][]byte{{0x05}, {0x81, 0x01, 0xAA}, {0x82, 0x00, 0x01, 0xBB}, {0x84, 0, 0, 0, 0}, {0x80}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := cryptobyte.String(b)
		var body cryptobyte.String
		var form lenForm
		if readLength(&s, &body, &form) {
			consumed := b[:len(b)-len(s)]
			nb := cryptobyte.NewBuilder(nil)
			addLength(nb, form, func(b *cryptobyte.Builder) { b.AddBytes(body) })
			out, err := nb.Bytes()
			if err != nil || !bytes.Equal(out, consumed) {
				t.Fatalf("length round trip: %X -> %X (%v)", consumed, out, err)
			}
		}
		s = cryptobyte.String(b)
		var u uint64
		if readUint(&s, 0x02, &u) {
			nb := cryptobyte.NewBuilder(nil)
			addUint(nb, 0x02, u)
			if out, _ := nb.Bytes(); !bytes.Equal(out, b[:len(b)-len(s)]) {
				t.Fatalf("integer round trip: %X -> %X", b[:len(b)-len(s)], out)
			}
		}
		if out, err := TwoOctetLengths(b); err == nil {
			if again, err := TwoOctetLengths(out); err != nil || !bytes.Equal(again, out) {
				t.Fatalf("TwoOctetLengths is not idempotent on %X (%v)", b, err)
			}
		}
		s = cryptobyte.String(b)
		var k KeyUsage
		if readKeyUsage(&s, &k) {
			nb := cryptobyte.NewBuilder(nil)
			addKeyUsage(nb, k)
			if out, _ := nb.Bytes(); !bytes.Equal(out, b[:len(b)-len(s)]) {
				t.Fatalf("key usage round trip: %X -> %X", b[:len(b)-len(s)], out)
			}
		}
	})
}

// FuzzSignatureFromDER: no panic, and an accepted signature converts back to
// an equivalent one.
func FuzzSignatureFromDER(f *testing.F) {
	f.Add(signatureToDER([64]byte{1, 2, 3, 63: 4}))
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := SignatureFromDER(b)
		if err != nil {
			return
		}
		again, err := SignatureFromDER(signatureToDER(sig))
		if err != nil || again != sig {
			t.Fatalf("r‖s %X does not survive DER and back (%v)", sig, err)
		}
	})
}
