// Package quarantinereport draws the quarantine report (`ecos quarantine
// list`) as PNG charts, so it can be mailed as the other reports can:
// requests held per UTC day and per User, each stacked by where the hold
// ended.
//
// Trust level: renders rows the operator API returned; no I/O but the
// files WriteCharts is asked for.
package quarantinereport

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ecos-cos/ecos/internal/chart"
	"github.com/ecos-cos/ecos/thresholds"
)

// states in the order the charts stack them, with their colours.
var states = []struct {
	name  string
	color color.RGBA
}{
	{"held", color.RGBA{0x1f, 0x77, 0xb4, 0xff}},
	{"released", color.RGBA{0x2c, 0xa0, 0x2c, 0xff}},
	{"deleted", color.RGBA{0xd6, 0x27, 0x28, 0xff}},
	{"expired", color.RGBA{0x7f, 0x7f, 0x7f, 0xff}},
}

// maxUsers bounds the per-User chart: the Users with the most holds.
const maxUsers = 30

// Chart files WriteCharts writes.
const (
	ChartPerDay  = "quarantine-per-day.png"
	ChartPerUser = "quarantine-per-user.png"
)

// WriteCharts draws rows into dir (which must exist) and returns the
// files written. of says whose holds they are ("" for every User's).
func WriteCharts(rows []thresholds.ReportRow, of, dir string) ([]string, error) {
	var written []string
	for _, c := range []struct {
		name string
		draw func([]thresholds.ReportRow, string) (*plot.Plot, vg.Length, error)
	}{{ChartPerDay, perDay}, {ChartPerUser, perUser}} {
		p, h, err := c.draw(rows, of)
		if err != nil {
			return written, fmt.Errorf("chart %s: %w", c.name, err)
		}
		path := filepath.Join(dir, c.name)
		if err := chart.SavePNG(p, path, h); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// stack stacks vals[state] per state, held at the bottom.
func stack(p *plot.Plot, vals map[string]plotter.Values, width vg.Length, horizontal bool) error {
	series := make([]chart.Series, len(states))
	for i, st := range states {
		series[i] = chart.Series{Name: st.name, Color: st.color, Values: vals[st.name]}
	}
	return chart.Stack(p, series, width, horizontal)
}

func title(what, of string) string {
	if of != "" {
		return what + ", User " + of
	}
	return what
}

// perDay stacks the holds of each UTC day from the first to the last.
func perDay(rows []thresholds.ReportRow, of string) (*plot.Plot, vg.Length, error) {
	p := chart.New(title("Requests held by anomaly detection per day (UTC), by where the hold ended", of), "day (UTC)", "requests held")
	p.Legend.Top = true
	if len(rows) == 0 {
		p.Title.Text += ": none"
		p.HideAxes()
		return p, chart.Height, nil
	}
	first, last := rows[0].HeldAt.UTC().Truncate(24*time.Hour), rows[0].HeldAt.UTC().Truncate(24*time.Hour)
	for _, r := range rows {
		switch d := r.HeldAt.UTC().Truncate(24 * time.Hour); {
		case d.Before(first):
			first = d
		case d.After(last):
			last = d
		}
	}
	days := int(last.Sub(first)/(24*time.Hour)) + 1
	vals := map[string]plotter.Values{}
	for _, s := range states {
		vals[s.name] = make(plotter.Values, days)
	}
	totals := make([]float64, days)
	for _, r := range rows {
		i := int(r.HeldAt.UTC().Truncate(24*time.Hour).Sub(first) / (24 * time.Hour))
		if v, ok := vals[r.State]; ok {
			v[i]++
			totals[i]++
		}
	}
	if err := stack(p, vals, vg.Points(max(2, 700/float64(days))), false); err != nil {
		return nil, 0, err
	}
	labels := make([]string, days)
	step := max(1, days/12)
	for i := range labels {
		if i%step == 0 {
			labels[i] = first.AddDate(0, 0, i).Format("01-02")
		}
	}
	p.NominalX(labels...)
	p.Y.Max = math.Max(1, slices.Max(totals)*1.3)
	return p, chart.Height, nil
}

// perUser stacks the holds of each User, those with the most first.
func perUser(rows []thresholds.ReportRow, of string) (*plot.Plot, vg.Length, error) {
	by := map[string]map[string]float64{}
	for _, r := range rows {
		if by[r.UserID] == nil {
			by[r.UserID] = map[string]float64{}
		}
		by[r.UserID][r.State]++
	}
	total := func(u string) (t float64) {
		for _, n := range by[u] {
			t += n
		}
		return t
	}
	users := make([]string, 0, len(by))
	for u := range by {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b string) int {
		if d := total(b) - total(a); d != 0 {
			return int(math.Copysign(1, d))
		}
		return cmp.Compare(a, b)
	})
	p := chart.New(title("Requests held by anomaly detection per User, by where the hold ended", of), "requests held", "")
	p.X.Tick.Marker = chart.CountTicks{}
	if len(users) > maxUsers {
		users = users[:maxUsers]
		p.Title.Text += fmt.Sprintf(" (the %d with most)", maxUsers)
	}
	height := max(chart.Height, vg.Length(len(users))*0.28*vg.Inch+1.5*vg.Inch)
	if len(users) == 0 {
		p.Title.Text += ": none"
		p.HideAxes()
		return p, height, nil
	}
	slices.Reverse(users) // most at the top: the Y axis counts up
	vals := map[string]plotter.Values{}
	for _, s := range states {
		vals[s.name] = make(plotter.Values, len(users))
		for i, u := range users {
			vals[s.name][i] = by[u][s.name]
		}
	}
	if err := stack(p, vals, vg.Points(14), true); err != nil {
		return nil, 0, err
	}
	labels := make([]string, len(users))
	highest := 0.0
	for i, u := range users {
		labels[i] = fmt.Sprintf("%s (%.0f)", u, total(u))
		highest = math.Max(highest, total(u))
	}
	p.NominalY(labels...)
	p.X.Min, p.X.Max = 0, highest*1.3
	p.Y.Min, p.Y.Max = -0.7, float64(len(users))-0.3
	return p, height, nil
}
