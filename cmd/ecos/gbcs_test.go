package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/hexfile"
	"github.com/ecos-cos/ecos/internal/testkit"
)

// ecos runs the CLI in process and returns its exit code, stdout and stderr.
func ecos(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// TestBuildCoSMatchesRTDS drives `ecos gbcs build-cos` with each RTDS 6.23
// request and checks every byte before the signature against the RTDS
// command, and that the signature verifies with the TransCoS certificate.
func TestBuildCoSMatchesRTDS(t *testing.T) {
	v := testkit.VectorsDir(t)
	for _, tc := range []struct {
		name, counter string
	}{{"IMMEDIATE", "6001"}, {"FUTURE_DATED", "6002"}, {"CANCELLATION", "6003"}} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := ecos(t, "", "gbcs", "build-cos",
				"--request", filepath.Join(v, "duis/CS02bSupplierByTransCoS_6.23_"+tc.name+"_SUCCESS_REQUEST_DUIS.XML"),
				"--originator", "90-B3-D5-1F-30-00-00-04", "--counter", tc.counter,
				"--key", filepath.Join(v, "keys/90b3d51f30000004-ds.key"), "--cert", filepath.Join(v, "keys/90b3d51f30000004-ds.pem"),
				"--acb-key", filepath.Join(v, "keys/90b3d51f30000002-ka.key"), "--device-ka", filepath.Join(v, "keys/00db1234567890a0-ka.pem"))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			compareUpToSignature(t, out, testkit.HexVector(t, "gbcs/CS02bSupplierByTransCoS_6.23_"+tc.name+"_SUCCESS_COMMAND_GBCS.HEX"))
			verifyOK(t, out, filepath.Join(v, "keys/90b3d51f30000004-ds.pem"))
		})
	}
}

func TestBuildMigrationMatchesRTDS(t *testing.T) {
	v := testkit.VectorsDir(t)
	z1 := writeZ1(t)
	code, out, errs := ecos(t, "", "gbcs", "build-migration", "--target", "00-DB-12-34-56-78-90-A0",
		"--new-cert", filepath.Join(v, "keys/Z1b-transitionalCoS-ds.pem"), "--path", z1,
		"--originator", "90B3D51F30000004", "--counter", "6000",
		"--key", filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), "--cert", filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem"),
		"--acb-key", filepath.Join(v, "keys/90b3d51f30000002-ka.key"), "--device-ka", filepath.Join(v, "keys/00db1234567890a0-ka.pem"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	compareUpToSignature(t, out, testkit.HexVector(t, "gbcs/CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS.HEX"))
	verifyOK(t, out, filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem"))

	// --apply-time-cpv drops the 81 01 01 "disapply" from the control block.
	_, applied, _ := ecos(t, "", "gbcs", "build-migration", "--target", "00-DB-12-34-56-78-90-A0",
		"--new-cert", filepath.Join(v, "keys/Z1b-transitionalCoS-ds.pem"), "--path", z1,
		"--originator", "90B3D51F30000004", "--counter", "6000", "--apply-time-cpv",
		"--key", filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"))
	f := parseHexFrame(t, applied)
	cmd, err := gbcs.ParseUpdateSecurityCredentials(f.Message.Content)
	if err != nil || cmd.Control.TimeBasedCPVChecks != gbcs.CPVDefault {
		t.Errorf("--apply-time-cpv: %+v %v", cmd, err)
	}

	// An ECoS migration must carry a transitionalCoS certificate.
	code, _, errs = ecos(t, "", "gbcs", "build-migration", "--target", "00-DB-12-34-56-78-90-A0",
		"--new-cert", filepath.Join(v, "keys/90b3d51f30030000-ds.pem"), "--path", z1,
		"--originator", "90B3D51F30000004", "--counter", "6000", "--key", filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"))
	if code != 1 || !strings.Contains(errs, "transitionalCoS") {
		t.Errorf("supplier certificate as new TCoS: exit %d %s", code, errs)
	}
}

func TestBuildCoSRefusesMismatchedCert(t *testing.T) {
	v := testkit.VectorsDir(t)
	code, out, errs := ecos(t, "", "gbcs", "build-cos",
		"--request", filepath.Join(v, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"),
		"--originator", "90-B3-D5-1F-30-00-00-04", "--counter", "6001",
		"--key", filepath.Join(v, "keys/90b3d51f30000004-ds.key"), "--cert", filepath.Join(v, "keys/Z1b-transitionalCoS-ds.pem"))
	if code != 1 || out != "" || !strings.Contains(errs, "does not match") {
		t.Errorf("exit %d, out %q, err %q", code, out, errs)
	}
	code, _, errs = ecos(t, "", "gbcs", "build-cos",
		"--request", filepath.Join(v, "duis/duis-xxe.xml"), "--originator", "90-B3-D5-1F-30-00-00-04", "--counter", "1",
		"--key", filepath.Join(v, "keys/90b3d51f30000004-ds.key"))
	if code != 2 || !strings.Contains(errs, "duis:") {
		t.Errorf("XXE request: exit %d %s", code, errs)
	}
	for _, args := range [][]string{
		{"gbcs", "build-cos"},
		{"gbcs", "build-cos", "--request", "x", "--originator", "nope", "--counter", "1", "--key", "k"},
		{"gbcs", "build-cos", "--request", "x", "--originator", "90B3D51F30000004", "--counter", "-1", "--key", "k"},
		{"gbcs", "build-cos", "--request", "x", "--originator", "90B3D51F30000004", "--counter", "1", "--key", "k", "--acb-key", "a"},
	} {
		if code, _, _ := ecos(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestVerifyExitCodes(t *testing.T) {
	v := testkit.VectorsDir(t)
	cmdHex := string(testkit.Vector(t, "gbcs/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX"))
	tcos := filepath.Join(v, "keys/90b3d51f30000004-ds.pem")
	if code, out, errs := ecos(t, cmdHex, "gbcs", "verify", "--cert", tcos, "-"); code != 0 || !strings.Contains(out, "counter 6001") {
		t.Errorf("RTDS command: exit %d %s %s", code, out, errs)
	}
	// A device response verifies with the device certificate only.
	resp := filepath.Join(v, "gbcs/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX")
	if code, out, _ := ecos(t, "", "gbcs", "verify", "--cert", filepath.Join(v, "keys/00db1234567890a0-ds.pem"), resp); code != 0 || !strings.Contains(out, "device certificate 00-DB-12-34-56-78-90-A0") {
		t.Errorf("RTDS response: exit %d %s", code, out)
	}
	// Tamper one payload byte: invalid, exit 1.
	raw, _ := hexfile.Decode([]byte(cmdHex))
	raw[200] ^= 1
	if code, _, errs := ecos(t, hexString(raw), "gbcs", "verify", "--cert", tcos, "-"); code != 1 || !strings.Contains(errs, "does not verify") {
		t.Errorf("tampered: exit %d %s", code, errs)
	}
	// The wrong key (the Z1b TransCoS): exit 1.
	if code, _, _ := ecos(t, cmdHex, "gbcs", "verify", "--cert", filepath.Join(v, "keys/Z1b-transitionalCoS-ds.pem"), "-"); code != 1 {
		t.Errorf("wrong certificate: exit %d", code)
	}
	// Malformed frames and missing flags: exit 2.
	for _, in := range []string{"", "DF00", "zz", cmdHex[:100]} {
		if code, _, _ := ecos(t, in, "gbcs", "verify", "--cert", tcos, "-"); code != 2 {
			t.Errorf("malformed %q: exit %d, want 2", in, code)
		}
	}
	if code, _, _ := ecos(t, cmdHex, "gbcs", "verify", "-"); code != 2 {
		t.Errorf("no --cert: exit %d", code)
	}
}

func TestDecodeEveryVector(t *testing.T) {
	for _, path := range testkit.Glob(t, "gbcs/*.HEX") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			code, out, errs := ecos(t, "", "gbcs", "decode", "--format", "json", path)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var d map[string]any
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"messageCode", "cra", "originator", "recipient", "counter", "payload"} {
				if _, ok := d[k]; !ok {
					t.Errorf("JSON lacks %q", k)
				}
			}
			if strings.Contains(path, "RESPONSE") && strings.Contains(path, "CS02b") && !strings.Contains(path, "FUTURE_DATED") && !strings.Contains(path, "CANCELLATION") {
				if _, ok := d["outcomes"]; !ok {
					t.Errorf("response without per-cell outcomes")
				}
			}
			if code, tree, _ := ecos(t, "", "gbcs", "decode", path); code != 0 || !strings.Contains(tree, "messageCode: ") {
				t.Errorf("tree: exit %d", code)
			}
		})
	}
	// Binary input works as well as hex.
	bin := filepath.Join(t.TempDir(), "frame.bin")
	if err := os.WriteFile(bin, testkit.HexVector(t, "gbcs/CS02bSupplierByTransCoS_6.23_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ecos(t, "", "gbcs", "decode", bin); code != 0 || !strings.Contains(out, "0x00CB") {
		t.Errorf("binary input: exit %d\n%s", code, out)
	}
	if code, _, _ := ecos(t, "DD", "gbcs", "decode", "-"); code != 2 {
		t.Errorf("truncated frame: exit %d", code)
	}
}

func compareUpToSignature(t *testing.T, gotHex string, rtds []byte) {
	t.Helper()
	got := parseHexFrame(t, gotHex)
	want, err := gbcs.ParseFrame(rtds)
	if err != nil {
		t.Fatal(err)
	}
	gotTBS, _ := got.Message.SignedBytes()
	wantTBS, _ := want.Message.SignedBytes()
	if !bytes.Equal(gotTBS, wantTBS) {
		t.Fatalf("bytes before the signature differ from RTDS")
	}
	gotRaw, _ := hexfile.Decode([]byte(gotHex))
	// The frame up to the signature: wrapper header, DF, header and content.
	prefix := len(rtds) - 12 - 64
	if !bytes.Equal(gotRaw[:prefix], rtds[:prefix]) {
		t.Fatalf("frame prefix differs from RTDS")
	}
}

func parseHexFrame(t *testing.T, s string) *gbcs.Frame {
	t.Helper()
	raw, err := hexfile.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	f, err := gbcs.ParseFrame(raw)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func verifyOK(t *testing.T, frameHex, cert string) {
	t.Helper()
	if code, _, errs := ecos(t, frameHex, "gbcs", "verify", "--cert", cert, "-"); code != 0 {
		t.Errorf("our frame does not verify: %s", errs)
	}
}

// writeZ1 extracts the Z1 issuing CA from the RTDS 6.23 request into a PEM.
func writeZ1(t *testing.T) string {
	t.Helper()
	req, err := duis.DecodeRequest(testkit.Vector(t, "duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "z1.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: req.UpdateSecurityCredentialsCoS.CertificationPath[0]})
	if err := os.WriteFile(p, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func hexString(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
