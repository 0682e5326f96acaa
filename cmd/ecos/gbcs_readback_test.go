package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/hexfile"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/testpki"
)

// TestBuildReadBackMatchesRTDS: with the RTDS CoS party, device and
// counter, `ecos gbcs build-readback` gives RTDS's signature-authorised
// CS02a header byte for byte (unwrapped, as RTDS sends it), RTDS's
// authorising cell, and a one-role list naming transitionalCoS; the frame
// verifies with the TCoS certificate.
func TestBuildReadBackMatchesRTDS(t *testing.T) {
	v := testkit.VectorsDir(t)
	code, out, errs := ecos(t, "", "gbcs", "build-readback", "--target", "00-DB-12-34-56-78-90-A0",
		"--originator", "90B3D51F30000004", "--counter", "6000",
		"--key", filepath.Join(v, "keys/90b3d51f30000004-ds.key"), "--cert", filepath.Join(v, "keys/90b3d51f30000004-ds.pem"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	got := parseHexFrame(t, out)
	rtds, err := gbcs.ParseFrame(testkit.HexVector(t, "gbcs/CS02aSignature_NA_ERROR_COMMAND_GBCS.HEX"))
	if err != nil {
		t.Fatal(err)
	}
	gotTBS, err := got.Message.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	wantTBS, err := rtds.Message.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	hdr := len(wantTBS) - len(rtds.Message.Content) - 1
	if got.Ciphering != nil || len(gotTBS) < hdr || !bytes.Equal(gotTBS[:hdr], wantTBS[:hdr]) {
		t.Errorf("header %X, want RTDS's %X", gotTBS[:min(hdr, len(gotTBS))], wantTBS[:hdr])
	}
	wantPayload := append(append([]byte{0x30, 0x0E}, rtds.Message.Content[2:11]...), 0x30, 0x03, 0x02, 0x01, 0x05)
	if !bytes.Equal(got.Message.Content, wantPayload) {
		t.Errorf("payload %X, want %X", got.Message.Content, wantPayload)
	}
	verifyOK(t, out, filepath.Join(v, "keys/90b3d51f30000004-ds.pem"))
}

// TestBuildReadBackOperatorFlow is the operator's read-back of a meter
// whose migration response was lost, with a test PKI: the TCoS-signed
// read-back before the migration shows the TCoS SKI; after it the meter
// refuses the TCoS-signed one and answers the ECoS-signed one with the
// ECoS SKI, which `ecos gbcs decode` shows.
func TestBuildReadBackOperatorFlow(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := ecos(t, "", "pki", "init", "--seed", "readback", "--at", "2026-01-01T00:00:00Z", "--suppliers", "1", "--devices", "1", dir); code != 0 {
		t.Fatalf("pki init: %s", errs)
	}
	p, err := testpki.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := device.ESMEConfig(p, 1, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	meter, err := device.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	build := func(signer *testpki.Credential, stem, counter string) []byte {
		t.Helper()
		code, out, errs := ecos(t, "", "gbcs", "build-readback", "--target", meter.EUI().String(),
			"--originator", signer.EUI.String(), "--counter", counter, "--key", file(stem+".key"), "--cert", file(stem+".pem"))
		if code != 0 {
			t.Fatalf("build-readback: exit %d: %s", code, errs)
		}
		return mustHex(t, out)
	}
	// answer hands the read-back to the meter and decodes its answer as
	// the operator would.
	answer := func(frame []byte) string {
		t.Helper()
		res, err := meter.Handle(frame)
		if err != nil {
			t.Fatalf("the meter refused the read-back: %v", err)
		}
		code, out, errs := ecos(t, hexString(res.Response), "gbcs", "decode", "-")
		if code != 0 {
			t.Fatalf("decode: %s", errs)
		}
		if code, _, errs := ecos(t, hexString(res.Response), "gbcs", "verify", "--cert", file("device-0001-ds.pem"), "-"); code != 0 {
			t.Errorf("the meter's answer does not verify: %s", errs)
		}
		return out
	}
	ski := func(c *testpki.Credential) string {
		return "subjectKeyIdentifier: " + strings.ToLower(hexString(c.SKI))
	}

	out := answer(build(p.TCoS, "tcos-ds", "1"))
	if !strings.Contains(out, "remotePartyRole: transitionalCoS") || !strings.Contains(out, "status: success") || !strings.Contains(out, ski(p.TCoS)) {
		t.Errorf("read-back before the migration:\n%s", out)
	}

	// The migration, whose response is lost.
	code, mig, errs := ecos(t, "", "gbcs", "build-migration", "--target", meter.EUI().String(),
		"--new-cert", file("ecos-ds.pem"), "--path", file("org-ca.pem"),
		"--originator", p.TCoS.EUI.String(), "--counter", "2", "--key", file("tcos-ds.key"), "--cert", file("tcos-ds.pem"))
	if code != 0 {
		t.Fatalf("build-migration: %s", errs)
	}
	meter.SetFaults(device.Faults{Fixed: device.Fault{Kind: device.FaultDropResponse}})
	if res, err := meter.Handle(mustHex(t, mig)); err != nil || res.Response != nil {
		t.Fatalf("migration: %+v %v", res, err)
	}
	meter.SetFaults(device.Faults{})

	var re *device.RejectError
	if _, err := meter.Handle(build(p.TCoS, "tcos-ds", "3")); !errors.As(err, &re) || re.Reason != device.BadSignature {
		t.Errorf("a TCoS-signed read-back after the migration: %v, want refused", err)
	}
	out = answer(build(p.ECoS, "ecos-ds", "4"))
	if !strings.Contains(out, "status: success") || !strings.Contains(out, ski(p.ECoS)) || !strings.Contains(out, "currentSeqNumber: 4") {
		t.Errorf("read-back after the migration:\n%s", out)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hexfile.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
