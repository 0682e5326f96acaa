package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newReadyWriter("devicesim: ")
	var errb testkit.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"devicesim", "--listen", "127.0.0.1:0", "--pki", dir, "--devices", "10"}, stdio{in: strings.NewReader(""), out: out, err: &errb})
	}()
	// The line is printed once the socket listens: a dial queues from then.
	var addr string
	select {
	case line := <-out.ready:
		var ok bool
		if _, rest, found := strings.Cut(line, " on http://"); found {
			addr, _, ok = strings.Cut(rest, " ")
		}
		if !ok || !strings.HasPrefix(line, "devicesim: 10 meters on http://") {
			t.Fatalf("readiness line %q", line)
		}
	case code := <-done:
		t.Fatalf("devicesim exited %d before listening: %s", code, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("devicesim did not say it listens within 20s: %s", errb.String())
	}

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
	sendCtx, c := context.WithTimeout(ctx, 10*time.Second)
	reply, err := gw.Send(sendCtx, frame)
	c()
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
		if code != 0 {
			t.Errorf("exit %d, stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("devicesim did not stop")
	}
}

// readyWriter is a command's stdout that hands on, once, the first line
// starting with prefix: a test waits for a server's own "listening" line
// instead of dialling until it answers.
type readyWriter struct {
	prefix string
	ready  chan string // gets the line, once
	mu     sync.Mutex
	buf    []byte
	sent   bool
}

func newReadyWriter(prefix string) *readyWriter {
	return &readyWriter{prefix: prefix, ready: make(chan string, 1)}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for !w.sent {
		line, rest, ok := bytes.Cut(w.buf, []byte("\n"))
		if !ok {
			break
		}
		w.buf = rest
		if strings.HasPrefix(string(line), w.prefix) {
			w.ready <- string(line)
			w.sent = true
		}
	}
	return len(p), nil
}

// TestDevicesimDropFractionChecked: a fraction outside 0..1 is a usage
// error naming the flag, before anything listens.
func TestDevicesimDropFractionChecked(t *testing.T) {
	for _, bad := range []string{"-0.5", "1.5", "NaN"} {
		code, _, errs := ecos(t, "", "devicesim", "--listen", "127.0.0.1:0", "--drop-responses", bad)
		if code != 2 || !strings.Contains(errs, "--drop-responses") || !strings.Contains(errs, "fraction from 0 to 1") {
			t.Errorf("--drop-responses %s: exit %d, %q", bad, code, errs)
		}
	}
}
