// Package dashboard is the operators' read-only dashboard, served under
// /dashboard/ on the operator listener: one page per view (CoS traffic,
// refusals, MPID outcomes, ADT thresholds and the quarantine, the
// migration, devices), each with its charts drawn as inline SVG in Go, a
// table with filters, and the CSV behind the table (?format=csv). The
// HTML is rendered on the server from embedded templates; nothing is
// fetched at run time. It authenticates nobody: the operator listener
// does (api.NewOperator).
package dashboard

import (
	"context"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// Source is what the dashboard reads: the store's counts (package store,
// dashboard.go and the migration report) and the DCC-wide thresholds.
type Source interface {
	DashboardTraffic(context.Context, store.DashQuery) ([]store.DashCount, error)
	DashboardRefusals(context.Context, store.DashQuery) ([]store.DashCount, error)
	DashboardMPID(context.Context, store.DashQuery) ([]store.DashCount, error)
	DashboardHolds(context.Context, store.DashQuery) ([]store.DashCount, error)
	DashboardResponseTimes(context.Context, store.DashQuery) ([]store.DashCount, error)
	DashboardCommandOutcomes(context.Context, store.DashQuery) ([]store.DashCount, error)
	MigrationReport(context.Context, store.ReportQuery) (store.MigrationFacts, error)
}

// DCCThresholds are the DCC-wide thresholds with their windows' counts
// now (thresholds.Thresholds.ShowDCC).
type DCCThresholds interface {
	ShowDCC() []thresholds.Count
}

// Config is fixed for the life of a dashboard.
type Config struct {
	Source     Source
	Thresholds DCCThresholds // nil: the thresholds chart is left out
	// Metrics is the service's registry, where the warnings are counted;
	// nil: the threshold-crossings chart is left out.
	Metrics prometheus.Gatherer
	Now     func() time.Time
	Log     *slog.Logger // nil: discarded
}

//go:embed page.html
var files embed.FS

var pageTemplate = template.Must(template.New("page.html").ParseFS(files, "page.html"))

// page is one view as rendered: its charts and its table.
type page struct {
	Path, Title, Intro string
	Nav                []navItem
	Filters            []filter
	Charts             []chart
	Table              table
	CSV                string // the CSV's URL
	Window             string // the window counted, in words
}

type navItem struct {
	Path, Title string
	Current     bool
}

// filter is one field of the page's filter form.
type filter struct {
	Name, Label, Value string
	Options            []string // a choice; nil: free text
}

type table struct {
	Columns []string
	Rows    [][]string
}

// view builds a page from the request's filters.
type view struct {
	path, title string
	build       func(context.Context, *request) (page, error)
}

// request is a page request's filters, checked.
type request struct {
	q     store.DashQuery
	days  int
	query map[string]string
}

type handler struct {
	cfg   Config
	views []view
}

// New returns the dashboard's handler, for the pattern "GET /dashboard/".
func New(cfg Config) (http.Handler, error) {
	if cfg.Source == nil {
		return nil, errors.New("dashboard: no source")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg}
	h.views = []view{
		{"", "CoS traffic", h.traffic},
		{"refusals", "Refusals", h.refusals},
		{"mpid", "MPID outcomes", h.mpid},
		{"quarantine", "ADT and quarantine", h.quarantine},
		{"migration", "Migration", h.migration},
		{"devices", "Devices", h.devices},
	}
	return h, nil
}

// Maximum window, in days.
const maxDays = 366

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/dashboard/")
	var v *view
	for i := range h.views {
		if h.views[i].path == name {
			v = &h.views[i]
		}
	}
	if v == nil {
		h.fail(w, http.StatusNotFound, fmt.Sprintf("no dashboard page %q: the pages are traffic (/dashboard/), refusals, mpid, quarantine, migration and devices", name))
		return
	}
	req, err := h.parse(r)
	if err != nil {
		h.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := v.build(r.Context(), req)
	if err != nil {
		h.cfg.Log.Error("dashboard page failed", "page", v.path, "err", err)
		h.fail(w, http.StatusInternalServerError, "the dashboard could not read the store: see the service's log")
		return
	}
	p.Path, p.Title = "/dashboard/"+v.path, v.title
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ecos-%s.csv"`, strings.ReplaceAll(strings.ToLower(v.title), " ", "-")))
		cw := csv.NewWriter(w)
		_ = cw.Write(p.Table.Columns)
		_ = cw.WriteAll(p.Table.Rows)
		return
	case "", "html":
	default:
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("format %q: want html or csv", f))
		return
	}
	for _, o := range h.views {
		p.Nav = append(p.Nav, navItem{Path: "/dashboard/" + o.path, Title: o.title, Current: o.path == v.path})
	}
	p.CSV = p.Path + "?" + csvQuery(r)
	p.Window = fmt.Sprintf("%s to %s (UTC), %d days", req.q.From.Format(time.DateOnly), req.q.End.Add(-time.Second).Format(time.DateOnly), req.days)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Nothing but this page's own inline style: no script, no fetch.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, p); err != nil {
		h.cfg.Log.Error("dashboard page failed", "page", v.path, "err", err)
	}
}

func csvQuery(r *http.Request) string {
	q := r.URL.Query()
	q.Set("format", "csv")
	return q.Encode()
}

// parse reads the filters every page takes: days (the window, ending
// today, 1 to 366; default 30) and party.
func (h *handler) parse(r *http.Request) (*request, error) {
	q := r.URL.Query()
	req := &request{days: 30, query: map[string]string{}}
	for k := range q {
		req.query[k] = q.Get(k)
	}
	if s := q.Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDays {
			return nil, fmt.Errorf("days %q: want a whole number of days from 1 to %d", s, maxDays)
		}
		req.days = n
	}
	end := h.cfg.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	req.q = store.DashQuery{From: end.AddDate(0, 0, -req.days), End: end, Party: strings.TrimSpace(q.Get("party"))}
	return req, nil
}

func (h *handler) fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ecos dashboard</title></head><body><p id=\"error\">%s</p><p><a href=\"/dashboard/\">the dashboard</a></p></body></html>\n", template.HTMLEscapeString(msg))
}

// days are the UTC days of q's window, as labels and their positions.
func days(q store.DashQuery) ([]string, map[time.Time]int) {
	var labels []string
	at := map[time.Time]int{}
	for d := q.From; d.Before(q.End); d = d.AddDate(0, 0, 1) {
		at[d] = len(labels)
		labels = append(labels, d.Format("01-02"))
	}
	return labels, at
}

func daysFilter(r *request) filter {
	return filter{Name: "days", Label: "days", Value: strconv.Itoa(r.days)}
}

func partyFilter(r *request) filter {
	return filter{Name: "party", Label: "party ID", Value: r.q.Party}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
