package migreport

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteText writes the report as readable tables.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Migration report, %s to %s (UTC days), generated %s\n", r.From, r.To, r.GeneratedAt.Format(time.RFC3339))
	for _, t := range r.tables() {
		fmt.Fprintf(w, "\n%s\n", t.title)
		if len(t.rows) == 0 {
			fmt.Fprintf(w, "  (none)\n")
			continue
		}
		if err := writeTable(w, t); err != nil {
			return err
		}
	}
	if p := r.Plan; p != nil {
		verb := "ahead of"
		if p.Today.Ahead < 0 {
			verb = "behind"
		}
		fmt.Fprintf(w, "\nOn %s: on ECoS %d, against a target of %d: %d %s plan", p.Today.Day, p.Today.Actual, p.Today.Target,
			abs(p.Today.Ahead), verb)
		if p.Today.Target > 0 {
			fmt.Fprintf(w, " (%.1f%% of target)", 100*float64(p.Today.Actual)/float64(p.Today.Target))
		}
		fmt.Fprintln(w)
	}
	if s := r.SupplyChain; s != nil {
		fmt.Fprintf(w, "\nSupply chain: TCoS-credentialed devices installed since go-live %d; monthly additions: %s\n", s.Devices, s.Trend)
	}
	return nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// writeTable writes t's header and rows in columns: text left, numbers
// right, an empty cell as "-".
func writeTable(w io.Writer, t table) error {
	rows := append([][]string{t.header}, t.rows...)
	width := make([]int, len(t.header))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(orDash(c)))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		b.WriteString(" ")
		for i, c := range row {
			c = orDash(c)
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			b.WriteString(" ")
			if i >= t.numeric {
				b.WriteString(pad + c)
			} else if i < len(row)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
			b.WriteString(" ")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, strings.ReplaceAll(b.String(), " \n", "\n"))
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes every table, one after another: a line "# table NAME",
// the header, the rows, and an empty line.
func (r *Report) WriteCSV(w io.Writer) error {
	for _, t := range r.tables() {
		if _, err := fmt.Fprintf(w, "# table %s\n", t.name); err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(t.header); err != nil {
			return err
		}
		if err := cw.WriteAll(t.rows); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}
