package mpidreport

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ecos-cos/ecos/internal/chart"
)

// outcomes in the order charts stack them, with their colours and names.
var outcomes = []struct {
	code, name string
	color      color.RGBA
}{
	{"S", "S correct", color.RGBA{0x2c, 0xa0, 0x2c, 0xff}},
	{"I", "I incorrect", color.RGBA{0xd6, 0x27, 0x28, 0xff}},
	{"M", "M missing MPID", color.RGBA{0xff, 0x7f, 0x0e, 0xff}},
}

// Chart is one PNG chart of the report.
type Chart struct {
	Name string // its file name, e.g. mpid-2022-10-per-day.png
	PNG  []byte
}

// Charts draws the outcomes per day (stacked S, I, M) and per party.
func (r *Report) Charts() ([]Chart, error) {
	prefix := "mpid-" + r.Month
	if r.Party != "" {
		prefix += "-" + fileSafe(r.Party)
	}
	var out []Chart
	for _, c := range []struct {
		name   string
		draw   func() (*plot.Plot, error)
		height vg.Length
	}{
		{prefix + "-per-day.png", r.dayChart, chart.Height},
		{prefix + "-per-party.png", r.partyChart, r.partyChartHeight()},
	} {
		p, err := c.draw()
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.name, err)
		}
		b, err := chart.PNG(p, c.height)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.name, err)
		}
		out = append(out, Chart{Name: c.name, PNG: b})
	}
	return out, nil
}

// WriteCharts writes Charts into dir, which must exist, and returns the
// files written.
func (r *Report) WriteCharts(dir string) ([]string, error) {
	charts, err := r.Charts()
	if err != nil {
		return nil, err
	}
	var written []string
	for _, c := range charts {
		path := filepath.Join(dir, c.Name)
		if err := os.WriteFile(path, c.PNG, 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// newChart is the reports' chart with the legend inside its top right.
func newChart(title, xLabel, yLabel string) *plot.Plot {
	p := chart.New(title, xLabel, yLabel)
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(10)
	return p
}

// fileSafe keeps a party ID usable in a file name.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// stack stacks vals[o] per outcome, S at the bottom.
func stack(p *plot.Plot, vals map[string]plotter.Values, width vg.Length, horizontal bool) error {
	series := make([]chart.Series, len(outcomes))
	for i, o := range outcomes {
		series[i] = chart.Series{Name: o.name, Color: o.color, Values: vals[o.code]}
	}
	return chart.Stack(p, series, width, horizontal)
}

// dayChart stacks each day of the month's outcomes.
func (r *Report) dayChart() (*plot.Plot, error) {
	days := r.month.AddDate(0, 1, -1).Day()
	p := newChart("6.23 MPID outcomes per day, "+r.month.Format("January 2006")+" (UTC)"+r.of(), "day", "6.23 requests")
	vals := map[string]plotter.Values{}
	for _, o := range outcomes {
		vals[o.code] = make(plotter.Values, days)
	}
	totals := make([]float64, days)
	for _, row := range r.Rows {
		d, _ := strconv.Atoi(row.RefDate[6:])
		vals[row.Outcome][d-1] += float64(row.OutcomeCount)
		totals[d-1] += float64(row.OutcomeCount)
	}
	if err := stack(p, vals, vg.Points(22), false); err != nil {
		return nil, err
	}
	labels := make([]string, days)
	for i := range labels {
		labels[i] = strconv.Itoa(i + 1)
	}
	p.NominalX(labels...)
	highest := slices.Max(totals)
	if highest == 0 {
		p.Title.Text += ": none"
	}
	p.Y.Min, p.Y.Max = 0, math.Max(1, highest*1.3)
	p.Y.Tick.Marker = chart.CountTicks{}
	return p, nil
}

// maxChartParties bounds the parties the party chart shows, most
// requests first.
const maxChartParties = 60

// partyTotals is every party's outcomes, most requests first.
func (r *Report) partyTotals() (ids []string, names map[string]string, by map[string]map[string]int64) {
	names, by = map[string]string{}, map[string]map[string]int64{}
	total := map[string]int64{}
	for _, row := range r.Rows {
		if by[row.SECPartyID] == nil {
			by[row.SECPartyID] = map[string]int64{}
			ids = append(ids, row.SECPartyID)
		}
		names[row.SECPartyID] = row.SECPartyName
		by[row.SECPartyID][row.Outcome] += row.OutcomeCount
		total[row.SECPartyID] += row.OutcomeCount
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(total[b], total[a]), cmp.Compare(a, b)) })
	return ids, names, by
}

func (r *Report) partyChartHeight() vg.Length {
	ids, _, _ := r.partyTotals()
	return max(chart.Height, vg.Length(min(len(ids), maxChartParties))*0.28*vg.Inch+1.5*vg.Inch)
}

// partyChart is one horizontal bar per party, stacked S, I, M.
func (r *Report) partyChart() (*plot.Plot, error) {
	ids, names, by := r.partyTotals()
	p := newChart("6.23 MPID outcomes per SEC party, "+r.month.Format("January 2006")+r.of(), "6.23 requests", "")
	if len(ids) > maxChartParties {
		ids = ids[:maxChartParties]
		p.Title.Text += fmt.Sprintf(" (the %d sending most)", maxChartParties)
	}
	if len(ids) == 0 {
		p.Title.Text += ": none"
		p.HideY()
		p.X.Min, p.X.Max = 0, 1
		return p, nil
	}
	slices.Reverse(ids) // most at the top: the Y axis counts up
	vals := map[string]plotter.Values{}
	var highest float64
	for _, o := range outcomes {
		vals[o.code] = make(plotter.Values, len(ids))
		for i, id := range ids {
			vals[o.code][i] = float64(by[id][o.code])
		}
	}
	labels := make([]string, len(ids))
	for i, id := range ids {
		var t int64
		for _, n := range by[id] {
			t += n
		}
		highest = math.Max(highest, float64(t))
		labels[i] = fmt.Sprintf("%s %s (%d)", id, names[id], t)
	}
	if err := stack(p, vals, vg.Points(14), true); err != nil {
		return nil, err
	}
	p.NominalY(labels...)
	p.Legend.Top = false // the smallest bars are at the bottom
	p.Legend.YOffs = vg.Points(10)
	p.X.Min, p.X.Max = 0, highest*1.3
	p.X.Tick.Marker = chart.CountTicks{}
	p.Y.Min, p.Y.Max = -0.7, float64(len(ids))-0.3
	return p, nil
}

// of is a title's tail naming the extract's party.
func (r *Report) of() string {
	if r.Party == "" {
		return ""
	}
	return ", SEC party " + r.Party
}
