package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecos-cos/ecos/reportgen"
	"github.com/ecos-cos/ecos/store"
)

func runReportGenerate(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos report generate", "")
	f := newDBFlags(fs)
	d := reportgen.Deck()
	month := fs.String("month", d.Month.Format("2006-01"), "the `MONTH` to make, YYYY-MM (UTC)")
	requests := fs.Int("requests", d.Requests, "6.23 requests in the month, all reaching the MPID check")
	parties := fs.Int("parties", d.Parties, "SEC parties sending them")
	mpids := fs.Int("mpids", d.MPIDs, "distinct MPIDs they are sent under")
	silent := fs.Int("silent-parties", d.SilentParties, "parties with meters sending no 6.23")
	incorrect := fs.Float64("incorrect", d.Incorrect, "share of requests signed under another MPID (I)")
	missing := fs.Float64("missing", d.Missing, "share signed by a certificate carrying no MPID (M)")
	seed := fs.Uint64("seed", d.Seed, "the same seed makes the same month")
	appendTo := fs.Bool("append", false, "add to a month that already holds requests")
	writers := fs.Int("writers", 4, "transactions at once on PostgreSQL (SQLite has one writer)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	m, err := time.Parse("2006-01", *month)
	if err != nil {
		return usagef("--month %q: want a month, YYYY-MM", *month)
	}
	db, err := f.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	o := reportgen.Options{
		Month: m, Requests: *requests, Parties: *parties, MPIDs: *mpids, SilentParties: *silent,
		Incorrect: *incorrect, Missing: *missing, Seed: *seed, Append: *appendTo,
	}
	if db.Driver() == store.DriverPostgres {
		// Each statement is a round trip: several transactions at once
		// keep the server busy. SQLite has one writer whatever we do.
		o.Writers = *writers
	}
	p := newGenProgress(std.err, *requests, time.Now)
	o.Progress = p.update
	s, err := reportgen.Generate(ctx, db, o, time.Now)
	p.done()
	if taken := (*reportgen.MonthTakenError)(nil); errors.As(err, &taken) {
		return invalid(fmt.Errorf("%w; add --append to add to them, or choose another --month", err))
	}
	if err != nil {
		return invalid(err)
	}
	printSummary(std.out, s)
	return nil
}

func printSummary(w io.Writer, s reportgen.Summary) {
	pct := func(n int) float64 { return 100 * float64(n) / float64(s.Requests) }
	total := s.ReferenceData + s.RequestsTaken
	fmt.Fprintf(w, "month %s: %d 6.23 requests from %d parties over %d MPIDs, %s to %s\n", s.Month.Format("2006-01"),
		s.Requests, s.Parties, s.MPIDs, s.FirstRequest.Format(time.DateTime), s.LastRequest.Format(time.DateTime))
	fmt.Fprintf(w, "outcomes: %d correct (S, %.2f%%), %d incorrect (I, %.2f%%), %d missing MPID (M, %.2f%%)\n",
		s.Correct, pct(s.Correct), s.Incorrect, pct(s.Incorrect), s.Missing, pct(s.Missing))
	fmt.Fprintf(w, "reference data: %d parties (%d sending no 6.23), %d meters with their registrations, %d XML-signing certificates\n",
		s.Parties+s.SilentParties, s.SilentParties, s.Meters, s.Certificates)
	rate := 0.0
	if s.RequestsTaken > 0 {
		rate = float64(s.Requests) / s.RequestsTaken.Seconds()
	}
	fmt.Fprintf(w, "took %s: reference data %s, requests %s (%.0f requests/s)\n", total.Round(time.Millisecond),
		s.ReferenceData.Round(time.Millisecond), s.RequestsTaken.Round(time.Millisecond), rate)
}

// genProgress shows how many requests are recorded: on a terminal a line
// redrawn in place with the rate and the time left, elsewhere a line at
// each tenth.
type genProgress struct {
	w            io.Writer
	total        int
	now          func() time.Time
	start, last  time.Time
	tty, drawn   bool
	tenth, count int
}

func newGenProgress(w io.Writer, total int, now func() time.Time) *genProgress {
	return &genProgress{w: w, total: total, now: now, start: now(), tty: isTerminal(w)}
}

func (p *genProgress) update(n int) {
	p.count = n
	t := p.now()
	if p.tty {
		if t.Sub(p.last) >= 200*time.Millisecond || n == p.total {
			p.last, p.drawn = t, true
			fmt.Fprintf(p.w, "\r%s ", p.line(t))
		}
		return
	}
	if tenth := n * 10 / p.total; tenth > p.tenth {
		p.tenth = tenth
		fmt.Fprintln(p.w, p.line(t))
	}
}

func (p *genProgress) line(t time.Time) string {
	el := t.Sub(p.start)
	rate, eta := 0.0, "-"
	if el > 0 && p.count > 0 {
		rate = float64(p.count) / el.Seconds()
		eta = (time.Duration(float64(p.total-p.count)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("requests: %d of %d (%3.0f%%), %.0f requests/s, %s left", p.count, p.total, 100*float64(p.count)/float64(p.total), rate, eta)
}

func (p *genProgress) done() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
