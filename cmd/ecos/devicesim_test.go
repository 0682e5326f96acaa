package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// TestDevicesimServes: `ecos devicesim --pki DIR` serves the PKI's meters;
// a CS02b signed with that PKI's TCoS key gets a signed response over HTTP,
// and the command stops cleanly when its context ends.
func TestDevicesimServes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if code, _, errs := ecos(t, "", "pki", "init", "--suppliers", "2", "--devices", "2", dir); code != 0 {
		t.Fatal(errs)
	}
	p, err := testpki.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"devicesim", "--listen", addr, "--pki", dir, "--devices", "10"}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	}()

	s := p.Suppliers[1]
	payload, err := cosbuild.SupplierByTransCoS(&duis.UpdateSecurityCredentialsCoS{
		DigitalSigningCertificate: s.DS.Cert, CertificationPath: [][]byte{p.OrgCA.Cert}, ApplyTimeBasedCPVChecks: true, ImportMPxN: "1200023305967",
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := cosbuild.Command(p.TCoS.EUI, p.Devices[1].EUI, payload)
	if err := m.Sign(nil, p.TCoS.Key); err != nil {
		t.Fatal(err)
	}
	frame, _ := m.Bytes()
	gw := dispatch.NewHTTP("http://"+addr, nil)
	var reply *dispatch.Reply
	for i := 0; i < 50; i++ { // the server needs a moment to listen
		sendCtx, c := context.WithTimeout(context.Background(), 2*time.Second)
		reply, err = gw.Send(sendCtx, frame)
		c()
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || reply.Response == nil {
		t.Fatalf("Send: %+v, %v (stderr %s)", reply, err, errb.String())
	}
	resp, err := gbcs.ParseMessage(reply.Response)
	if err != nil || resp.Originator != p.Devices[1].EUI || resp.Recipient != p.TCoS.EUI || resp.Counter != 1 {
		t.Fatalf("response %+v, %v", resp, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "devicesim: 10 meters on http://"+addr) {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("devicesim did not stop")
	}
}
