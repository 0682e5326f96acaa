package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestIntake(t *testing.T) {
	tests := []struct {
		name     string
		ack      Ack
		err      error
		wantCode int
		wantBody string
	}{
		{"ok/accepted", Ack{Document: []byte("<ack code='I99'/>"), Accepted: true, Code: "I99"}, nil, http.StatusOK, "<ack code='I99'/>"},
		{"ok/refused", Ack{Document: []byte("<ack code='E3'/>"), Code: "E3"}, nil, http.StatusBadRequest, "<ack code='E3'/>"},
		{"fail/internal", Ack{}, errors.New("sqlite: database is locked at /var/lib/ecos/ecos.db"), http.StatusInternalServerError, "internal error\n"},
		{"fail/empty ack", Ack{Accepted: true}, nil, http.StatusInternalServerError, "internal error\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			svc := &fakeService{submit: func(_ context.Context, raw []byte) (Ack, error) {
				got = raw
				return tc.ack, tc.err
			}}
			env := newEnv(t, svc)
			rec := env.do("POST", "/api/v1/serviceS", strings.NewReader("<sr:Request/>"))
			if rec.Code != tc.wantCode || rec.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tc.wantCode, tc.wantBody)
			}
			if string(got) != "<sr:Request/>" {
				t.Errorf("Submit got %q", got)
			}
			if tc.wantCode == http.StatusInternalServerError {
				if strings.Contains(rec.Body.String(), "sqlite") {
					t.Error("the internal cause reached the client")
				}
				if !strings.Contains(env.log.String(), "level=ERROR") {
					t.Errorf("internal failure not logged at Error:\n%s", env.log)
				}
				if tc.err != nil && !strings.Contains(env.log.String(), "database is locked") {
					t.Errorf("the cause was not logged:\n%s", env.log)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/xml" {
				t.Errorf("Content-Type %q", ct)
			}
			if rc := rec.Header().Get(HeaderResponseCode); rc != tc.ack.Code {
				t.Errorf("%s = %q, want %q", HeaderResponseCode, rc, tc.ack.Code)
			}
		})
	}
}

// countingReader counts what the handler pulls from the wire.
type countingReader struct {
	mu sync.Mutex
	r  io.Reader
	n  int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += n
	c.mu.Unlock()
	return n, err
}

func TestIntakeBodySize(t *testing.T) {
	const maxBody = 1024
	tests := []struct {
		name    string
		size    int
		wantLen int
	}{
		{"ok/empty", 0, 0},
		{"ok/at limit", maxBody, maxBody},
		{"ok/one over", maxBody + 1, maxBody + 1},
		{"ok/far over", 10 << 20, maxBody + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			called := false
			svc := &fakeService{submit: func(_ context.Context, raw []byte) (Ack, error) {
				got, called = raw, true
				// The Service, not the edge, refuses the oversized request.
				return Ack{Document: []byte("<refused/>"), Code: "E2"}, nil
			}}
			env := newEnv(t, svc, func(c *Config) { c.MaxBody = maxBody })
			body := &countingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), tc.size))}
			rec := env.do("POST", "/api/v1/serviceS", body)
			if !called {
				t.Fatal("Submit was not called")
			}
			if len(got) != tc.wantLen {
				t.Errorf("Submit got %d bytes, want %d", len(got), tc.wantLen)
			}
			if rec.Code != http.StatusBadRequest || rec.Body.String() != "<refused/>" {
				t.Errorf("got %d %q, want the signed refusal", rec.Code, rec.Body)
			}
			// One byte beyond the MaxBody+1 handed on is read to see that
			// the body goes on; nothing more.
			if body.n > maxBody+2 {
				t.Errorf("read %d bytes of the body, want at most %d", body.n, maxBody+2)
			}
		})
	}
}

func TestIntakeMethod(t *testing.T) {
	env := newEnv(t, &fakeService{})
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		rec := env.do(m, "/api/v1/serviceS", nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, rec.Code)
		}
	}
	if rec := env.do("POST", "/api/v1/services", nil); rec.Code != http.StatusNotFound {
		t.Errorf("lower-case path: %d, want 404 (the DCC Boxed path is case-sensitive)", rec.Code)
	}
}

func TestIntakeClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	svc := &fakeService{submit: func(ctx context.Context, _ []byte) (Ack, error) {
		cancel()
		return Ack{}, ctx.Err()
	}}
	env := newEnv(t, svc)
	r, _ := http.NewRequestWithContext(ctx, "POST", "/api/v1/serviceS", strings.NewReader("<r/>"))
	rec := env.doRequest(r)
	if rec.Code != statusClientClosed {
		t.Errorf("status %d, want %d", rec.Code, statusClientClosed)
	}
	if strings.Contains(env.log.String(), "level=ERROR") {
		t.Errorf("a client leaving is not a server error:\n%s", env.log)
	}
}
