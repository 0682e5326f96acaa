package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// fakeOutbox keeps documents in memory, in ID order.
type fakeOutbox struct {
	mu       sync.Mutex
	docs     []Document
	pushed   map[int64]time.Time
	failures map[int64][]string
	failRead error
	reads    int
	readFor  []string // the user of each Unpushed call
	returned int      // documents Unpushed handed out
	leaky    bool     // Unpushed ignores its user, as a buggy store would
}

func newOutbox(docs ...Document) *fakeOutbox {
	return &fakeOutbox{docs: docs, pushed: map[int64]time.Time{}, failures: map[int64][]string{}}
}

func (o *fakeOutbox) add(d Document) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.docs = append(o.docs, d)
}

func (o *fakeOutbox) Unpushed(_ context.Context, user string, after int64, limit int) ([]Document, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	o.readFor = append(o.readFor, user)
	if o.failRead != nil {
		return nil, o.failRead
	}
	var out []Document
	for _, d := range o.docs {
		mine := user == "" || strings.HasPrefix(d.RequestID, user+":") || o.leaky
		if _, done := o.pushed[d.ID]; mine && d.ID > after && !done && len(out) < limit {
			out = append(out, d)
		}
	}
	o.returned += len(out)
	return out, nil
}

func (o *fakeOutbox) MarkPushed(_ context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pushed[id] = at
	return nil
}

func (o *fakeOutbox) NotePushFailure(_ context.Context, id int64, msg string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures[id] = append(o.failures[id], msg)
	return nil
}

func (o *fakeOutbox) readsFor() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.readFor)
}

func (o *fakeOutbox) isPushed(id int64) bool {
	_, ok := o.pushedAt(id)
	return ok
}

func (o *fakeOutbox) pushedAt(id int64) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.pushed[id]
	return at, ok
}

func (o *fakeOutbox) failuresOf(id int64) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.failures[id])
}

// receiver stands in for the User's endpoint without a network, so the
// pusher's timers can run on synctest's fake clock.
type receiver struct {
	mu     sync.Mutex
	start  time.Time
	got    []delivery
	answer func(id int64, attempt int) int // status code
}

type delivery struct {
	url    string
	id     int64
	at     time.Duration // since start
	status int
	header http.Header
	body   string
}

func (rc *receiver) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	id, _ := strconv.ParseInt(req.Header.Get(HeaderDocumentID), 10, 64)
	rc.mu.Lock()
	attempt := 1
	for _, d := range rc.got {
		if d.id == id {
			attempt++
		}
	}
	code := http.StatusNoContent
	if rc.answer != nil {
		code = rc.answer(id, attempt)
	}
	rc.got = append(rc.got, delivery{url: req.URL.String(), id: id, at: time.Since(rc.start), status: code, header: req.Header.Clone(), body: string(body)})
	rc.mu.Unlock()
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Body: io.NopCloser(strings.NewReader("nope")), Header: http.Header{}, Request: req,
	}, nil
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func doc(id int64, requestID, kind string) Document {
	return Document{ID: id, RequestID: requestID, Kind: kind, Code: "I0", Body: []byte(fmt.Sprintf("<doc id='%d'/>", id))}
}

type pushEnv struct {
	p      *Pusher
	outbox *fakeOutbox
	rc     *receiver
	reg    *prometheus.Registry
	log    *testkit.Buffer
}

// newPushEnv must be called inside the synctest bubble.
func newPushEnv(t *testing.T, outbox *fakeOutbox, edit ...func(*PusherConfig)) pushEnv {
	t.Helper()
	env := pushEnv{outbox: outbox, rc: &receiver{start: time.Now()}, reg: prometheus.NewRegistry(), log: &testkit.Buffer{}}
	cfg := PusherConfig{
		Outbox:     outbox,
		Relay:      "https://supplier.example/ecos/inbox?token=secret",
		Client:     &http.Client{Transport: env.rc},
		Now:        func() time.Time { return t0 },
		Log:        slogTo(env.log),
		Registerer: env.reg,
	}
	for _, e := range edit {
		e(&cfg)
	}
	p, err := NewPusher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.p = p
	return env
}

// run starts the pusher and stops it when the test ends.
func (e pushEnv) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func (e pushEnv) counter(t *testing.T, outcome string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ecos_push_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no ecos_push_total{outcome=%q}", outcome)
	return 0
}

func ids(ds []delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.id
	}
	return out
}

func TestPushInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newPushEnv(t, newOutbox(doc(1, reqID, KindAcknowledgement), doc(2, otherID, KindAcknowledgement), doc(3, reqID, "response")))
		env.run(t)
		synctest.Wait()

		got := env.rc.deliveries()
		if !slices.Equal(ids(got), []int64{1, 2, 3}) {
			t.Fatalf("delivered %v, want [1 2 3]", ids(got))
		}
		d := got[2]
		if d.at != 0 || d.body != "<doc id='3'/>" || d.header.Get("Content-Type") != "application/xml" ||
			d.header.Get(HeaderRequestID) != reqID || d.header.Get(HeaderKind) != "response" || d.header.Get(HeaderResponseCode) != "I0" {
			t.Errorf("delivery %+v", d)
		}
		for id := int64(1); id <= 3; id++ {
			if at, _ := env.outbox.pushedAt(id); !at.Equal(t0) {
				t.Errorf("document %d marked pushed at %v, want the injected clock's %v", id, at, t0)
			}
		}
		if n := env.counter(t, "delivered"); n != 3 {
			t.Errorf("delivered counter %v", n)
		}
		// Nothing is sent twice while the pusher keeps polling.
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := len(env.rc.deliveries()); n != 3 {
			t.Errorf("%d deliveries after a minute, want 3", n)
		}
	})
}

func TestPushRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox(doc(1, reqID, KindAcknowledgement), doc(2, reqID, "response"), doc(3, otherID, KindAcknowledgement))
		env := newPushEnv(t, outbox, func(c *PusherConfig) { c.Backoff = 3 * time.Second })
		env.rc.answer = func(id int64, attempt int) int {
			if id == 1 && attempt == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		env.run(t)
		time.Sleep(10 * time.Second)
		synctest.Wait()

		// 1 fails and the pass stops (the receiver is in trouble); 3, of
		// another request, goes at the next poll; 2 waits behind 1, which
		// is retried after its backoff.
		want := []delivery{{id: 1, at: 0}, {id: 3, at: time.Second}, {id: 1, at: 3 * time.Second}, {id: 2, at: 3 * time.Second}}
		got := env.rc.deliveries()
		if len(got) != len(want) {
			t.Fatalf("deliveries %+v", got)
		}
		for i := range want {
			if got[i].id != want[i].id || got[i].at != want[i].at {
				t.Errorf("delivery %d: document %d at %v, want %d at %v", i, got[i].id, got[i].at, want[i].id, want[i].at)
			}
		}
		if f := outbox.failuresOf(1); len(f) != 1 || !strings.Contains(f[0], "500") {
			t.Errorf("failures noted: %q", f)
		}
		for id := int64(1); id <= 3; id++ {
			if !outbox.isPushed(id) {
				t.Errorf("document %d not marked pushed", id)
			}
		}
		if env.counter(t, "failed") != 1 || env.counter(t, "delivered") != 3 {
			t.Errorf("counters: failed %v delivered %v", env.counter(t, "failed"), env.counter(t, "delivered"))
		}
	})
}

func TestPushAbandon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox(doc(1, reqID, KindAcknowledgement), doc(2, otherID, KindAcknowledgement), doc(3, reqID, "response"))
		env := newPushEnv(t, outbox, func(c *PusherConfig) { c.MaxAttempts = 3 })
		env.rc.answer = func(id int64, _ int) int {
			if id == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}
		env.run(t)
		time.Sleep(time.Hour)
		synctest.Wait()

		// 1 is tried at 0, 1 s and 3 s (backoff 1 s, 2 s) and abandoned;
		// 2 goes at the first pass 1 is not due; 3 waits for 1 to be
		// given up on.
		want := []delivery{{id: 1, at: 0}, {id: 1, at: time.Second}, {id: 2, at: 2 * time.Second}, {id: 1, at: 3 * time.Second}, {id: 3, at: 4 * time.Second}}
		got := env.rc.deliveries()
		if len(got) != len(want) {
			t.Fatalf("deliveries %+v", got)
		}
		for i := range want {
			if got[i].id != want[i].id || got[i].at != want[i].at {
				t.Errorf("delivery %d: document %d at %v, want %d at %v", i, got[i].id, got[i].at, want[i].id, want[i].at)
			}
		}
		if outbox.isPushed(1) || !outbox.isPushed(2) || !outbox.isPushed(3) {
			t.Errorf("pushed: 1 %v, 2 %v, 3 %v; want only 2 and 3", outbox.isPushed(1), outbox.isPushed(2), outbox.isPushed(3))
		}
		if f := outbox.failuresOf(1); len(f) != 3 || !strings.Contains(f[2], "503") {
			t.Errorf("failures noted: %q", f)
		}
		if env.counter(t, "abandoned") != 1 || env.counter(t, "failed") != 3 || env.counter(t, "delivered") != 2 {
			t.Errorf("counters: abandoned %v failed %v delivered %v",
				env.counter(t, "abandoned"), env.counter(t, "failed"), env.counter(t, "delivered"))
		}
		if !strings.Contains(env.log.String(), "level=ERROR msg=\"giving up pushing") {
			t.Errorf("abandonment not logged at Error:\n%s", env.log)
		}
	})
}

// A document the receiver rejects (4xx) says nothing about the others, so
// the pass goes on at once.
func TestPushRejectedGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newPushEnv(t, newOutbox(doc(1, reqID, KindAcknowledgement), doc(2, reqID, "response"), doc(3, otherID, KindAcknowledgement)))
		env.rc.answer = func(id int64, _ int) int {
			if id == 1 {
				return http.StatusBadRequest
			}
			return http.StatusOK
		}
		env.run(t)
		synctest.Wait()
		if got := ids(env.rc.deliveries()); !slices.Equal(got, []int64{1, 3}) {
			t.Fatalf("delivered %v, want [1 3]: 2 waits behind 1, 3 does not", got)
		}
	})
}

// A document that becomes visible late with a lower ID (a slow commit on
// PostgreSQL) can hold back a later one whose retry is already due; the
// pusher must wait for the earlier one's time, not spin.
func TestPushNoSpinBehindLateDocument(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox(doc(2, reqID, "response"))
		env := newPushEnv(t, outbox)
		env.rc.answer = func(int64, int) int { return http.StatusBadRequest }
		env.run(t)
		synctest.Wait()
		outbox.mu.Lock()
		outbox.docs = append([]Document{doc(1, reqID, KindAcknowledgement)}, outbox.docs...)
		outbox.mu.Unlock()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		outbox.mu.Lock()
		reads := outbox.reads
		outbox.mu.Unlock()
		if reads > 20 {
			t.Fatalf("%d outbox reads in 10 s of polling every second", reads)
		}
	})
}

func TestPushWake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wake := make(chan struct{})
		outbox := newOutbox()
		env := newPushEnv(t, outbox, func(c *PusherConfig) { c.Poll = time.Hour; c.Wake = wake })
		env.run(t)
		synctest.Wait()
		outbox.add(doc(1, reqID, KindAcknowledgement))
		wake <- struct{}{}
		synctest.Wait()
		got := env.rc.deliveries()
		if len(got) != 1 || got[0].at != 0 {
			t.Fatalf("deliveries %+v, want document 1 at once", got)
		}
	})
}

func TestPushOutboxDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outbox := newOutbox(doc(1, reqID, KindAcknowledgement))
		outbox.failRead = errors.New("database is locked")
		env := newPushEnv(t, outbox)
		env.run(t)
		time.Sleep(1500 * time.Millisecond)
		outbox.mu.Lock()
		outbox.failRead = nil
		outbox.mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		if got := env.rc.deliveries(); len(got) != 1 || got[0].at != 2*time.Second {
			t.Fatalf("deliveries %+v, want document 1 at the first poll after the store is back", got)
		}
		if !strings.Contains(env.log.String(), "database is locked") {
			t.Errorf("store failure not logged:\n%s", env.log)
		}
	})
}

func TestBackoff(t *testing.T) {
	p, err := NewPusher(PusherConfig{Outbox: newOutbox(), Relay: "http://localhost/"})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := p.backoff(9); got != 256*time.Second {
		t.Errorf("backoff(9) = %v, want 4m16s", got)
	}
	for _, n := range []int{10, 11, 64, 1000} {
		if got := p.backoff(n); got != 5*time.Minute {
			t.Errorf("backoff(%d) = %v, want the 5 min cap", n, got)
		}
	}
}

func TestNewPusherConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  PusherConfig
	}{
		{"fail/no outbox", PusherConfig{Relay: "https://x.example/"}},
		{"fail/no URL", PusherConfig{Outbox: newOutbox()}},
		{"fail/relative URL", PusherConfig{Outbox: newOutbox(), Relay: "/inbox"}},
		{"fail/other scheme", PusherConfig{Outbox: newOutbox(), Relay: "file:///etc/passwd"}},
		{"fail/negative attempts", PusherConfig{Outbox: newOutbox(), Relay: "https://x.example/", MaxAttempts: -1}},
		{"fail/relay and users", PusherConfig{Outbox: newOutbox(), Relay: "https://x.example/", Users: map[string]string{pushA: "https://a.example/"}}},
		{"fail/empty users", PusherConfig{Outbox: newOutbox(), Users: map[string]string{}}},
		{"fail/user not an EUI-64", PusherConfig{Outbox: newOutbox(), Users: map[string]string{"supplier-a": "https://a.example/"}}},
		{"fail/user spelt otherwise", PusherConfig{Outbox: newOutbox(), Users: map[string]string{"90B3D51F30010000": "https://a.example/"}}},
		{"fail/every user", PusherConfig{Outbox: newOutbox(), Users: map[string]string{"": "https://a.example/"}}},
		{"fail/user's URL relative", PusherConfig{Outbox: newOutbox(), Users: map[string]string{pushA: "/inbox"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewPusher(tc.cfg); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// The default client follows no redirect, and a transport failure's
// stored message does not repeat the callback URL and its token.
func TestPushDefaultClient(t *testing.T) {
	var elsewhere atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			elsewhere.Store(true)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()

	outbox := newOutbox(doc(1, reqID, KindAcknowledgement))
	p, err := NewPusher(PusherConfig{Outbox: outbox, Relay: srv.URL + "/inbox?token=secret", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.pass(context.Background())
	if elsewhere.Load() || outbox.isPushed(1) {
		t.Fatal("the redirect was followed")
	}
	if f := outbox.failuresOf(1); len(f) != 1 || !strings.Contains(f[0], "307") {
		t.Errorf("failures %q", f)
	}

	srv.Close()
	outbox = newOutbox(doc(1, reqID, KindAcknowledgement))
	p, err = NewPusher(PusherConfig{Outbox: outbox, Relay: srv.URL + "/inbox?token=secret", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.pass(context.Background())
	if f := outbox.failuresOf(1); len(f) != 1 || strings.Contains(f[0], "secret") || !strings.HasPrefix(f[0], "posting: ") {
		t.Errorf("failures %q", f)
	}
}

func TestPushStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newPushEnv(t, newOutbox())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- env.p.Run(ctx) }()
		time.Sleep(5 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	})
}
