package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

const (
	reqID   = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006"
	otherID = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1007"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeService answers from function fields; a nil field fails the test's
// expectations loudly rather than silently succeeding.
type fakeService struct {
	submit    func(ctx context.Context, raw []byte) (Ack, error)
	lookup    func(ctx context.Context, id string) (Status, error)
	waitFinal func(ctx context.Context, id string) error

	mu   sync.Mutex
	from []*eui.EUI // what each Submit was told of its sender
}

func (f *fakeService) Submit(ctx context.Context, raw []byte, from *eui.EUI) (Ack, error) {
	f.mu.Lock()
	f.from = append(f.from, from)
	f.mu.Unlock()
	if f.submit == nil {
		return Ack{}, errors.New("fake: unexpected Submit")
	}
	return f.submit(ctx, raw)
}

func (f *fakeService) Lookup(ctx context.Context, id string) (Status, error) {
	if f.lookup == nil {
		return Status{}, errors.New("fake: unexpected Lookup")
	}
	return f.lookup(ctx, id)
}

func (f *fakeService) WaitFinal(ctx context.Context, id string) error {
	if f.waitFinal == nil {
		return errors.New("fake: unexpected WaitFinal")
	}
	return f.waitFinal(ctx, id)
}

// statuses is a Lookup over a mutable set of requests.
type statuses struct {
	mu sync.Mutex
	m  map[string]Status
}

func newStatuses(sts ...Status) *statuses {
	s := &statuses{m: map[string]Status{}}
	for _, st := range sts {
		s.m[st.RequestID] = st
	}
	return s
}

func (s *statuses) set(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[st.RequestID] = st
}

func (s *statuses) lookup(_ context.Context, id string) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[id]
	if !ok {
		return Status{}, ErrNotFound
	}
	return st, nil
}

// completed is a request that ran its course: acknowledged, then answered.
func completed() Status {
	return Status{
		RequestID: reqID, State: "completed", ResponseCode: "I0", Final: true,
		ReceivedAt: t0, UpdatedAt: t0.Add(3 * time.Second),
		Responses: []Document{
			{ID: 7, RequestID: reqID, Kind: KindAcknowledgement, Code: "I99", Body: []byte("<ack/>"), CreatedAt: t0, PushedAt: t0.Add(time.Second)},
			{ID: 9, RequestID: reqID, Kind: "response", Code: "I0", Body: []byte("<response/>"), CreatedAt: t0.Add(3 * time.Second)},
		},
	}
}

// pending is a request accepted and still with the device.
func pending() Status {
	st := completed()
	st.State, st.ResponseCode, st.Final, st.UpdatedAt = "dispatched", "", false, t0
	st.Responses = st.Responses[:1]
	return st
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testEnv struct {
	h   http.Handler
	reg *prometheus.Registry
	log *testkit.Buffer
}

func newEnv(t *testing.T, svc Service, edit ...func(*Config)) testEnv {
	t.Helper()
	env := testEnv{reg: prometheus.NewRegistry(), log: &testkit.Buffer{}}
	cfg := Config{
		Service:    svc,
		Log:        slogTo(env.log),
		Registerer: env.reg,
		PlainHTTP:  true,
		MaxBody:    1024,
	}
	for _, e := range edit {
		e(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.h = h
	return env
}

func (e testEnv) do(method, target string, body io.Reader) *httptest.ResponseRecorder {
	return e.doRequest(httptest.NewRequest(method, target, body))
}

func (e testEnv) doRequest(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return rec
}

func TestNewConfig(t *testing.T) {
	svc := &fakeService{}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"fail/no service", Config{}, "no service"},
		{"fail/neither Users nor PlainHTTP", Config{Service: svc}, "PlainHTTP not asked for"},
		{"fail/Users and PlainHTTP", Config{Service: svc, Users: registered{}, PlainHTTP: true}, "exclude each other"},
		{"fail/negative MaxBody", Config{Service: svc, PlainHTTP: true, MaxBody: -1}, "MaxBody"},
		{"fail/negative MaxWait", Config{Service: svc, PlainHTTP: true, MaxWait: -time.Second}, "MaxWait"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
	t.Run("ok/defaults", func(t *testing.T) {
		if _, err := New(Config{Service: svc, PlainHTTP: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fail/registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := New(Config{Service: svc, PlainHTTP: true, Registerer: reg}); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Config{Service: svc, PlainHTTP: true, Registerer: reg}); err == nil {
			t.Fatal("second handler on one registry: no error")
		}
	})
}

func TestHealthz(t *testing.T) {
	env := newEnv(t, &fakeService{})
	rec := env.do("GET", "/healthz", nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Fatalf("healthz: %d %q", rec.Code, rec.Body)
	}
}

func TestMetrics(t *testing.T) {
	svc := &fakeService{submit: func(context.Context, []byte) (Ack, error) {
		return Ack{Document: []byte("<ack/>"), Accepted: true, Code: "I99"}, nil
	}}
	env := newEnv(t, svc)
	env.do("POST", "/api/v1/serviceS", strings.NewReader("<req/>"))
	env.do("GET", "/api/v1/nowhere", nil)
	env.do("GET", "/api/v1/requests/"+reqID+"/responses/0", nil)

	rec := httptest.NewRecorder()
	metricsHandler(env.reg, slogTo(io.Discard)).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	for _, want := range []string{
		`ecos_http_requests_total{code="200",route="POST /api/v1/serviceS"} 1`,
		`ecos_http_requests_total{code="404",route="unmatched"} 1`,
		`ecos_http_requests_total{code="400",route="GET /api/v1/requests/{requestID}/responses/{n}"} 1`,
		`ecos_http_request_duration_seconds_count{route="POST /api/v1/serviceS"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// One debug line per request names the route, never only the path.
	if !strings.Contains(env.log.String(), `route="POST /api/v1/serviceS" status=200`) {
		t.Errorf("no request log line:\n%s", env.log)
	}
}

// TestNoMetricsOnUsersListener: Users never see the service's metrics,
// which count every User's traffic; the operator handler serves them.
func TestNoMetricsOnUsersListener(t *testing.T) {
	env := newEnv(t, &fakeService{})
	if rec := env.do("GET", "/metrics", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("/metrics on the Users' handler: %d, want 404", rec.Code)
	}
}

func TestNosniff(t *testing.T) {
	env := newEnv(t, &fakeService{lookup: newStatuses(completed()).lookup})
	rec := env.do("GET", "/api/v1/requests/"+reqID+"/responses/2", nil)
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Fatalf("X-Content-Type-Options = %q", got)
	}
}
