package mpidreport

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Header is the detail table's header row: the deck's columns, in its
// order, as it names them.
var Header = []string{"SECPartyName", "SECPartyId", "MPID", "CertificateSerialNumber", "RefDate", "Outcome", "OutcomeCount"}

func (row Row) cells() []string {
	return []string{row.SECPartyName, row.SECPartyID, row.MPID, row.CertificateSerialNumber, row.RefDate, row.Outcome,
		strconv.FormatInt(row.OutcomeCount, 10)}
}

// WriteCSV writes the detail table: Header, then one line per row.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := cw.Write(row.cells()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the headline, the parties that sent none, then the
// detail table.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s (UTC)\n\n", r.Title())
	for _, f := range r.figures() {
		label := f.label
		if f.indent {
			label = "  " + label
		}
		fmt.Fprintf(w, "%-42s %5d\n", label, f.value)
	}
	if len(r.Headline.NoneSent) > 0 {
		fmt.Fprintf(w, "\nSEC parties sending no 6.23\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "SECPartyId\tSECPartyName\tmeters\n")
		for _, p := range r.Headline.NoneSent {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", p.SECPartyID, p.SECPartyName, p.Meters)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Rows) == 0 {
		_, err := fmt.Fprintf(w, "\nno 6.23 outcome recorded in %s\n", r.Month)
		return err
	}
	fmt.Fprintf(w, "\nDaily detail\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, h := range Header {
		fmt.Fprint(tw, h, tab(i))
	}
	for _, row := range r.Rows {
		for i, c := range row.cells() {
			fmt.Fprint(tw, c, tab(i))
		}
	}
	return tw.Flush()
}

func tab(i int) string {
	if i == len(Header)-1 {
		return "\n"
	}
	return "\t"
}
