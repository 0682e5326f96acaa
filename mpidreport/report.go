// Package mpidreport makes the monthly MPID usage report (the deck's
// "Monthly MPID Usage Tracking", product.md §3, docs/mpid-reports.md):
// the daily detail table in the deck's columns, the month's headline
// figures and the parties that sent no 6.23, for every party or as one
// party's extract, as text, CSV, JSON, a self-contained HTML page and PNG
// charts. It reads counts the store has grouped; it never holds requests.
//
// Trust level: reads the operator's own database.
package mpidreport

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// Source is the part of the store the report reads; *store.DB is one.
type Source interface {
	MPIDReport(ctx context.Context, q store.MPIDQuery, row func(store.MPIDRow) error) (store.MPIDHeadline, error)
}

// Report is one month's MPID report. Its JSON is the document `ecos report
// mpid --format json` prints and the operator API serves; the field names
// are stable (docs/mpid-reports.md).
type Report struct {
	Month    string   `json:"month"`           // YYYY-MM
	Party    string   `json:"party,omitempty"` // the extract's SEC Party ID; empty: every party
	Headline Headline `json:"headline"`
	Rows     []Row    `json:"rows"`

	month time.Time
}

// Headline is the month's figures (store.MPIDHeadline).
type Headline struct {
	PartiesSending     int64         `json:"parties_sending"`
	PartiesAllSuccess  int64         `json:"parties_all_success"`
	PartiesWithMissing int64         `json:"parties_with_missing"`
	PartiesSendingNone int64         `json:"parties_sending_none"`
	NoneSent           []PartyMeters `json:"parties_sending_none_list"`
	Total              int64         `json:"total"`
	Correct            int64         `json:"correct"`
	Incorrect          int64         `json:"incorrect"`
	Missing            int64         `json:"missing"`
	MPIDs              int64         `json:"mpids"`
	MPIDsOnlyCorrect   int64         `json:"mpids_only_correct"`
	MPIDsWithIncorrect int64         `json:"mpids_with_incorrect"`
	MPIDsWithMissing   int64         `json:"mpids_with_missing"`
}

// PartyMeters is a party that sent no 6.23 and the MPxNs it is registered
// supplier for at the month's end.
type PartyMeters struct {
	SECPartyID   string `json:"sec_party_id"`
	SECPartyName string `json:"sec_party_name"`
	Meters       int64  `json:"meters"`
}

// Row is one row of the daily detail table, in the deck's columns.
type Row struct {
	SECPartyName            string `json:"sec_party_name"`
	SECPartyID              string `json:"sec_party_id"`
	MPID                    string `json:"mpid"` // expected
	CertificateSerialNumber string `json:"certificate_serial_number"`
	RefDate                 string `json:"ref_date"` // YYYYMMDD, UTC
	Outcome                 string `json:"outcome"`  // S, I or M
	OutcomeCount            int64  `json:"outcome_count"`
}

// ParseMonth reads a month as YYYY-MM: its first instant, UTC.
func ParseMonth(s string) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: want YYYY-MM, such as 2022-10", s)
	}
	return m, nil
}

// Build reads month's report (month is its first instant, UTC, as
// ParseMonth gives) for every party, or party's extract only: its rows,
// its figures, nothing of any other party. An unknown party wraps
// store.ErrNotFound. The rows are the store's groups (day, party, MPID,
// certificate, outcome): their number does not grow with the requests.
func Build(ctx context.Context, src Source, month time.Time, party string) (*Report, error) {
	r := &Report{Month: month.UTC().Format("2006-01"), Party: party, Rows: []Row{}, month: month.UTC()}
	h, err := src.MPIDReport(ctx, store.MPIDQuery{Month: month, Party: party}, func(m store.MPIDRow) error {
		r.Rows = append(r.Rows, Row{SECPartyName: m.PartyName, SECPartyID: m.PartyID, MPID: m.MPID,
			CertificateSerialNumber: m.SignerSerial, RefDate: m.Day.Format("20060102"), Outcome: m.Outcome, OutcomeCount: m.Count})
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Headline = Headline{PartiesSending: h.Parties, PartiesAllSuccess: h.PartiesAllSuccess, PartiesWithMissing: h.PartiesWithMissing,
		PartiesSendingNone: int64(len(h.NoneSent)), NoneSent: []PartyMeters{},
		Total: h.Total, Correct: h.Correct, Incorrect: h.Incorrect, Missing: h.Missing,
		MPIDs: h.MPIDs, MPIDsOnlyCorrect: h.MPIDsOnlyCorrect, MPIDsWithIncorrect: h.MPIDsWithIncorrect, MPIDsWithMissing: h.MPIDsWithMissing}
	for _, p := range h.NoneSent {
		r.Headline.NoneSent = append(r.Headline.NoneSent, PartyMeters{SECPartyID: p.PartyID, SECPartyName: p.PartyName, Meters: p.Meters})
	}
	return r, nil
}

// Title names the report: its month and, for an extract, its party.
func (r *Report) Title() string {
	t := "MPID usage, " + r.month.Format("January 2006")
	if r.Party != "" {
		t += ", SEC party " + r.Party
	}
	return t
}

// figure is one headline line, as text and HTML print it.
type figure struct {
	label  string
	value  int64
	indent bool
}

func (r *Report) figures() []figure {
	h := r.Headline
	return []figure{
		{"SEC parties sending 6.23", h.PartiesSending, false},
		{"with every outcome correct (S)", h.PartiesAllSuccess, true},
		{"processing with missing MPID (M)", h.PartiesWithMissing, true},
		{"SEC parties sending no 6.23 (with meters)", h.PartiesSendingNone, false},
		{"6.23 processed", h.Total, false},
		{"correct (S)", h.Correct, true},
		{"incorrect (I)", h.Incorrect, true},
		{"missing MPID (M)", h.Missing, true},
		{"distinct MPIDs", h.MPIDs, false},
		{"with only correct outcomes", h.MPIDsOnlyCorrect, true},
		{"with incorrect outcomes", h.MPIDsWithIncorrect, true},
		{"with missing-MPID outcomes", h.MPIDsWithMissing, true},
	}
}

// Decode reads a report's JSON (WriteJSON's, the operator API's) back, so
// that it renders as one built here does.
func Decode(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("MPID report: %w", err)
	}
	m, err := ParseMonth(r.Month)
	if err != nil {
		return nil, fmt.Errorf("MPID report: %w", err)
	}
	r.month = m
	if r.Rows == nil {
		r.Rows = []Row{}
	}
	if r.Headline.NoneSent == nil {
		r.Headline.NoneSent = []PartyMeters{}
	}
	return &r, nil
}
