package gbcs

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// parsers lists every decoder with a uniform signature, for the table tests
// and the truncation sweep.
var parsers = map[string]func([]byte) (any, error){
	"frame":    func(b []byte) (any, error) { return nilOnErr(ParseFrame(b)) },
	"message":  func(b []byte) (any, error) { return nilOnErr(ParseMessage(b)) },
	"cs02b":    func(b []byte) (any, error) { return nilOnErr(ParseUpdateSecurityCredentials(b)) },
	"response": func(b []byte) (any, error) { return nilOnErr(ParseUpdateSecurityCredentialsResponse(b)) },
	"alert":    func(b []byte) (any, error) { return nilOnErr(ParseUpdateSecurityCredentialsAlert(b)) },
	"cs02a":    func(b []byte) (any, error) { return nilOnErr(ParseProvideSecurityCredentialDetails(b)) },
	"cs02aResponse": func(b []byte) (any, error) {
		return nilOnErr(ParseProvideSecurityCredentialDetailsResponse(b))
	},
	"describe": func(b []byte) (any, error) { return nilOnErr(Describe(b)) },
}

// nilOnErr checks the "nil value on error" contract while converting to any.
func nilOnErr[T any](v *T, err error) (any, error) {
	if err != nil {
		if v != nil {
			return v, errors.New("non-nil value returned with an error")
		}
		return nil, err
	}
	return v, nil
}

func requireParseError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted")
	}
	if _, ok := errors.AsType[*ParseError](err); !ok {
		t.Fatalf("error %q (%T) is not a *ParseError", err, err)
	}
}

// TestTruncatedVectors cuts every RTDS frame and its payload at every length.
// Nothing may panic; a cut frame either fails with a *ParseError or (when
// the cut falls exactly before the signature field) is a valid unsigned
// message that re-encodes to the cut bytes. A cut payload always fails.
func TestTruncatedVectors(t *testing.T) {
	for _, v := range rtdsVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			full, err := ParseFrame(v.bytes)
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n < len(v.bytes); n++ {
				cut := v.bytes[:n]
				f, err := ParseFrame(cut)
				if err != nil {
					if f != nil {
						t.Fatalf("cut at %d: non-nil frame with error", n)
					}
					if _, ok := errors.AsType[*ParseError](err); !ok {
						t.Fatalf("cut at %d: %T is not a *ParseError", n, err)
					}
					continue
				}
				if f.Message.Sig != SigAbsent {
					t.Fatalf("cut at %d parsed with a %s signature", n, f.Message.Sig)
				}
				if out, _ := f.Bytes(); !bytes.Equal(out, cut) {
					t.Fatalf("cut at %d: round trip differs", n)
				}
				if _, err := Describe(cut); err != nil {
					t.Fatalf("cut at %d: Describe: %v", n, err)
				}
			}
			content := full.Message.Content
			for name, parse := range parsers {
				if name == "frame" || name == "message" || name == "describe" {
					continue
				}
				for n := 0; n < len(content); n++ {
					if _, err := parse(content[:n]); err == nil {
						t.Fatalf("%s: payload cut at %d/%d accepted", name, n, len(content))
					} else if _, ok := errors.AsType[*ParseError](err); !ok {
						t.Fatalf("%s: payload cut at %d: %v", name, n, err)
					}
				}
			}
		})
	}
}

// TestMalformed is a table of hand-made bad inputs, each naming the rule it
// breaks.
func TestMalformed(t *testing.T) {
	const hdr = "DF 09 01 0000000000001771 08 90B3D51F30000004 08 00DB1234567890A0"
	cases := []struct {
		name, parser, hex string
	}{
		{"empty", "frame", ""},
		{"unknown tag", "frame", "DE 00"},
		{"CRA 4", "message", "DF 09 04 0000000000001771 08 90B3D51F30000004 08 00DB1234567890A0 00 02 0107 00"},
		{"CRA 0", "message", "DF 09 00 0000000000001771 08 90B3D51F30000004 08 00DB1234567890A0 00 02 0107 00"},
		{"transaction-id of 8", "message", "DF 08 01 00000000000017 08 90B3D51F30000004 08 00DB1234567890A0 00 02 0107 00"},
		{"originator of 7", "message", "DF 09 01 0000000000001771 07 90B3D51F300000 08 00DB1234567890A0 00 02 0107 00"},
		{"date-time of 11", "message", hdr + " 0B 07DF0101FF000000008000 02 0107 00"},
		{"date-time long form", "message", hdr + " 81 0C 07DF0101FF000000008000FF 02 0107 00"},
		{"other-info of 1", "message", hdr + " 00 01 01 00"},
		{"content overruns", "message", hdr + " 00 02 0107 05 3003"},
		{"indefinite content length", "message", hdr + " 00 02 0107 80 0000"},
		{"five-octet length", "message", hdr + " 00 02 0107 85 0000000001 00"},
		{"signature of 63", "message", hdr + " 00 02 0107 00 3F" + hex64[:126]},
		{"signature truncated", "message", hdr + " 00 02 0107 00 40" + hex64[:126]},
		{"octet after signature", "message", hdr + " 00 02 0107 00 00 00"},
		{"encrypted frame", "frame", "DD 00 00 00 00 00 00 11 31 00000000 " + hex64[:24]},
		{"key-info present", "frame", "DD 00 00 00 00 00 01 00"},
		{"no room for MAC", "frame", "DD 00 00 00 00 00 00 0A 11 00000000 DF 09 01 0000"},
		{"ciphered content too long", "frame", "DD 00 00 00 00 00 00 7F 11 00000000"},
		{"bytes after ciphered content", "frame", "DD 00 00 00 00 00 00 00 00"},
		// Payloads.
		{"cs02b not a SEQUENCE", "cs02b", "31 00"},
		{"cs02b trailing octet", "cs02b", "300D 3006 020107 830101 3000 3000 00"},
		{"cs02b no seq number", "cs02b", "3009 3003 020107 3000 3000"},
		{"cs02b negative seq number", "cs02b", "300C 3006 020107 8301FF 3000 3000"},
		{"cs02b non-minimal seq number", "cs02b", "300D 3007 020107 83020001 3000 3000"},
		{"cs02b CPV 2", "cs02b", "300F 3009 020107 810102 830101 3000 3000"},
		{"cs02b fields out of order", "cs02b", "300F 3009 020107 830101 810101 3000 3000"},
		{"cs02b key usage not DER", "cs02b", "3015 300F 020107 A207 020105 03020080 830101 3000 3000"},
		{"cs02b key usage padding bits", "cs02b", "3015 300F 020107 A207 020105 03020781 830101 3000 3000"},
		{"cs02b certificate not a SEQUENCE", "cs02b", "301A 3006 020107 830101 300E 300C 040100 3007 020102 03020780 3000"},
		{"cs02b time with fraction", "cs02b", "301F 3006 020107 830101 3000 3000 1811 32303330303130323030303030302E355A"},
		{"response not accepted", "response", "3003 010100"},
		{"response NULL with content", "response", "3003 050100"},
		{"response outcome uid of 7", "response", "3043 0500 303F 020101 020107 3000 3035 3033 3007 020102 03020780 0A0100 0407 00000000000000 0408 0000000000000000 0408 0000000000000000 0408 0000000000000000"},
		{"response status INTEGER not ENUMERATED", "response", "3044 0500 3040 020101 020107 3000 3036 3034 3007 020102 03020780 020100 0408 0000000000000000 0408 0000000000000000 0408 0000000000000000 0408 0000000000000000"},
		{"alert code too big", "alert", "300B 0205 0100000000 1800 3000"},
		{"alert without outcome", "alert", "3016 0203008F66 180F 32303330303130323030303030305A"},
		{"cs02a role too big", "cs02a", "3010 3007 020105 03020780 3005 0203 010000"},
		{"cs02a response half details", "cs02aResponse", "300B 3009 020105 0A0100 020100"},
		{"describe bad frame", "describe", "DF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := mustHex(t, tc.hex)
			v, err := parsers[tc.parser](b)
			if v != nil {
				t.Fatalf("accepted: %+v", v)
			}
			requireParseError(t, err)
			t.Log(err)
		})
	}
}

// marshaler is what every decoded value implements.
type marshaler = cryptobyte.MarshalingValue

var hex64 = "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F40"

// TestLenientButExact covers encodings that are valid but not DER: they must
// parse and come back byte for byte.
func TestLenientButExact(t *testing.T) {
	cases := []struct{ name, parser, hex string }{
		// The RTDS response style: 82 00 xx where one octet would do.
		{"non-minimal sequence lengths", "response", "30820012 0500 3082000C 020101 020107 30820000 3000"},
		{"81 short length", "cs02a", "308112 3007 020105 03020780 308106 020103 020106"},
		// Explicit DEFAULT cellUsage management.
		{"explicit cellUsage", "cs02a", "3014 300A 020105 03020780 020100 3006 020103 020106"},
		{"explicit cellUsage in contents", "cs02aResponse", "302A 3028 020103 0A0100 020100 301D 301B 03020780 020100 0408 90B3D51F30020000 0408 48CF97FA9F827FB5"},
		// A frame with every unusual-but-legal choice.
		{"long-form other-info and content", "message", "DF 09 01 0000000000001771 08 90B3D51F30000004 08 00DB1234567890A0 00 8102 0107 820002 3000 00"},
		{"other-info extra", "message", "DF 09 01 0000000000001771 08 90B3D51F30000004 08 00DB1234567890A0 00 0A 0107 0102030405060708 02 3000"},
		{"long-form wrapper", "frame", "DD 8100 00 00 00 00 00 820036 11 00000000 DF 09 01 0000000000001771 08 90B3D51F30000004 08 00DB1234567890A0 00 02 0107 02 3000 00 0102030405060708090A0B0C"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := mustHex(t, tc.hex)
			v, err := parsers[tc.parser](b)
			if err != nil {
				t.Fatal(err)
			}
			out, err := marshalValue(v.(marshaler))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("round trip:\n got %X\nwant %X", out, b)
			}
		})
	}
}
