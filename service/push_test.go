package service_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/store"
)

// pushed is what one User's endpoint received.
type pushed struct {
	requestID, kind, client string
}

// userEndpoint is a User's own HTTPS receiver that asks for the
// pusher's client certificate (mutual TLS).
type userEndpoint struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []pushed
	news chan struct{}
}

func newUserEndpoint(t *testing.T, clientCAs *x509.CertPool) *userEndpoint {
	e := &userEndpoint{news: make(chan struct{}, 100)}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.got = append(e.got, pushed{r.Header.Get(api.HeaderRequestID), r.Header.Get(api.HeaderKind), r.TLS.PeerCertificates[0].Subject.CommonName})
		e.mu.Unlock()
		e.news <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	}))
	e.srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *userEndpoint) received() []pushed {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]pushed(nil), e.got...)
}

// waitFor waits until the endpoint got the service response to id.
func (e *userEndpoint) waitFor(t *testing.T, id string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		for _, p := range e.received() {
			if p.requestID == id && p.kind == string(store.ResponseService) {
				return
			}
		}
		select {
		case <-e.news:
		case <-deadline:
			t.Fatalf("no response to %s pushed; received %+v", id, e.received())
		}
	}
}

// TestPushEachUserItsOwn: suppliers 1 and 2 have their own callbacks.
// Each endpoint receives the documents of its own User's requests and
// nothing of the other's (with one callback for everyone it received
// both). Restarted with supplier 2 pull-only, supplier 2's next response
// is stored and pullable but never pushed or tried. The pusher shows its
// client certificate and checks the endpoints' against callback.cas.
func TestPushEachUserItsOwn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: 5}); err != nil {
		t.Fatal(err)
	}
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The pusher's client certificate, from the demo's TLS CA.
	client := unregisteredCert(t, dir)
	key, err := x509.MarshalPKCS8PrivateKey(client.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "push.pem"), "CERTIFICATE", client.Certificate[0])
	writePEM(t, filepath.Join(dir, "push.key"), "PRIVATE KEY", key)

	a, b := newUserEndpoint(t, caPool(t, dir)), newUserEndpoint(t, caPool(t, dir))
	// httptest's servers share one certificate.
	writePEM(t, filepath.Join(dir, "receivers.pem"), "CERTIFICATE", a.srv.Certificate().Raw)
	callbacks := func(users map[string]string) func(*config.Config) {
		return func(c *config.Config) {
			c.Callback.Users = users
			c.Callback.CAs = []string{filepath.Join(dir, "receivers.pem")}
			c.Callback.Client = &config.FileKeyPair{Key: filepath.Join(dir, "push.key"), Cert: filepath.Join(dir, "push.pem")}
		}
	}
	supplier1, supplier2 := w.PKI.Suppliers[0].EUI.String(), w.PKI.Suppliers[1].EUI.String()
	submit := func(s *serving, supplier, device int, counter uint64) string {
		t.Helper()
		doc := sign(t, w, supplier, device, counter)
		id := requestID(t, doc)
		c := demoClientAt(t, dir, w, supplier, s.client.BaseURL)
		if _, accepted, err := c.Submit(ctx, doc); err != nil || !accepted {
			t.Fatalf("supplier %d's request: accepted=%v err=%v", supplier, accepted, err)
		}
		if _, final, err := c.Response(ctx, id, 30*time.Second); err != nil || !final {
			t.Fatalf("supplier %d pulls its response: final=%v err=%v", supplier, final, err)
		}
		return id
	}
	// Every demo meter is supplier 2's, so supplier 1 can have no 6.23
	// accepted: its documents are stored as the pipeline stores them.
	stored := func(s *serving, counter uint64) string {
		t.Helper()
		id := store.RequestID{Originator: w.PKI.Suppliers[0].EUI, Target: demoworld.Device(1), Counter: counter}
		db := s.svc.Store()
		if err := db.ReceiveRequest(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddResponse(ctx, store.Response{RequestID: id, Kind: store.ResponseService, Code: "I0",
			Document: []byte("<Response/>"), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return id.String()
	}
	onlyOwn := func() {
		t.Helper()
		for i, e := range []*userEndpoint{a, b} {
			user := []string{supplier1, supplier2}[i]
			for _, p := range e.received() {
				if !strings.HasPrefix(p.requestID, user+":") {
					t.Errorf("supplier %d's endpoint received %s of %s, another User's request", i+1, p.kind, p.requestID)
				}
				if p.client != "stranger" {
					t.Errorf("the pusher presented %q, want the callback.client certificate", p.client)
				}
			}
		}
	}

	s := serveDir(t, dir, callbacks(map[string]string{supplier1: a.srv.URL + "/supplier-1", supplier2: b.srv.URL + "/supplier-2"}))
	id1, id2 := stored(s, 2001), submit(s, 2, 2, 2002)
	a.waitFor(t, id1)
	b.waitFor(t, id2)
	onlyOwn()
	s.stop()

	// Supplier 2 pull-only: its response is never pushed, not even tried.
	s = serveDir(t, dir, callbacks(map[string]string{supplier1: a.srv.URL + "/supplier-1"}))
	id2 = submit(s, 2, 3, 2003)
	id1 = stored(s, 2004) // pushed after supplier 2's: the pusher has passed it
	a.waitFor(t, id1)
	onlyOwn()
	rid, err := duis.ParseRequestID(id2)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.svc.Store().Responses(ctx, store.RequestID(rid))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 2 {
		t.Errorf("supplier 2's request has %d documents, want its acknowledgement and response", len(rs))
	}
	for _, r := range rs {
		if r.Kind != store.ResponseAcknowledgement && (!r.PushedAt.IsZero() || r.PushAttempts != 0) {
			t.Errorf("supplier 2 has no callback, yet its %s was pushed at %v after %d failed attempts", r.Kind, r.PushedAt, r.PushAttempts)
		}
	}
	for _, p := range b.received() {
		if p.requestID == id2 {
			t.Errorf("supplier 2's endpoint, no longer configured, received %s", p.kind)
		}
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
