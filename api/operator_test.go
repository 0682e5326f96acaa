package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// fakeThresholds answers from fields and records what it was asked.
type fakeThresholds struct {
	submitErr error
	actErr    error
	decideErr error
	legacy    bool
	source    string
	decided   []string
	query     store.HoldQuery
	acted     bool
}

var heldRow = store.Held{Ref: 7, Request: store.RequestID{Counter: 1}, SRV: "6.23", Breach: store.BreachUser, State: store.HoldHeld,
	HeldAt: t0, ExpiresAt: t0.Add(1)}

func (f *fakeThresholds) Submit(_ context.Context, b []byte, source string, legacy bool) (*thresholds.Accepted, error) {
	f.source, f.legacy = source, legacy
	if f.submitErr != nil {
		return nil, f.submitErr
	}
	return nil, errors.New("fake: no acceptance configured")
}

func (f *fakeThresholds) Act(context.Context, []byte) ([]store.Held, error) {
	f.acted = true
	return []store.Held{heldRow}, f.actErr
}

func (f *fakeThresholds) Decide(_ context.Context, ref uint64, release bool, by string) (store.Held, error) {
	f.decided = append(f.decided, fmt.Sprintf("%d %v %s", ref, release, by))
	return heldRow, f.decideErr
}

func (f *fakeThresholds) Show(_ context.Context, user eui.EUI) (thresholds.View, error) {
	return thresholds.View{User: user, Thresholds: []thresholds.Count{{Threshold: adt.Threshold{SRV: "6.23", Warning: 1, Quarantine: 2, Interval: 1440}, Count: 3}}}, nil
}

func (f *fakeThresholds) ShowDCC() []thresholds.Count { return nil }

func (f *fakeThresholds) Holds(_ context.Context, q store.HoldQuery) ([]store.Held, error) {
	f.query = q
	return []store.Held{heldRow}, nil
}

func problems(kind error, line int, msg string) error {
	return &adt.Problems{{Line: line, Msg: msg, Err: kind}}
}

// TestFileRoutes: refusals keep their kind (422 wrong, 409 replay or
// stale decision, 500 internal) and every problem with its line.
func TestFileRoutes(t *testing.T) {
	for name, tc := range map[string]struct {
		path      string
		f         *fakeThresholds
		code      int
		want      string
		operator  bool
		wantLegal bool
	}{
		"adt/problems":       {"/api/v1/adt", &fakeThresholds{submitErr: problems(adt.ErrRule, 3, "warning threshold 5 is above")}, 422, `"line": 3`, false, false},
		"adt/replay":         {"/api/v1/adt", &fakeThresholds{submitErr: problems(adt.ErrReplay, 1, "replay")}, 409, `"message": "replay"`, false, false},
		"adt/store-replay":   {"/api/v1/adt", &fakeThresholds{submitErr: fmt.Errorf("%w: ADT file 2", store.ErrReplay)}, 409, "file refused", false, false},
		"adt/internal":       {"/api/v1/adt", &fakeThresholds{submitErr: errors.New("disk on fire")}, 500, "internal error", false, false},
		"adt/legacy-ignored": {"/api/v1/adt?legacy=true", &fakeThresholds{submitErr: problems(adt.ErrLegacy, 1, "legacy")}, 422, "legacy", false, false},
		"operator/legacy":    {"/operator/v1/adt?legacy=true", &fakeThresholds{submitErr: problems(adt.ErrLegacy, 1, "legacy")}, 422, "legacy", true, true},
		"actions/stale":      {"/api/v1/quarantine/actions", &fakeThresholds{actErr: &store.DecisionError{Refused: []store.RefusedHold{{Ref: 9, Err: store.ErrNotFound}}}}, 409, "nothing changed", false, false},
		"actions/empty":      {"/api/v1/quarantine/actions", &fakeThresholds{actErr: ecoserr.New(ecoserr.Malformed, nil, "no QuarantineEventRef to act on")}, 422, "no QuarantineEventRef", false, false},
	} {
		t.Run(name, func(t *testing.T) {
			h := tc.f.handler(t, tc.operator)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader("file")))
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d %s; want %d with %q", rec.Code, rec.Body, tc.code, tc.want)
			}
			if strings.Contains(rec.Body.String(), "disk on fire") {
				t.Error("an internal cause reached the client")
			}
			if tc.f.source != "" && tc.f.legacy != tc.wantLegal {
				t.Errorf("legacy = %v, want %v: only the operator may carry a legacy file over", tc.f.legacy, tc.wantLegal)
			}
		})
	}
}

// TestOperatorRoutes: the operator API parses what it is given before it
// acts, and names the operator in the decision.
func TestOperatorRoutes(t *testing.T) {
	user := "90-B3-D5-1F-30-01-00-00"
	for name, tc := range map[string]struct {
		method, path string
		code         int
		want         string
	}{
		"show":           {"GET", "/operator/v1/adt/" + user, 200, `"count": 3`},
		"show/bad-user":  {"GET", "/operator/v1/adt/nobody", 400, "EUI-64"},
		"list":           {"GET", "/operator/v1/quarantine?user=" + user + "&state=held", 200, `"quarantine_event_ref": 7`},
		"list/csv":       {"GET", "/operator/v1/quarantine?format=csv", 200, "QuarantineEventRef,RequestID,"},
		"list/bad-state": {"GET", "/operator/v1/quarantine?state=limbo", 400, "state must be"},
		"list/bad-fmt":   {"GET", "/operator/v1/quarantine?format=xml", 400, "format must be"},
		"release":        {"POST", "/operator/v1/quarantine/7/release", 200, `"state": "held"`},
		"bad-ref":        {"POST", "/operator/v1/quarantine/x/release", 404, "no such QuarantineEventRef"},
		"zero-ref":       {"POST", "/operator/v1/quarantine/0/delete", 404, "no such QuarantineEventRef"},
		"bad-action":     {"POST", "/operator/v1/quarantine/7/forget", 404, "release or delete"},
		"no-user-routes": {"POST", "/api/v1/serviceS", 404, ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeThresholds{}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.Header.Set(HeaderOperator, "alice\x00\n")
			f.handler(t, true).ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.code || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d %s; want %d with %q", rec.Code, body, tc.code, tc.want)
			}
			if name == "release" && (len(f.decided) != 1 || f.decided[0] != "7 true operator:alice") {
				t.Errorf("decided %q", f.decided)
			}
			if name == "list" && (f.query.User == nil || f.query.User.String() != user || len(f.query.States) != 1) {
				t.Errorf("query %+v", f.query)
			}
		})
	}
	// A decision that no longer applies is a conflict, not a server fault.
	f := &fakeThresholds{decideErr: &store.DecisionError{Refused: []store.RefusedHold{{Ref: 7, State: store.HoldDeleted, Err: store.ErrTransition}}}}
	rec := httptest.NewRecorder()
	f.handler(t, true).ServeHTTP(rec, httptest.NewRequest("POST", "/operator/v1/quarantine/7/release", nil))
	var body FileRefusal
	if rec.Code != 409 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error != "actions refused, nothing changed: no hold decided: QuarantineEventRef 7 already deleted" {
		t.Errorf("stale decision: %d %s", rec.Code, rec.Body)
	}
}

func (f *fakeThresholds) handler(t *testing.T, operator bool) http.Handler {
	t.Helper()
	var h http.Handler
	var err error
	if operator {
		h, err = NewOperator(OperatorConfig{Thresholds: f, Token: []byte(testOperatorToken)})
		h = withToken(h)
	} else {
		h, err = New(Config{Service: &fakeService{}, Thresholds: f, PlainHTTP: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	return h
}
