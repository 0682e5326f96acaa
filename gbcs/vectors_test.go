package gbcs

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
)

// TestVectorsRoundTrip decodes every RTDS frame, and its payload, and checks
// that re-encoding gives back the same bytes at both levels.
func TestVectorsRoundTrip(t *testing.T) {
	for _, v := range rtdsVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseFrame(v.bytes)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, v.bytes) {
				t.Fatalf("frame round trip:\n got %X\nwant %X", out, v.bytes)
			}
			wantWrapped := strings.HasPrefix(v.name, "CS02aSignature_NA_SUCCESS") ||
				(strings.HasSuffix(v.name, "_COMMAND_GBCS") && !strings.HasPrefix(v.name, "CS02aSignature_NA_ERROR"))
			if (f.Ciphering != nil) != wantWrapped {
				t.Errorf("wrapped = %v, want %v", f.Ciphering != nil, wantWrapped)
			}
			p, err := DecodePayload(&f.Message)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				t.Fatalf("message code %s (%s) has no payload decoder", f.Message.Code, f.Message.CRA)
			}
			pb, err := marshalValue(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pb, f.Message.Content) {
				t.Fatalf("payload round trip:\n got %X\nwant %X", pb, f.Message.Content)
			}
		})
	}
}

// TestRTDSSignatures verifies every signed RTDS frame with its signer's
// certificate.
func TestRTDSSignatures(t *testing.T) {
	transCoS := orgKey(t, "keys/90b3d51f30000004-ds.pem")
	oldTransCoS := orgKey(t, "keys/Z1-transitionalCoS-ds.pem")
	newTransCoS := orgKey(t, "keys/Z1b-transitionalCoS-ds.pem")
	supplier1 := orgKey(t, "keys/90b3d51f30010000-ds.pem")
	device := deviceKey(t, "keys/00db1234567890a0-ds.pem")
	cases := []struct {
		name string
		key  any // *ecdsa.PublicKey, or nil for an unsigned frame
	}{
		{"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS", transCoS},
		{"CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_COMMAND_GBCS", transCoS},
		{"CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_COMMAND_GBCS", transCoS},
		{"CS02aSignature_NA_ERROR_COMMAND_GBCS", transCoS},
		{"CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS", oldTransCoS},
		{"CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_COMMAND_GBCS", supplier1},
		{"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS", device},
		{"CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_RESPONSE_GBCS", device},
		{"CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_RESPONSE_GBCS", device},
		{"CS02bSupplierByTransCoS_6.23_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS", device},
		{"CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE_GBCS", device},
		{"CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_RESPONSE_GBCS", device},
		{"CS02bSupplierBySupplier_6.15.1_8F67_FUTURE_DATED_ERROR_ALERT_GBCS", device},
		{"CS02aSignature_NA_ERROR_RESPONSE_GBCS", device},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFrame(rtdsFrame(t, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Message.Verify(tc.key.(*ecdsa.PublicKey)); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The migration command is signed with the old TransCoS key (Z1, which
	// is the same certificate as 90B3D51F30000004-ds: serial 3CE369AB…, SKI
	// 4B38EB47561D93E8), not with the new Z1b key it installs.
	f, err := ParseFrame(rtdsFrame(t, "CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Message.Verify(transCoS); err != nil {
		t.Fatalf("90B3D51F30000004 key: %v", err)
	}
	if err := f.Message.Verify(newTransCoS); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("new (Z1b) TransCoS key: err = %v, want ErrBadSignature", err)
	}
}

// TestRTDSMACs recomputes the ACB GMAC on every command to 00DB1234567890A0.
func TestRTDSMACs(t *testing.T) {
	keys := macKeys(t)
	for _, name := range []string{
		"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS",
		"CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_COMMAND_GBCS",
		"CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_COMMAND_GBCS",
		"CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS",
		"CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_COMMAND_GBCS",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := ParseFrame(rtdsFrame(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyMAC(f, keys.Private, keys.Peer); err != nil {
				t.Fatal(err)
			}
			f.Message.Content[len(f.Message.Content)-1] ^= 1
			if err := VerifyMAC(f, keys.Private, keys.Peer); !errors.Is(err, ErrBadMAC) {
				t.Fatalf("tampered: err = %v, want ErrBadMAC", err)
			}
		})
	}
}
