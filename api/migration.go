package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/store"
)

// Migration is the operator's hand on the migration; *migrate.Operator is
// one.
type Migration interface {
	Plan(ctx context.Context, f store.WaveFilter) (migrate.Plan, error)
	Start(ctx context.Context, w store.Wave) (store.Wave, error)
	Act(ctx context.Context, id store.WaveID, action, note string) (store.Wave, error)
	ActOnDevices(ctx context.Context, action, note string, ds []eui.EUI) ([]migrate.DeviceResult, error)
	Progress(ctx context.Context, id store.WaveID) (migrate.WaveProgress, error)
	Waves(ctx context.Context) ([]migrate.WaveProgress, error)
}

// WaveRequest is POST /operator/v1/migration/waves and, without name and
// limits, /operator/v1/migration/plan.
type WaveRequest struct {
	Name        string           `json:"name"`
	Filter      store.WaveFilter `json:"filter"`
	Rate        float64          `json:"rate"`
	Concurrency int              `json:"concurrency"`
}

// WaveView is a wave and its devices per state.
type WaveView struct {
	ID          int64            `json:"id"`
	Name        string           `json:"name"`
	State       string           `json:"state"`
	Reason      string           `json:"reason,omitempty"`
	Filter      store.WaveFilter `json:"filter"`
	Rate        float64          `json:"rate"`
	Concurrency int              `json:"concurrency"`
	CreatedAt   string           `json:"created_at"`
	UpdatedAt   string           `json:"updated_at"`
	Devices     map[string]int64 `json:"devices"` // per state
	Untaken     int64            `json:"untaken"` // matching devices not taken yet
}

// PlanView is POST /operator/v1/migration/plan.
type PlanView struct {
	Migrate  int64     `json:"migrate"`   // tcos devices the wave would send mode 6 to
	ReadBack int64     `json:"read_back"` // unknown devices it would read back first
	First    []eui.EUI `json:"first"`
}

// DeviceAction is POST /operator/v1/migration/devices/{action}.
type DeviceAction struct {
	Note    string    `json:"note"`
	Devices []eui.EUI `json:"devices"`
}

// DeviceActionResult is one device's result.
type DeviceActionResult struct {
	Device eui.EUI `json:"device"`
	From   string  `json:"from,omitempty"`
	To     string  `json:"to,omitempty"`
	Error  string  `json:"error,omitempty"`
}

func (s *server) migrationRoutes(mux *http.ServeMux) {
	mux.Handle("POST /operator/v1/migration/plan", s.handle(s.postPlan, writeJSONError))
	mux.Handle("GET /operator/v1/migration/waves", s.handle(s.getWaves, writeJSONError))
	mux.Handle("POST /operator/v1/migration/waves", s.handle(s.postWave, writeJSONError))
	mux.Handle("GET /operator/v1/migration/waves/{id}", s.handle(s.getWave, writeJSONError))
	mux.Handle("POST /operator/v1/migration/waves/{id}/{action}", s.handle(s.postWaveAction, writeJSONError))
	mux.Handle("POST /operator/v1/migration/devices/{action}", s.handle(s.postDeviceAction, writeJSONError))
}

// maxJSONBody bounds an operator request's JSON body: a device action of
// 1,000 devices, or a wave's list of 10,000, is well under it.
const maxJSONBody = 1 << 20

// errEmptyBody is a request with no body at all.
var errEmptyBody = errors.New("empty body")

// readJSON decodes the request's one JSON object into v: a body over
// maxJSONBody is 413, anything else wrong (not JSON, an unknown field, a
// second value after the first, no body) is 400 naming what.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("data after the JSON object")
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err2); tooLarge {
				err = err2
			}
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return &httpError{Code: http.StatusBadRequest, Msg: "request body is empty: want a JSON object", Err: errEmptyBody}
	}
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return &httpError{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is over %d bytes", maxJSONBody), Err: err}
	}
	return &httpError{Code: http.StatusBadRequest, Msg: "request body: " + strings.TrimPrefix(err.Error(), "json: "), Err: err}
}

// maxNote bounds an operator's note: it goes into every device's history.
const maxNote = 500

func checkNote(note string) error {
	if len(note) > maxNote || !utf8.ValidString(note) || strings.IndexFunc(note, unicode.IsControl) >= 0 {
		return &httpError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("note: want printable text of at most %d bytes", maxNote)}
	}
	return nil
}

// migrationError maps the migration's refusals to HTTP.
func migrationError(err error) error {
	if rf, ok := errors.AsType[*migrate.Refusal](err); ok {
		code := map[migrate.RefusalKind]int{migrate.RefusedBadRequest: http.StatusBadRequest, migrate.RefusedNotFound: http.StatusNotFound,
			migrate.RefusedUnavailable: http.StatusServiceUnavailable}[rf.Kind]
		return &httpError{Code: code, Msg: rf.Msg, Err: err}
	}
	return err
}

func waveView(p migrate.WaveProgress) WaveView {
	w := p.Wave
	v := WaveView{ID: int64(w.ID), Name: w.Name, State: string(w.State), Reason: w.Reason, Filter: w.Filter, Rate: w.Rate,
		Concurrency: w.Concurrency, CreatedAt: w.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: w.UpdatedAt.UTC().Format(time.RFC3339),
		Devices: map[string]int64{}, Untaken: p.Untaken}
	for st, n := range p.Counts {
		v.Devices[string(st)] = n
	}
	return v
}

func (s *server) postPlan(w http.ResponseWriter, r *http.Request) error {
	var req WaveRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	p, err := s.migration.Plan(r.Context(), req.Filter)
	if err != nil {
		return migrationError(err)
	}
	if p.First == nil {
		p.First = []eui.EUI{}
	}
	writeJSON(w, http.StatusOK, PlanView{Migrate: p.TCoS, ReadBack: p.Unknown, First: p.First})
	return nil
}

func (s *server) postWave(w http.ResponseWriter, r *http.Request) error {
	var req WaveRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	wave, err := s.migration.Start(r.Context(), store.Wave{Name: req.Name, Filter: req.Filter, Rate: req.Rate, Concurrency: req.Concurrency})
	if err != nil {
		return migrationError(err)
	}
	p, err := s.migration.Progress(r.Context(), wave.ID)
	if err != nil {
		return migrationError(err)
	}
	s.log.Info("migration wave started", "wave", int64(wave.ID), "name", wave.Name, "operator", r.Header.Get(HeaderOperator))
	writeJSON(w, http.StatusCreated, waveView(p))
	return nil
}

func (s *server) getWaves(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.migration.Waves(r.Context())
	if err != nil {
		return migrationError(err)
	}
	out := make([]WaveView, 0, len(ps))
	for _, p := range ps {
		out = append(out, waveView(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func pathWave(s string) (store.WaveID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, &httpError{Code: http.StatusBadRequest, Msg: "wave " + strconv.Quote(s) + " is not a wave number", Err: err}
	}
	return store.WaveID(n), nil
}

func (s *server) getWave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathWave(r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := s.migration.Progress(r.Context(), id)
	if err != nil {
		return migrationError(err)
	}
	writeJSON(w, http.StatusOK, waveView(p))
	return nil
}

func (s *server) postWaveAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathWave(r.PathValue("id"))
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	if !slices.Contains([]string{migrate.ActionPause, migrate.ActionResume, migrate.ActionCancel}, action) {
		return &httpError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("no wave action %q: want pause, resume or cancel", action)}
	}
	var req struct {
		Note string `json:"note"`
	}
	// The body is optional: a note, for the wave's reason.
	if err := readJSON(w, r, &req); err != nil && !errors.Is(err, errEmptyBody) {
		return err
	}
	if err := checkNote(req.Note); err != nil {
		return err
	}
	if _, err := s.migration.Act(r.Context(), id, action, req.Note); err != nil {
		return migrationError(err)
	}
	s.log.Info("migration wave "+r.PathValue("action"), "wave", int64(id), "operator", r.Header.Get(HeaderOperator), "note", req.Note)
	p, err := s.migration.Progress(r.Context(), id)
	if err != nil {
		return migrationError(err)
	}
	writeJSON(w, http.StatusOK, waveView(p))
	return nil
}

// maxDeviceAction bounds the devices of one device action.
const maxDeviceAction = 1000

func (s *server) postDeviceAction(w http.ResponseWriter, r *http.Request) error {
	action := r.PathValue("action")
	if !slices.Contains([]string{migrate.ActionRetry, migrate.ActionExclude, migrate.ActionReadBack}, action) {
		return &httpError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("no device action %q: want retry, exclude or readback", action)}
	}
	var req DeviceAction
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.Note) == "":
		return &httpError{Code: http.StatusBadRequest, Msg: "a device action needs a note saying why"}
	case len(req.Devices) == 0 || len(req.Devices) > maxDeviceAction:
		return &httpError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("%d devices: name 1 to %d", len(req.Devices), maxDeviceAction)}
	}
	if err := checkNote(req.Note); err != nil {
		return err
	}
	res, err := s.migration.ActOnDevices(r.Context(), r.PathValue("action"), req.Note, req.Devices)
	if err != nil {
		return migrationError(err)
	}
	out := make([]DeviceActionResult, len(res))
	for i, x := range res {
		out[i] = DeviceActionResult{Device: x.Device, From: string(x.From), To: string(x.To), Error: x.Err}
	}
	s.log.Info("migration devices "+r.PathValue("action"), "devices", len(req.Devices), "operator", r.Header.Get(HeaderOperator), "note", req.Note)
	writeJSON(w, http.StatusOK, out)
	return nil
}
