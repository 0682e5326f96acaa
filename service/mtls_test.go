package service_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/store"
)

// TestUsersListenerMutualTLS is the Users' listener over real TLS on
// loopback, as a demo serves it: supplier 2's request is answered to
// supplier 2 only; supplier 1 can neither read it (its RequestID answers
// exactly as an unknown one) nor submit in supplier 2's name (403, and
// nothing stored: supplier 2 then sends the same document and it is
// accepted); a client without a certificate, or with one the CA issued but
// nobody registered, gets nothing; /metrics is on the operator listener
// only.
func TestUsersListenerMutualTLS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: 5}); err != nil {
		t.Fatal(err)
	}
	s := serveDir(t, dir)
	w := s.world
	base := s.client.BaseURL
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("the demo's Users' listener is %s, want https", base)
	}
	supplier1 := demoClientAt(t, dir, w, 1, base)
	supplier2 := s.client

	// Supplier 2's own request, answered to it.
	doc := sign(t, w, 2, 2, 1001)
	id := requestID(t, doc)
	if _, accepted, err := supplier2.Submit(ctx, doc); err != nil || !accepted {
		t.Fatalf("supplier 2's request: accepted=%v err=%v", accepted, err)
	}
	if _, final, err := supplier2.Response(ctx, id, 10*time.Second); err != nil || !final {
		t.Fatalf("supplier 2 reads its response: final=%v err=%v", final, err)
	}

	// Supplier 1 reads nothing of it, and cannot tell it exists.
	unknown := "EE-C0-5E-00-01-00-00-01:" + demoworld.Device(2).String() + ":777"
	for _, path := range []string{"/api/v1/responses/%s", "/api/v1/responses/%s?wait=1s", "/api/v1/requests/%s", "/api/v1/requests/%s/responses/1"} {
		codeB, bodyB := get(t, supplier1, base+strings.Replace(path, "%s", id, 1))
		codeU, bodyU := get(t, supplier1, base+strings.Replace(path, "%s", unknown, 1))
		if codeB != http.StatusNotFound || codeB != codeU || !bytes.Equal(bodyB, bodyU) {
			t.Errorf("%s: supplier 1 reading supplier 2's request got %d %q; an unknown one %d %q", path, codeB, bodyB, codeU, bodyU)
		}
	}
	if _, err := supplier1.Status(ctx, id); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("supplier 1's Status of supplier 2's request: %v, want ErrNotFound", err)
	}

	// Supplier 1 posts a request supplier 2 signed: refused before
	// anything is stored, so supplier 2's counter is not spent.
	theirs := sign(t, w, 2, 3, 1002)
	_, _, err := supplier1.Submit(ctx, theirs)
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "nothing stored") {
		t.Errorf("supplier 1 submitting supplier 2's request: %v, want a 403 saying nothing was stored", err)
	}
	if _, err := s.svc.Store().Request(ctx, store.RequestID(mustID(t, theirs))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused request was stored: %v", err)
	}
	if _, accepted, err := supplier2.Submit(ctx, theirs); err != nil || !accepted {
		t.Errorf("supplier 2 sending its own request afterwards: accepted=%v err=%v", accepted, err)
	}

	// No client certificate: no handshake, no answer.
	noCert := &api.Client{BaseURL: base, HTTP: api.TLSClient(tls.Certificate{}, caPool(t, dir))}
	noCert.HTTP.Transport.(*http.Transport).TLSClientConfig.Certificates = nil
	if _, _, err := noCert.Submit(ctx, sign(t, w, 2, 4, 1003)); err == nil {
		t.Error("a client without a certificate was served")
	}
	// A certificate from the right CA that no User registered: 403.
	stranger := &api.Client{BaseURL: base, HTTP: api.TLSClient(unregisteredCert(t, dir), caPool(t, dir))}
	if _, _, err := stranger.Submit(ctx, sign(t, w, 2, 4, 1004)); err == nil || !strings.Contains(err.Error(), "403") ||
		!strings.Contains(err.Error(), "not registered for any User") {
		t.Errorf("an unregistered certificate: %v, want 403", err)
	}
	// Plain HTTP to the TLS listener gets nothing done either.
	plain := &api.Client{BaseURL: "http://" + strings.TrimPrefix(base, "https://")}
	if _, accepted, err := plain.Submit(ctx, sign(t, w, 2, 4, 1005)); err == nil || accepted {
		t.Errorf("plain HTTP to the TLS listener: accepted=%v err=%v", accepted, err)
	}

	// /metrics: never where Users are, always where operators are.
	if code, _ := get(t, supplier2, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the Users' listener: %d, want 404", code)
	}
	code, body := get(t, s.operator, s.operator.BaseURL+"/metrics")
	if code != http.StatusOK || !bytes.Contains(body, []byte("ecos_requests_total")) {
		t.Errorf("/metrics on the operator listener: %d", code)
	}
}

// TestPlainHTTPWarns: a demo asked for plain HTTP serves it, and says at
// start what that gives up.
func TestPlainHTTPWarns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfgPath, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: 2, PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, demoworld.TLSDir)); !os.IsNotExist(err) {
		t.Errorf("a plain-HTTP demo has TLS files: %v", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logs testkit.Buffer
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: slog.New(slog.NewTextHandler(&logs, nil)), Audit: obs.Discard(), Simulator: simulator(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, ln, nil) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("plain HTTP /healthz: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=WARN", "plain HTTP", "tls.insecure_plain_http", "nobody is authenticated", "reads every User's responses", "in clear"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start log lacks %q:\n%s", want, logs.String())
		}
	}
}

func demoClientAt(t *testing.T, dir string, w *demoworld.World, n int, base string) *api.Client {
	t.Helper()
	c, err := demoworld.Client(dir, w.PKI.Suppliers[n-1].EUI, base)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sign(t *testing.T, w *demoworld.World, supplier, device int, counter uint64) []byte {
	t.Helper()
	doc, err := w.Sign(demoworld.Request{Supplier: supplier, Device: demoworld.Device(device), Counter: counter})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustID(t *testing.T, doc []byte) duis.RequestID {
	t.Helper()
	req, err := duis.DecodeRequest(doc)
	if err != nil {
		t.Fatal(err)
	}
	return req.Header.RequestID
}

func requestID(t *testing.T, doc []byte) string { return mustID(t, doc).String() }

func get(t *testing.T, c *api.Client, url string) (int, []byte) {
	t.Helper()
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func caPool(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, demoworld.TLSDir, "tls-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatal("no CA certificate")
	}
	return p
}

// unregisteredCert is a client certificate the demo's TLS CA issued that
// no User registered.
func unregisteredCert(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	ca, err := tls.LoadX509KeyPair(filepath.Join(dir, demoworld.TLSDir, "tls-ca.pem"), filepath.Join(dir, demoworld.TLSDir, "tls-ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "stranger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestOldDemoWithoutTLS: a demo directory from before the Users' listener
// had TLS is refused with what to do, not with a configuration error.
func TestOldDemoWithoutTLS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, demoworld.ConfigFile), []byte(`{"listen": "127.0.0.1:0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := demoworld.Install(context.Background(), dir, demoworld.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "made by an older ecos, without TLS for the Users' listener: remove it, or give --dir a new directory") {
		t.Fatalf("Install on an old demo: %v", err)
	}
}
