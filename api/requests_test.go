package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestStatusJSON(t *testing.T) {
	env := newEnv(t, &fakeService{lookup: newStatuses(completed()).lookup})
	rec := env.do("GET", "/api/v1/requests/"+reqID, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// The shape is the contract in docs/api.md; compare it whole.
	want := `{
	  "request_id": "` + reqID + `",
	  "state": "completed",
	  "final": true,
	  "reason": "",
	  "response_code": "I0",
	  "received_at": "2026-03-01T12:00:00Z",
	  "updated_at": "2026-03-01T12:00:03Z",
	  "responses": [
	    {"id": 7, "kind": "acknowledgement", "code": "I99", "created_at": "2026-03-01T12:00:00Z",
	     "pushed_at": "2026-03-01T12:00:01Z", "url": "/api/v1/requests/` + reqID + `/responses/1"},
	    {"id": 9, "kind": "response", "code": "I0", "created_at": "2026-03-01T12:00:03Z",
	     "url": "/api/v1/requests/` + reqID + `/responses/2"}
	  ]
	}`
	var gotC, wantC bytes.Buffer
	if err := json.Compact(&gotC, rec.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&wantC, []byte(want)); err != nil {
		t.Fatal(err)
	}
	if gotC.String() != wantC.String() {
		t.Errorf("JSON\n got %s\nwant %s", gotC.String(), wantC.String())
	}
}

func TestStatusNoResponses(t *testing.T) {
	st := pending()
	st.Responses = nil
	env := newEnv(t, &fakeService{lookup: newStatuses(st).lookup})
	rec := env.do("GET", "/api/v1/requests/"+reqID, nil)
	if !strings.Contains(rec.Body.String(), `"responses": []`) {
		t.Errorf("responses should be an empty list, not null:\n%s", rec.Body)
	}
}

func TestStatusErrors(t *testing.T) {
	svc := &fakeService{lookup: func(_ context.Context, id string) (Status, error) {
		if id == otherID {
			return Status{}, errors.New("pq: connection refused to 10.0.0.5")
		}
		return newStatuses(completed()).lookup(context.Background(), id)
	}}
	env := newEnv(t, svc)
	tests := []struct {
		name, path string
		wantCode   int
	}{
		{"ok/lower case is canonicalised", "/api/v1/requests/" + strings.ToLower(reqID), http.StatusOK},
		{"fail/unknown", "/api/v1/requests/90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1", http.StatusNotFound},
		{"fail/internal", "/api/v1/requests/" + otherID, http.StatusInternalServerError},
		{"fail/garbage", "/api/v1/requests/garbage", http.StatusBadRequest},
		{"fail/compact EUI", "/api/v1/requests/90B3D51F30010000:00DB1234567890A0:1006", http.StatusBadRequest},
		{"fail/leading zero", "/api/v1/requests/90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:01006", http.StatusBadRequest},
		{"fail/negative counter", "/api/v1/requests/90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:-1", http.StatusBadRequest},
		{"fail/counter overflow", "/api/v1/requests/90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551616", http.StatusBadRequest},
		{"fail/encoded traversal", "/api/v1/requests/..%2F..%2Fetc%2Fpasswd", http.StatusBadRequest},
		{"fail/encoded NUL", "/api/v1/requests/90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006%00", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := env.do("GET", tc.path, nil)
			if rec.Code != tc.wantCode {
				t.Fatalf("%s: %d %s, want %d", tc.path, rec.Code, rec.Body, tc.wantCode)
			}
			if tc.wantCode == http.StatusOK {
				return
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Fatalf("want a JSON error, got %q", rec.Body)
			}
			for _, leak := range []string{"pq:", "10.0.0.5", "passwd"} {
				if strings.Contains(body.Error, leak) {
					t.Errorf("error body %q leaks %q", body.Error, leak)
				}
			}
		})
	}
}

func TestDocument(t *testing.T) {
	env := newEnv(t, &fakeService{lookup: newStatuses(completed()).lookup})
	tests := []struct {
		n        string
		wantCode int
		wantBody string
		wantKind string
	}{
		{"1", http.StatusOK, "<ack/>", KindAcknowledgement},
		{"2", http.StatusOK, "<response/>", "response"},
		{"3", http.StatusNotFound, "", ""},
		{"0", http.StatusBadRequest, "", ""},
		{"-1", http.StatusBadRequest, "", ""},
		{"x", http.StatusBadRequest, "", ""},
		{"1.0", http.StatusBadRequest, "", ""},
		{"99999999999999999999999", http.StatusBadRequest, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.n, func(t *testing.T) {
			rec := env.do("GET", "/api/v1/requests/"+reqID+"/responses/"+tc.n, nil)
			if rec.Code != tc.wantCode {
				t.Fatalf("n=%s: %d %s, want %d", tc.n, rec.Code, rec.Body, tc.wantCode)
			}
			if tc.wantCode != http.StatusOK {
				return
			}
			if rec.Body.String() != tc.wantBody {
				t.Errorf("body %q, want %q", rec.Body, tc.wantBody)
			}
			h := rec.Header()
			if h.Get("Content-Type") != "application/xml" || h.Get(HeaderKind) != tc.wantKind || h.Get(HeaderRequestID) != reqID {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestDocumentUnknownRequest(t *testing.T) {
	env := newEnv(t, &fakeService{lookup: newStatuses().lookup})
	if rec := env.do("GET", "/api/v1/requests/"+reqID+"/responses/1", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("%d, want 404", rec.Code)
	}
}
