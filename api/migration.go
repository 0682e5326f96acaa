package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

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

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &httpError{Code: http.StatusBadRequest, Msg: "request body: " + err.Error(), Err: err}
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
	if err := readJSON(r, &req); err != nil {
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
	if err := readJSON(r, &req); err != nil {
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
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := readJSON(r, &req); err != nil {
			return err
		}
	}
	if _, err := s.migration.Act(r.Context(), id, r.PathValue("action"), req.Note); err != nil {
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

func (s *server) postDeviceAction(w http.ResponseWriter, r *http.Request) error {
	var req DeviceAction
	if err := readJSON(r, &req); err != nil {
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
