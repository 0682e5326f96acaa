package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Three Users: A and B have their own callbacks, C has none (pull-only).
const (
	pushA = "90-B3-D5-1F-30-01-00-00"
	pushB = "90-B3-D5-1F-30-01-00-01"
	pushC = "90-B3-D5-1F-30-01-00-02"
)

func reqOf(user string, counter int) string {
	return user + ":00-DB-12-34-56-78-90-A0:" + strconv.Itoa(counter)
}

// endpoint is a User's own TLS receiver; it records the RequestIDs it got.
type endpoint struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.got = append(e.got, r.Header.Get(HeaderRequestID))
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

// Each User's endpoint receives the documents of its own requests and no
// other User's; a User without a callback is never read, let alone pushed.
func TestPushOnlyToItsUser(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	outbox := newOutbox(
		doc(1, reqOf(pushA, 1), KindAcknowledgement),
		doc(2, reqOf(pushB, 1), KindAcknowledgement),
		doc(3, reqOf(pushC, 1), KindAcknowledgement),
		doc(4, reqOf(pushA, 1), "response"),
		doc(5, reqOf(pushB, 2), KindAcknowledgement),
	)
	p, err := NewPusher(PusherConfig{
		Outbox: outbox,
		Users:  map[string]string{pushA: a.srv.URL + "/a", pushB: b.srv.URL + "/b"},
		Client: a.srv.Client(), // httptest's servers share one certificate
	})
	if err != nil {
		t.Fatal(err)
	}
	p.pass(context.Background())
	p.pass(context.Background())

	if got, want := a.received(), []string{reqOf(pushA, 1), reqOf(pushA, 1)}; !slices.Equal(got, want) {
		t.Errorf("User A's endpoint received %q, want only A's %q", got, want)
	}
	if got, want := b.received(), []string{reqOf(pushB, 1), reqOf(pushB, 2)}; !slices.Equal(got, want) {
		t.Errorf("User B's endpoint received %q, want only B's %q", got, want)
	}
	for _, id := range []int64{1, 2, 4, 5} {
		if !outbox.isPushed(id) {
			t.Errorf("document %d not marked pushed", id)
		}
	}
	if outbox.isPushed(3) {
		t.Error("the pull-only User's document was marked pushed")
	}
	for _, u := range outbox.readsFor() {
		if u != pushA && u != pushB {
			t.Fatalf("the outbox was read for %q; reads %q", u, outbox.readsFor())
		}
	}
}

// A pull-only User's documents cost the pusher nothing: however many
// there are, no pass reads them, so the pusher does not spin on them.
func TestPushPullOnlyUserNotRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox()
		for i := range 1000 {
			outbox.add(doc(int64(i+1), reqOf(pushC, i), KindAcknowledgement))
		}
		outbox.add(doc(1001, reqOf(pushA, 1), KindAcknowledgement))
		env := newPushEnv(t, outbox, func(c *PusherConfig) {
			c.Relay, c.Users = "", map[string]string{pushA: "https://a.example/inbox"}
		})
		env.run(t)
		time.Sleep(time.Minute)
		synctest.Wait()

		if got := ids(env.rc.deliveries()); !slices.Equal(got, []int64{1001}) {
			t.Errorf("delivered %v, want only User A's [1001]", got)
		}
		outbox.mu.Lock()
		reads, returned := outbox.reads, outbox.returned
		outbox.mu.Unlock()
		// One read a second (Poll), each handing out nothing of User C's.
		if reads > 61 || returned != 1 {
			t.Errorf("a minute took %d outbox reads handing out %d documents; want at most 61 reads and only User A's document", reads, returned)
		}
	})
}

// One User's endpoint being down holds up no other User's deliveries.
func TestPushUserDownOthersGoOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox(doc(1, reqOf(pushA, 1), KindAcknowledgement), doc(2, reqOf(pushB, 1), KindAcknowledgement))
		env := newPushEnv(t, outbox, func(c *PusherConfig) {
			c.Relay, c.Users = "", map[string]string{pushA: "https://a.example/", pushB: "https://b.example/"}
		})
		env.rc.answer = func(id int64, _ int) int {
			if id == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		}
		env.p.pass(context.Background())
		if !outbox.isPushed(2) {
			t.Fatal("User B's document waited for User A's endpoint")
		}
		for _, d := range env.rc.deliveries() {
			if want := map[int64]string{1: "https://a.example/", 2: "https://b.example/"}[d.id]; d.url != want {
				t.Errorf("document %d went to %s, want %s", d.id, d.url, want)
			}
		}
	})
}

// Should the outbox ever return another User's document, it is not sent.
func TestPushRefusesAnotherUsersDocument(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox(doc(1, reqOf(pushB, 1), KindAcknowledgement))
		outbox.leaky = true
		env := newPushEnv(t, outbox, func(c *PusherConfig) {
			c.Relay, c.Users = "", map[string]string{pushA: "https://a.example/"}
		})
		env.p.pass(context.Background())
		if n := len(env.rc.deliveries()); n != 0 || outbox.isPushed(1) {
			t.Fatalf("User B's document was sent to User A's endpoint (%d deliveries)", n)
		}
		if !strings.Contains(env.log.String(), "another User's document") {
			t.Errorf("nothing logged: %s", env.log.String())
		}
	})
}

// The default client checks the receiver against PusherConfig.TLS's CAs
// and shows it the client certificate there; without them the receiver
// is not trusted and nothing is sent.
func TestPushMutualTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ecos pusher"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true, // self-signed: its own CA
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	clients := x509.NewCertPool()
	clients.AddCert(cert)

	var mu sync.Mutex
	var peers []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		peers = append(peers, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	outbox := newOutbox(doc(1, reqOf(pushA, 1), KindAcknowledgement))
	p, err := NewPusher(PusherConfig{Outbox: outbox, Users: map[string]string{pushA: srv.URL}, MaxAttempts: 1,
		TLS: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}})
	if err != nil {
		t.Fatal(err)
	}
	p.pass(context.Background())
	if !outbox.isPushed(1) || !slices.Equal(peers, []string{"ecos pusher"}) {
		t.Fatalf("pushed=%v, receiver saw client certificates %q", outbox.isPushed(1), peers)
	}

	outbox = newOutbox(doc(1, reqOf(pushA, 1), KindAcknowledgement))
	p, err = NewPusher(PusherConfig{Outbox: outbox, Users: map[string]string{pushA: srv.URL}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.pass(context.Background())
	if f := outbox.failuresOf(1); outbox.isPushed(1) || len(f) != 1 || !strings.Contains(f[0], "certificate") {
		t.Errorf("an untrusted receiver: pushed=%v failures %q", outbox.isPushed(1), f)
	}
}
