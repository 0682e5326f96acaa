package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpidreport"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// Sources of an accepted ADT file, for the record.
const (
	sourceUser     = "api"
	sourceOperator = "operator"
)

// HeaderOperator names the operator acting through the operator API, for
// the audit record; absent, the action is recorded as by "operator".
const HeaderOperator = "X-ECoS-Operator"

// OperatorConfig is fixed for the life of an operator handler.
type OperatorConfig struct {
	Thresholds Thresholds
	Migration  Migration // nil: no migration routes
	// MPIDReports is what the MPID report reads; nil: no report route.
	MPIDReports mpidreport.Source
	Log         *slog.Logger // nil: discarded
	// Gatherer is served at /metrics; nil: no /metrics route. Metrics go
	// here, where operators are, and never on the Users' listener.
	Gatherer prometheus.Gatherer
	// Token is the operator token every route but /metrics and /healthz
	// requires (operator.token_file); empty: every such route is refused.
	Token []byte
	// Dashboard is served under /dashboard/; nil: no dashboard.
	Dashboard http.Handler
}

// NewOperator returns the operator API of docs/api.md: ADT settings, the
// quarantine list and report, release and delete, the dashboard, and
// /metrics. Every route but /metrics and /healthz requires the operator
// token (operatorAuth).
func NewOperator(cfg OperatorConfig) (http.Handler, error) {
	if cfg.Thresholds == nil {
		return nil, errors.New("api: no thresholds")
	}
	s := &server{adt: cfg.Thresholds, migration: cfg.Migration, mpid: cfg.MPIDReports, log: cfg.Log, now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.metrics, err = newHTTPMetrics(nil); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /operator/v1/adt", s.handle(s.postADT(sourceOperator), writeJSONError))
	mux.Handle("GET /operator/v1/adt/{user}", s.handle(s.getADT, writeJSONError))
	mux.Handle("GET /operator/v1/dcc-thresholds", s.handle(s.getDCC, writeJSONError))
	mux.Handle("GET /operator/v1/quarantine", s.handle(s.getQuarantine, writeJSONError))
	mux.Handle("POST /operator/v1/quarantine/{ref}/{action}", s.handle(s.postDecision, writeJSONError))
	if cfg.Migration != nil {
		s.migrationRoutes(mux)
	}
	if cfg.MPIDReports != nil {
		s.reportRoutes(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	if cfg.Gatherer != nil {
		mux.Handle("GET /metrics", metricsHandler(cfg.Gatherer, s.log))
	}
	if cfg.Dashboard != nil {
		mux.Handle("GET /dashboard/", cfg.Dashboard)
		mux.Handle("GET /dashboard", http.RedirectHandler("/dashboard/", http.StatusMovedPermanently))
	}
	return s.instrumentAs(mux, operatorAuth(cfg.Token, mux)), nil
}

// ADTView is GET /operator/v1/adt/{user}.
type ADTView struct {
	User       string         `json:"user"`
	Files      []ADTFileRow   `json:"files"`
	Thresholds []ThresholdRow `json:"thresholds"`
	Held       int            `json:"held"`
}

type ADTFileRow struct {
	Sequence   uint64 `json:"sequence"`
	Legacy     bool   `json:"legacy,omitempty"`
	AcceptedAt string `json:"accepted_at"`
	Source     string `json:"source"`
}

func (s *server) getADT(w http.ResponseWriter, r *http.Request) error {
	user, err := pathUser(r.PathValue("user"))
	if err != nil {
		return err
	}
	v, err := s.adt.Show(r.Context(), user)
	if err != nil {
		return err
	}
	body := ADTView{User: v.User.String(), Files: []ADTFileRow{}, Held: v.Held}
	for _, f := range v.Files {
		body.Files = append(body.Files, ADTFileRow{Sequence: f.Sequence, Legacy: f.Legacy,
			AcceptedAt: f.AcceptedAt.UTC().Format(time.RFC3339), Source: f.Source})
	}
	body.Thresholds = countedRows(v.Thresholds)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// DCCView is GET /operator/v1/dcc-thresholds.
type DCCView struct {
	Thresholds []ThresholdRow `json:"thresholds"`
}

func (s *server) getDCC(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, DCCView{Thresholds: countedRows(s.adt.ShowDCC())})
	return nil
}

func countedRows(cs []thresholds.Count) []ThresholdRow {
	out := []ThresholdRow{}
	for _, c := range cs {
		b := thresholdBodyOf(c.Threshold)
		b.Count = &c.Count
		out = append(out, b)
	}
	return out
}

// getQuarantine is the quarantine list and report: ?user= one User's,
// ?state= only those in that state, ?format=csv for CSV.
func (s *server) getQuarantine(w http.ResponseWriter, r *http.Request) error {
	q := store.HoldQuery{}
	if u := r.URL.Query().Get("user"); u != "" {
		user, err := pathUser(u)
		if err != nil {
			return err
		}
		q.User = &user
	}
	if st := r.URL.Query().Get("state"); st != "" {
		switch store.HoldState(st) {
		case store.HoldHeld, store.HoldReleased, store.HoldDeleted, store.HoldExpired:
			q.States = []store.HoldState{store.HoldState(st)}
		default:
			return &httpError{Code: http.StatusBadRequest, Msg: "state must be held, released, deleted or expired"}
		}
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		return &httpError{Code: http.StatusBadRequest, Msg: "format must be json or csv"}
	}
	held, err := s.adt.Holds(r.Context(), q)
	if err != nil {
		return err
	}
	rows := thresholds.Report(held)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return thresholds.WriteCSV(w, rows)
	}
	writeJSON(w, http.StatusOK, HoldList{Holds: rows})
	return nil
}

func (s *server) postDecision(w http.ResponseWriter, r *http.Request) error {
	ref, err := strconv.ParseUint(r.PathValue("ref"), 10, 64)
	if err != nil || ref == 0 {
		return &httpError{Code: http.StatusNotFound, Msg: "no such QuarantineEventRef"}
	}
	var release bool
	switch r.PathValue("action") {
	case "release":
		release = true
	case "delete":
	default:
		return &httpError{Code: http.StatusNotFound, Msg: "action must be release or delete"}
	}
	by := "operator"
	if name := strings.TrimSpace(r.Header.Get(HeaderOperator)); name != "" {
		by += ":" + clipHeader(name)
	}
	h, err := s.adt.Decide(r.Context(), ref, release, by)
	if err != nil {
		return refuseFile(w, err)
	}
	writeJSON(w, http.StatusOK, HoldList{Holds: thresholds.Report([]store.Held{h})})
	return nil
}

func pathUser(s string) (eui.EUI, error) {
	u, err := eui.Parse(s)
	if err != nil {
		return eui.EUI{}, &httpError{Code: http.StatusBadRequest, Msg: "user must be an EUI-64 such as 90-B3-D5-1F-30-01-00-00", Err: err}
	}
	return u, nil
}

// clipHeader keeps an operator name printable and short for the record.
func clipHeader(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
