package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ecos-cos/ecos/mpidreport"
	"github.com/ecos-cos/ecos/store"
)

// PathMPIDReport is the MPID report's route: ?month=YYYY-MM, optionally
// &party=ID (that party's extract) and &format=csv (the detail table) or
// json (the default, the whole report).
const PathMPIDReport = "/operator/v1/reports/mpid"

func (s *server) reportRoutes(mux *http.ServeMux) {
	mux.Handle("GET "+PathMPIDReport, s.handle(s.getMPIDReport, writeJSONError))
}

func (s *server) getMPIDReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	month, err := mpidreport.ParseMonth(q.Get("month"))
	if err != nil {
		return &httpError{Code: http.StatusBadRequest, Msg: err.Error()}
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return &httpError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("format %q: want json or csv", format)}
	}
	party := q.Get("party")
	rep, err := mpidreport.Build(r.Context(), s.mpid, month, party)
	if errors.Is(err, store.ErrNotFound) {
		return &httpError{Code: http.StatusNotFound, Msg: fmt.Sprintf("no SEC party %q", party), Err: err}
	}
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", csvName(rep)))
		return rep.WriteCSV(w)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// csvName is the file a browser saves the CSV as.
func csvName(r *mpidreport.Report) string {
	name := "mpid-" + r.Month
	if r.Party != "" {
		name += "-" + r.Party
	}
	return name + ".csv"
}
