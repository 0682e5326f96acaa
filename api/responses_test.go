package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestResponseFinal(t *testing.T) {
	refused := Status{
		RequestID: reqID, State: "refused", Reason: "replayed counter", ResponseCode: "E3", Final: true,
		Responses: []Document{{ID: 3, RequestID: reqID, Kind: KindAcknowledgement, Code: "E3", Body: []byte("<refusal/>")}},
	}
	alerted := completed()
	alerted.Responses = append(alerted.Responses, Document{ID: 12, RequestID: reqID, Kind: "alert", Code: "I0", Body: []byte("<alert/>")})
	tests := []struct {
		name             string
		st               Status
		wantBody, wantRC string
		wantState        string
	}{
		{"ok/answered", completed(), "<response/>", "I0", "completed"},
		{"ok/refused at intake", refused, "<refusal/>", "E3", "refused"},
		{"ok/newest wins", alerted, "<alert/>", "I0", "completed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{lookup: newStatuses(tc.st).lookup} // no WaitFinal: a final request needs none
			env := newEnv(t, svc)
			rec := env.do("GET", "/api/v1/responses/"+reqID+"?wait=30s", nil)
			if rec.Code != http.StatusOK || rec.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q, want 200 %q", rec.Code, rec.Body, tc.wantBody)
			}
			h := rec.Header()
			if h.Get(HeaderResponseCode) != tc.wantRC || h.Get(HeaderState) != tc.wantState || h.Get("Content-Type") != "application/xml" {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestResponseFinalWithoutDocuments(t *testing.T) {
	st := completed()
	st.Responses = nil
	env := newEnv(t, &fakeService{lookup: newStatuses(st).lookup})
	if rec := env.do("GET", "/api/v1/responses/"+reqID, nil); rec.Code != http.StatusInternalServerError {
		t.Fatalf("%d, want 500", rec.Code)
	}
}

func TestResponseNoWait(t *testing.T) {
	env := newEnv(t, &fakeService{lookup: newStatuses(pending()).lookup})
	rec := env.do("GET", "/api/v1/responses/"+reqID, nil)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("%d %s, want 202", rec.Code, rec.Body)
	}
	var body statusBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Final || body.State != "dispatched" || body.RequestID != reqID {
		t.Errorf("status %+v", body)
	}
}

// TestLongPoll runs in a synctest bubble: the waits below are fake time,
// so the test checks exact durations and takes none.
func TestLongPoll(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		finalIn   time.Duration // 0: never
		wantCode  int
		wantAfter time.Duration
	}{
		{"ok/answer arrives", "?wait=30s", 5 * time.Second, http.StatusOK, 5 * time.Second},
		{"ok/wait runs out", "?wait=30s", 0, http.StatusAccepted, 30 * time.Second},
		{"ok/answer too late", "?wait=2s", 5 * time.Second, http.StatusAccepted, 2 * time.Second},
		{"ok/wait capped", "?wait=1000h", 0, http.StatusAccepted, 45 * time.Second},
		{"ok/zero wait", "?wait=0s", 5 * time.Second, http.StatusAccepted, 0},
		{"ok/empty wait", "?wait=", 5 * time.Second, http.StatusAccepted, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sts := newStatuses(pending())
				svc := &fakeService{lookup: sts.lookup, waitFinal: func(ctx context.Context, id string) error {
					if id != reqID {
						return errors.New("wrong id")
					}
					var done <-chan time.Time
					if tc.finalIn > 0 {
						done = time.After(tc.finalIn)
					}
					select {
					case <-done:
						sts.set(completed())
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}}
				env := newEnv(t, svc, func(c *Config) { c.MaxWait = 45 * time.Second })
				start := time.Now()
				rec := env.do("GET", "/api/v1/responses/"+reqID+tc.query, nil)
				if rec.Code != tc.wantCode {
					t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.wantCode)
				}
				if took := time.Since(start); took != tc.wantAfter {
					t.Errorf("answered after %v, want %v", took, tc.wantAfter)
				}
				if tc.wantCode == http.StatusOK && rec.Body.String() != "<response/>" {
					t.Errorf("body %q", rec.Body)
				}
			})
		})
	}
}

func TestLongPollClientGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := &fakeService{lookup: newStatuses(pending()).lookup, waitFinal: func(ctx context.Context, _ string) error {
			<-ctx.Done()
			return ctx.Err()
		}}
		env := newEnv(t, svc)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(3*time.Second, cancel)
		r, _ := http.NewRequestWithContext(ctx, "GET", "/api/v1/responses/"+reqID+"?wait=30s", nil)
		start := time.Now()
		rec := env.doRequest(r)
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("returned after %v, want 3s", took)
		}
		if rec.Code != statusClientClosed || strings.Contains(env.log.String(), "level=ERROR") {
			t.Errorf("status %d, log:\n%s", rec.Code, env.log)
		}
	})
}

func TestLongPollErrors(t *testing.T) {
	tests := []struct {
		name     string
		waitErr  error
		wantCode int
	}{
		{"fail/vanished", ErrNotFound, http.StatusNotFound},
		{"fail/internal", errors.New("store: disk I/O error"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{lookup: newStatuses(pending()).lookup, waitFinal: func(context.Context, string) error { return tc.waitErr }}
			env := newEnv(t, svc)
			rec := env.do("GET", "/api/v1/responses/"+reqID+"?wait=1s", nil)
			if rec.Code != tc.wantCode || strings.Contains(rec.Body.String(), "disk") {
				t.Fatalf("%d %q, want %d without the cause", rec.Code, rec.Body, tc.wantCode)
			}
		})
	}
}

func TestResponseBadInput(t *testing.T) {
	env := newEnv(t, &fakeService{lookup: newStatuses(pending()).lookup})
	tests := []struct {
		name, target string
		wantCode     int
	}{
		{"fail/unknown", "/api/v1/responses/90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1", http.StatusNotFound},
		{"fail/bad id", "/api/v1/responses/not-an-id", http.StatusBadRequest},
		{"fail/traversal", "/api/v1/responses/..%2F..%2Fetc%2Fpasswd?wait=1s", http.StatusBadRequest},
		{"fail/wait without unit", "/api/v1/responses/" + reqID + "?wait=30", http.StatusBadRequest},
		{"fail/wait words", "/api/v1/responses/" + reqID + "?wait=forever", http.StatusBadRequest},
		{"fail/negative wait", "/api/v1/responses/" + reqID + "?wait=-1s", http.StatusBadRequest},
		{"fail/huge wait", "/api/v1/responses/" + reqID + "?wait=99999999999999h", http.StatusBadRequest},
		{"fail/two waits", "/api/v1/responses/" + reqID + "?wait=1s&wait=2s", http.StatusBadRequest},
		{"fail/bad escape", "/api/v1/responses/" + reqID + "?wait=%zz", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rec := env.do("GET", tc.target, nil); rec.Code != tc.wantCode {
				t.Fatalf("%s: %d %s, want %d", tc.target, rec.Code, rec.Body, tc.wantCode)
			}
		})
	}
}

// TestLongPollShutdown: when the service stops, a waiting long poll is
// answered at once with where its request stands, not left to the
// server's shutdown deadline.
func TestLongPollShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := &fakeService{lookup: newStatuses(pending()).lookup, waitFinal: func(ctx context.Context, _ string) error {
			<-ctx.Done()
			return ctx.Err()
		}}
		stopping, stop := context.WithCancel(context.Background())
		env := newEnv(t, svc, func(c *Config) { c.Stopping = stopping })
		time.AfterFunc(3*time.Second, stop)
		start := time.Now()
		rec := env.do("GET", "/api/v1/responses/"+reqID+"?wait=30s", nil)
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("answered after %v, want 3s (at shutdown)", took)
		}
		if rec.Code != http.StatusAccepted {
			t.Fatalf("%d %s, want 202 with the request's state", rec.Code, rec.Body)
		}
	})
}
