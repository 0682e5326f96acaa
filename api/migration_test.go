package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/store"
)

// fakeMigration knows wave 1 (running) and records what it was asked.
type fakeMigration struct {
	mu       sync.Mutex
	notReady bool
	asked    []string
	filter   store.WaveFilter
	started  store.Wave
	devices  []eui.EUI
}

var wave1 = store.Wave{ID: 1, Name: "north", Filter: store.WaveFilter{Suppliers: []string{"SUP1"}}, Rate: 5, Concurrency: 2,
	State: store.WaveRunning, CreatedAt: t0, UpdatedAt: t0}

func (f *fakeMigration) ask(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, s)
}

func (f *fakeMigration) Plan(_ context.Context, filter store.WaveFilter) (migrate.Plan, error) {
	f.ask("plan")
	f.filter = filter
	return migrate.Plan{TCoS: 3, Unknown: 1, First: []eui.EUI{{0, 0, 0, 0, 0, 0, 0, 1}}}, nil
}

func (f *fakeMigration) Start(_ context.Context, w store.Wave) (store.Wave, error) {
	f.ask("start")
	if f.notReady {
		return store.Wave{}, &migrate.Refusal{Kind: migrate.RefusedUnavailable, Msg: "this service does not migrate: it has no migration runner"}
	}
	if w.Concurrency < 1 {
		return store.Wave{}, &migrate.Refusal{Kind: migrate.RefusedBadRequest, Msg: "wave x: concurrency 0: want 1 to 100000"}
	}
	f.started = w
	return wave1, nil
}

func (f *fakeMigration) Act(_ context.Context, id store.WaveID, action, note string) (store.Wave, error) {
	f.ask(action + " " + note)
	if id != 1 {
		return store.Wave{}, &migrate.Refusal{Kind: migrate.RefusedNotFound, Msg: "not found: wave 9"}
	}
	if action == migrate.ActionResume {
		return store.Wave{}, &migrate.Refusal{Kind: migrate.RefusedBadRequest, Msg: "wave 1 is running, not paused"}
	}
	return wave1, nil
}

func (f *fakeMigration) ActOnDevices(_ context.Context, action, note string, ds []eui.EUI) ([]migrate.DeviceResult, error) {
	f.ask(action + " " + note)
	f.devices = ds
	out := make([]migrate.DeviceResult, len(ds))
	for i, d := range ds {
		out[i] = migrate.DeviceResult{Device: d, From: store.MigrationException, To: store.MigrationQueued}
	}
	if len(ds) > 1 {
		out[1] = migrate.DeviceResult{Device: ds[1], From: store.MigrationECoS, Err: "a device in ecos cannot be retried (only an exception can)"}
	}
	return out, nil
}

func (f *fakeMigration) Progress(_ context.Context, id store.WaveID) (migrate.WaveProgress, error) {
	if id != 1 {
		return migrate.WaveProgress{}, &migrate.Refusal{Kind: migrate.RefusedNotFound, Msg: "not found: wave 9"}
	}
	return migrate.WaveProgress{Wave: wave1, Counts: map[store.MigrationState]int64{store.MigrationECoS: 4, store.MigrationQueued: 2}, Untaken: 7}, nil
}

func (f *fakeMigration) Waves(ctx context.Context) ([]migrate.WaveProgress, error) {
	p, err := f.Progress(ctx, 1)
	return []migrate.WaveProgress{p}, err
}

func (f *fakeMigration) handler(t *testing.T) http.Handler {
	t.Helper()
	h, err := NewOperator(OperatorConfig{Thresholds: &fakeThresholds{}, Migration: f, Token: []byte(testOperatorToken)})
	if err != nil {
		t.Fatal(err)
	}
	return withToken(h)
}

const dev1 = "00-00-00-00-00-00-00-01"

// Every migration route: its codes (400 for what the request gets wrong,
// naming it; 404 for no such wave; 503 when the service cannot migrate;
// 201 for a new wave), its body, and that nothing is asked of the
// migration when the request is refused.
func TestMigrationRoutes(t *testing.T) {
	for name, tc := range map[string]struct {
		method, path, body string
		notReady           bool
		code               int
		want               string
		asked              string // what the fake was asked, "" for nothing
	}{
		"plan": {"POST", "/operator/v1/migration/plan", `{"filter":{"suppliers":["SUP1"],"mpxn_prefix":"14"}}`, false, 200, `"migrate": 3,`, "plan"},
		"plan/sample": {"POST", "/operator/v1/migration/plan", `{"filter":{}}`, false, 200, `"first": [
    "00-00-00-00-00-00-00-01"
  ]`, "plan"},
		"plan/bad-json":        {"POST", "/operator/v1/migration/plan", `{"filter":`, false, 400, "request body: unexpected EOF", ""},
		"plan/unknown-field":   {"POST", "/operator/v1/migration/plan", `{"filter":{"supplier":["SUP1"]}}`, false, 400, `unknown field \"supplier\"`, ""},
		"plan/trailing":        {"POST", "/operator/v1/migration/plan", `{"filter":{}} {}`, false, 400, "data after the JSON object", ""},
		"plan/empty":           {"POST", "/operator/v1/migration/plan", ``, false, 400, "request body is empty", ""},
		"plan/bad-eui":         {"POST", "/operator/v1/migration/plan", `{"filter":{"devices":["nonsense"]}}`, false, 400, "request body:", ""},
		"plan/bad-date":        {"POST", "/operator/v1/migration/plan", `{"filter":{"installed_from":"2024-13-01"}}`, false, 400, "request body:", ""},
		"start":                {"POST", "/operator/v1/migration/waves", `{"name":"north","filter":{},"rate":5,"concurrency":2}`, false, 201, `"untaken": 7`, "start"},
		"start/not-ready":      {"POST", "/operator/v1/migration/waves", `{"name":"north","concurrency":2}`, true, 503, "no migration runner", "start"},
		"start/refused":        {"POST", "/operator/v1/migration/waves", `{"name":"x"}`, false, 400, "concurrency 0", "start"},
		"start/wrong-type":     {"POST", "/operator/v1/migration/waves", `{"name":"x","rate":"fast"}`, false, 400, "request body:", ""},
		"waves":                {"GET", "/operator/v1/migration/waves", ``, false, 200, `"ecos": 4`, ""},
		"wave":                 {"GET", "/operator/v1/migration/waves/1", ``, false, 200, `"state": "running"`, ""},
		"wave/unknown":         {"GET", "/operator/v1/migration/waves/9", ``, false, 404, "not found: wave 9", ""},
		"wave/zero":            {"GET", "/operator/v1/migration/waves/0", ``, false, 400, `wave \"0\" is not a wave number`, ""},
		"wave/word":            {"GET", "/operator/v1/migration/waves/north", ``, false, 400, `wave \"north\" is not a wave number`, ""},
		"wave/huge":            {"GET", "/operator/v1/migration/waves/99999999999999999999", ``, false, 400, "is not a wave number", ""},
		"pause":                {"POST", "/operator/v1/migration/waves/1/pause", `{"note":"night"}`, false, 200, `"name": "north"`, "pause night"},
		"pause/no-body":        {"POST", "/operator/v1/migration/waves/1/pause", ``, false, 200, `"name": "north"`, "pause "},
		"pause/bad-json":       {"POST", "/operator/v1/migration/waves/1/pause", `note`, false, 400, "request body:", ""},
		"pause/unknown-field":  {"POST", "/operator/v1/migration/waves/1/pause", `{"reason":"x"}`, false, 400, `unknown field \"reason\"`, ""},
		"pause/control-note":   {"POST", "/operator/v1/migration/waves/1/pause", `{"note":"a\u0000b"}`, false, 400, "note: want printable text", ""},
		"pause/unknown-wave":   {"POST", "/operator/v1/migration/waves/9/pause", ``, false, 404, "not found: wave 9", "pause "},
		"resume/refused":       {"POST", "/operator/v1/migration/waves/1/resume", ``, false, 400, "wave 1 is running, not paused", "resume "},
		"cancel":               {"POST", "/operator/v1/migration/waves/1/cancel", `{"note":"wrong filter"}`, false, 200, `"id": 1`, "cancel wrong filter"},
		"wave/unknown-action":  {"POST", "/operator/v1/migration/waves/1/explode", ``, false, 400, `no wave action \"explode\": want pause, resume or cancel`, ""},
		"wave/bad-number":      {"POST", "/operator/v1/migration/waves/-1/pause", ``, false, 400, "is not a wave number", ""},
		"retry":                {"POST", "/operator/v1/migration/devices/retry", `{"note":"fixed","devices":["` + dev1 + `","00-00-00-00-00-00-00-02"]}`, false, 200, `"error": "a device in ecos cannot be retried`, "retry fixed"},
		"exclude":              {"POST", "/operator/v1/migration/devices/exclude", `{"note":"replaced","devices":["` + dev1 + `"]}`, false, 200, `"to": "queued"`, "exclude replaced"},
		"readback":             {"POST", "/operator/v1/migration/devices/readback", `{"note":"check","devices":["` + dev1 + `"]}`, false, 200, `"from": "exception"`, "readback check"},
		"devices/no-note":      {"POST", "/operator/v1/migration/devices/retry", `{"note":"  ","devices":["` + dev1 + `"]}`, false, 400, "needs a note saying why", ""},
		"devices/none":         {"POST", "/operator/v1/migration/devices/retry", `{"note":"x","devices":[]}`, false, 400, "0 devices: name 1 to 1000", ""},
		"devices/bad-eui":      {"POST", "/operator/v1/migration/devices/exclude", `{"note":"x","devices":["00-00"]}`, false, 400, "request body:", ""},
		"devices/unknown":      {"POST", "/operator/v1/migration/devices/delete", `{"note":"x","devices":["` + dev1 + `"]}`, false, 400, `no device action \"delete\": want retry, exclude or readback`, ""},
		"devices/long-note":    {"POST", "/operator/v1/migration/devices/retry", `{"note":"` + strings.Repeat("n", 501) + `","devices":["` + dev1 + `"]}`, false, 400, "at most 500 bytes", ""},
		"devices/wrong-method": {"GET", "/operator/v1/migration/devices/retry", ``, false, 405, "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeMigration{notReady: tc.notReady}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			f.handler(t).ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want %d with %q", rec.Code, body, tc.code, tc.want)
			}
			if rec.Code >= 400 && rec.Code != 405 {
				var e errorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || strings.Contains(e.Error, "\n") {
					t.Errorf("error body %q is not one JSON error sentence", body)
				}
			}
			if got := strings.Join(f.asked, ","); got != tc.asked {
				t.Errorf("asked %q, want %q", got, tc.asked)
			}
		})
	}
}

// A wave's view carries every field; a plan's filter arrives as sent.
func TestMigrationBodies(t *testing.T) {
	f := &fakeMigration{}
	rec := httptest.NewRecorder()
	f.handler(t).ServeHTTP(rec, httptest.NewRequest("GET", "/operator/v1/migration/waves/1", nil))
	var v WaveView
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	want := WaveView{ID: 1, Name: "north", State: "running", Filter: wave1.Filter, Rate: 5, Concurrency: 2,
		CreatedAt: "2026-03-01T12:00:00Z", UpdatedAt: "2026-03-01T12:00:00Z", Devices: map[string]int64{"ecos": 4, "queued": 2}, Untaken: 7}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("wave view (-want +got):\n%s", d)
	}
	rec = httptest.NewRecorder()
	f.handler(t).ServeHTTP(rec, httptest.NewRequest("POST", "/operator/v1/migration/plan",
		strings.NewReader(`{"filter":{"installed_from":"2023-06-01T00:00:00Z","devices":["`+dev1+`"],"mpxn_prefix":"1%"}}`)))
	if rec.Code != 200 || f.filter.MPxNPrefix != "1%" || f.filter.InstalledFrom.Year() != 2023 || len(f.filter.Devices) != 1 {
		t.Errorf("plan: %d %s, filter %+v", rec.Code, rec.Body, f.filter)
	}
}

// A body over 1 MiB is 413 and the migration is asked nothing.
func TestMigrationBodyLimit(t *testing.T) {
	big := `{"note":"x","devices":[` + strings.Repeat(`"`+dev1+`",`, 50000) + `"` + dev1 + `"]}`
	for _, path := range []string{"/operator/v1/migration/devices/retry", "/operator/v1/migration/plan", "/operator/v1/migration/waves",
		"/operator/v1/migration/waves/1/pause"} {
		f := &fakeMigration{}
		rec := httptest.NewRecorder()
		f.handler(t).ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(big)))
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "request body is over 1048576 bytes") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if len(f.asked) != 0 {
			t.Errorf("%s: asked %v", path, f.asked)
		}
	}
}

// Without a Migration the routes are not there.
func TestMigrationRoutesAbsent(t *testing.T) {
	h, err := NewOperator(OperatorConfig{Thresholds: &fakeThresholds{}, Token: []byte(testOperatorToken)})
	if err != nil {
		t.Fatal(err)
	}
	h = withToken(h)
	for _, r := range [][2]string{{"POST", "/operator/v1/migration/plan"}, {"GET", "/operator/v1/migration/waves"},
		{"GET", "/operator/v1/migration/waves/1"}, {"POST", "/operator/v1/migration/devices/retry"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r[0], r[1], strings.NewReader(`{}`)))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s: %d without a migration", r[0], r[1], rec.Code)
		}
	}
}

// The client's methods against the handler: values through, refusals as
// *MigrationError with the status and the server's sentence.
func TestClientMigration(t *testing.T) {
	f := &fakeMigration{}
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client()}
	ctx := t.Context()

	p, err := c.PlanWave(ctx, store.WaveFilter{Models: []string{"M1"}})
	if err != nil || p.Migrate != 3 || p.ReadBack != 1 || len(p.First) != 1 || f.filter.Models[0] != "M1" {
		t.Errorf("plan: %+v, %v", p, err)
	}
	w, err := c.StartWave(ctx, WaveRequest{Name: "north", Rate: 5, Concurrency: 2})
	if err != nil || w.ID != 1 || w.Untaken != 7 || f.started.Name != "north" || f.started.Rate != 5 || f.started.Concurrency != 2 {
		t.Errorf("start: %+v, %v (started %+v)", w, err, f.started)
	}
	_, err = c.StartWave(ctx, WaveRequest{Name: "x"})
	var me *MigrationError
	if !errors.As(err, &me) || me.Status != 400 || me.Msg != "wave x: concurrency 0: want 1 to 100000" {
		t.Errorf("refused start: %v", err)
	}
	if w, err := c.Wave(ctx, 1); err != nil || w.Devices["ecos"] != 4 {
		t.Errorf("wave: %+v, %v", w, err)
	}
	if _, err := c.Wave(ctx, 9); !errors.As(err, &me) || me.Status != 404 || me.Msg != "not found: wave 9" {
		t.Errorf("unknown wave: %v", err)
	}
	if ws, err := c.Waves(ctx); err != nil || len(ws) != 1 || ws[0].Name != "north" {
		t.Errorf("waves: %+v, %v", ws, err)
	}
	if w, err := c.ActOnWave(ctx, 1, "pause", "night"); err != nil || w.ID != 1 {
		t.Errorf("pause: %+v, %v", w, err)
	}
	if _, err := c.ActOnWave(ctx, 1, "resume", ""); !errors.As(err, &me) || me.Status != 400 || me.Msg != "wave 1 is running, not paused" {
		t.Errorf("resume: %v", err)
	}
	if _, err := c.ActOnWave(ctx, 1, "../../plan", ""); !errors.As(err, &me) && err == nil {
		t.Errorf("path in an action: %v", err)
	}
	ds := []eui.EUI{{0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 2}}
	res, err := c.ActOnDevices(ctx, "retry", "fixed", ds)
	if err != nil || len(res) != 2 || res[0].To != "queued" || res[1].Error == "" || len(f.devices) != 2 {
		t.Errorf("retry: %+v, %v", res, err)
	}
	if _, err := c.ActOnDevices(ctx, "retry", "fixed", nil); err == nil {
		t.Error("no devices: no error")
	}
	if _, err := c.ActOnDevices(ctx, "retry", "", ds[:1]); !errors.As(err, &me) || me.Status != 400 {
		t.Errorf("no note: %v", err)
	}
	f.notReady = true
	if _, err := c.StartWave(ctx, WaveRequest{Name: "n", Concurrency: 1}); !errors.As(err, &me) || me.Status != 503 {
		t.Errorf("not ready: %v", err)
	}
}
