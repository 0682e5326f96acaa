package thresholds

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// reportColumns is the header of the quarantine report, in order.
var reportColumns = []string{
	"QuarantineEventRef", "RequestID", "UserID", "PartyID", "SRV", "Breach", "IntervalMinutes",
	"WarningThreshold", "QuarantineThreshold", "Count", "State", "HeldAt", "ExpiresAt", "DecidedAt", "DecidedBy",
}

// ReportRow is one held (or formerly held) request in the quarantine
// report; the JSON form's fields, in the CSV's order.
type ReportRow struct {
	QuarantineEventRef  uint64    `json:"quarantine_event_ref"`
	RequestID           string    `json:"request_id"`
	UserID              string    `json:"user_id"`
	PartyID             string    `json:"party_id"`
	SRV                 string    `json:"srv"`
	Breach              string    `json:"breach"`
	IntervalMinutes     uint64    `json:"interval_minutes"`
	WarningThreshold    uint64    `json:"warning_threshold"`
	QuarantineThreshold uint64    `json:"quarantine_threshold"`
	Count               uint64    `json:"count"`
	State               string    `json:"state"`
	HeldAt              time.Time `json:"held_at"`
	ExpiresAt           time.Time `json:"expires_at"`
	DecidedAt           time.Time `json:"decided_at,omitzero"`
	DecidedBy           string    `json:"decided_by,omitempty"`
}

// Report turns holds into report rows, times in UTC.
func Report(hs []store.Held) []ReportRow {
	out := make([]ReportRow, len(hs))
	for i, h := range hs {
		out[i] = ReportRow{
			QuarantineEventRef: h.Ref, RequestID: h.Request.String(), UserID: h.User.String(), PartyID: h.Party,
			SRV: h.SRV, Breach: string(h.Breach), IntervalMinutes: h.Interval, WarningThreshold: h.Warning,
			QuarantineThreshold: h.Quarantine, Count: h.Count, State: string(h.State),
			HeldAt: h.HeldAt.UTC(), ExpiresAt: h.ExpiresAt.UTC(), DecidedAt: h.DecidedAt.UTC(), DecidedBy: h.DecidedBy,
		}
	}
	return out
}

// WriteCSV writes the report as CSV with a header line; times are RFC 3339
// UTC, an undecided hold's DecidedAt empty.
func WriteCSV(w io.Writer, rows []ReportRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportColumns); err != nil {
		return err
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range rows {
		if err := cw.Write([]string{u(r.QuarantineEventRef), r.RequestID, r.UserID, r.PartyID, r.SRV, r.Breach,
			u(r.IntervalMinutes), u(r.WarningThreshold), u(r.QuarantineThreshold), u(r.Count), r.State,
			ts(r.HeldAt), ts(r.ExpiresAt), ts(r.DecidedAt), r.DecidedBy}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
