package migreport

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ecos-cos/ecos/internal/chart"
	"github.com/ecos-cos/ecos/store"
)

// Chart files WriteCharts writes.
const (
	ChartCumulative  = "ecos-cumulative.png"
	ChartDailyMoves  = "daily-moves.png"
	ChartFailures    = "failure-reasons.png"
	ChartSupplyChain = "supply-chain.png"
)

// stateColors gives each state the same colour in every chart.
var stateColors = map[store.MigrationState]color.RGBA{
	store.MigrationTCoS:      {0x7f, 0x7f, 0x7f, 0xff},
	store.MigrationQueued:    {0x1f, 0x77, 0xb4, 0xff},
	store.MigrationSent:      {0x17, 0xbe, 0xcf, 0xff},
	store.MigrationECoS:      {0x2c, 0xa0, 0x2c, 0xff},
	store.MigrationRetryWait: {0xff, 0x7f, 0x0e, 0xff},
	store.MigrationUnknown:   {0x94, 0x67, 0xbd, 0xff},
	store.MigrationException: {0xd6, 0x27, 0x28, 0xff},
	store.MigrationExcluded:  {0x00, 0x00, 0x00, 0xff},
}

var planColor = color.RGBA{0x55, 0x55, 0x55, 0xff}

// WriteCharts writes the report's PNG charts into dir, which must exist,
// and returns the files written: the devices on ECoS against the plan,
// the moves per day by state, the failure reasons and, with a go-live
// day, the TCoS-credentialed devices installed since, by month.
func (r *Report) WriteCharts(dir string) ([]string, error) {
	charts := []struct {
		name string
		make func() (*plot.Plot, error)
	}{
		{ChartCumulative, r.cumulativeChart},
		{ChartDailyMoves, r.dailyChart},
		{ChartFailures, r.failureChart},
	}
	if r.SupplyChain != nil {
		charts = append(charts, struct {
			name string
			make func() (*plot.Plot, error)
		}{ChartSupplyChain, r.supplyChart})
	}
	var written []string
	for _, c := range charts {
		p, err := c.make()
		if err != nil {
			return written, fmt.Errorf("chart %s: %w", c.name, err)
		}
		path := filepath.Join(dir, c.name)
		if err := chart.SavePNG(p, path, chart.Height); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// unix is a day as the time axes' value: seconds since the epoch.
func unix(t time.Time) float64 { return float64(t.Unix()) }

const secondsPerDay = 86400

// timeAxis makes p's X axis, in Unix seconds, run over the days from…to,
// with dates.
func timeAxis(p *plot.Plot, from, to time.Time) {
	p.X.Tick.Marker = dayTicks{origin: time.Unix(0, 0).UTC(), unit: 1}
	p.X.Min = unix(from) - secondsPerDay/2
	p.X.Max = unix(to) + secondsPerDay/2
}

func (r *Report) cumulativeChart() (*plot.Plot, error) {
	p := chart.New("Devices on ECoS (cumulative)"+r.againstPlan(), "day (UTC, at the end of the day)", "devices on ECoS")
	var highest float64
	from, to := r.from, r.to
	actual := make(plotter.XYs, len(r.Daily))
	for i, d := range r.Daily {
		actual[i] = plotter.XY{X: unix(d.day), Y: float64(d.ECoS)}
		highest = math.Max(highest, float64(d.ECoS))
	}
	if r.Plan != nil {
		var pts plotter.XYs
		for _, t := range planLine(r.planTargets, r.goLive) {
			pts = append(pts, plotter.XY{X: unix(t.By), Y: float64(t.ECoS)})
			highest = math.Max(highest, float64(t.ECoS))
			from = minTime(from, t.By)
			to = maxTime(to, t.By)
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = planColor
		line.Width = vg.Points(2)
		line.Dashes = []vg.Length{vg.Points(8), vg.Points(5)}
		p.Add(line)
		p.Legend.Add("plan (migration.plan)", line)
	}
	line, points, err := plotter.NewLinePoints(actual)
	if err != nil {
		return nil, err
	}
	line.Color = stateColors[store.MigrationECoS]
	line.Width = vg.Points(2.5)
	dots(points, line.Color, len(actual))
	p.Add(line, points)
	p.Legend.Add("actual", line, points)
	p.Legend.Top, p.Legend.Left = true, true
	headroom(p, highest, true)
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(10), -vg.Points(10)
	timeAxis(p, from, to)
	return p, nil
}

// againstPlan is the cumulative chart's title's tail.
func (r *Report) againstPlan() string {
	if r.Plan == nil {
		return ""
	}
	t := r.Plan.Today
	verb := "ahead of"
	if t.Ahead < 0 {
		verb = "behind"
	}
	return fmt.Sprintf(", against the plan: %s %s it on %s", thousands(abs(t.Ahead)), verb, t.Day)
}

// dailyChart stacks each day's moves by the state entered, on an X axis
// counted in days from r.from (a bar chart places bar i at i).
func (r *Report) dailyChart() (*plot.Plot, error) {
	p := chart.New("Moves per day, by the state entered, "+r.From+" to "+r.To, "day (UTC)", "moves per day")
	p.X.Tick.Marker = dayTicks{origin: r.from, unit: secondsPerDay}
	p.X.Min, p.X.Max = -0.5, float64(len(r.Daily))-0.5
	width := vg.Points(min(40, 800/float64(max(len(r.Daily), 1))*0.8))
	totals := make([]float64, len(r.Daily))
	var series []chart.Series
	for _, s := range store.MigrationStates {
		vals := make(plotter.Values, len(r.Daily))
		var total int64
		for i, d := range r.Daily {
			vals[i] = float64(d.Moves[s])
			totals[i] += vals[i]
			total += d.Moves[s]
		}
		if total > 0 {
			series = append(series, chart.Series{Name: "into " + string(s), Color: stateColors[s], Values: vals})
		}
	}
	if err := chart.Stack(p, series, width, false); err != nil {
		return nil, err
	}
	highest := 0.0
	if len(totals) > 0 {
		highest = slices.Max(totals)
	}
	if highest == 0 {
		p.Title.Text += ": none"
	}
	headroom(p, highest, true)
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(10)
	return p, nil
}

// maxReasons bounds the reasons the failure chart shows, most moves first.
const maxReasons = 12

func (r *Report) failureChart() (*plot.Plot, error) {
	p := chart.New("Failure reasons: moves into exception and retry-wait, "+r.From+" to "+r.To, "moves", "")
	p.X.Tick.Marker = chart.CountTicks{}
	p.Y.Tick.Marker = plot.DefaultTicks{}
	p.X.Min = 0
	totals := map[string]int64{}
	byState := map[store.MigrationState]map[string]int64{store.MigrationException: {}, store.MigrationRetryWait: {}}
	for _, m := range r.Failures.Moves {
		totals[m.Reason] += m.Moves
		byState[m.To][m.Reason] += m.Moves
	}
	reasons := make([]string, 0, len(totals))
	for reason := range totals {
		reasons = append(reasons, reason)
	}
	// Most first, at the top: the Y axis counts up from the bottom.
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b)) })
	if len(reasons) > maxReasons {
		reasons = reasons[:maxReasons]
		p.Title.Text += fmt.Sprintf(" (the %d most frequent)", maxReasons)
	}
	slices.Reverse(reasons)
	if len(reasons) == 0 {
		p.Title.Text += ": none"
		p.X.Max = 1
		p.HideY()
		return p, nil
	}
	// One bar per reason: its moves into retry-wait, then into exception.
	width := vg.Points(min(28, 300/float64(len(reasons))))
	var series []chart.Series
	for _, s := range []store.MigrationState{store.MigrationRetryWait, store.MigrationException} {
		vals := make(plotter.Values, len(reasons))
		for j, reason := range reasons {
			vals[j] = float64(byState[s][reason])
		}
		series = append(series, chart.Series{Name: "into " + string(s), Color: stateColors[s], Values: vals})
	}
	if err := chart.Stack(p, series, width, true); err != nil {
		return nil, err
	}
	p.X.Max = float64(totals[reasons[len(reasons)-1]]) * 1.08
	p.Y.Min, p.Y.Max = -0.7, float64(len(reasons))+0.3
	labels := make([]string, len(reasons))
	for i, reason := range reasons {
		labels[i] = fmt.Sprintf("%s (%d)", orDash(reason), totals[reason])
	}
	p.NominalY(labels...)
	p.Y.Label.Text = ""
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(10)
	return p, nil
}

func (r *Report) supplyChart() (*plot.Plot, error) {
	s := r.SupplyChain
	p := chart.New(fmt.Sprintf("Devices installed with the TCoS credential since go-live (%s), per month: %s", s.GoLive, s.Trend),
		"month of install", "devices installed")
	vals := make(plotter.Values, len(s.ByMonth))
	labels := make([]string, len(s.ByMonth))
	every := (len(s.ByMonth) + 23) / 24 // at most 24 labels
	for i, m := range s.ByMonth {
		vals[i] = float64(m.Devices)
		if (len(s.ByMonth)-1-i)%every == 0 {
			labels[i] = m.Month
		}
	}
	if len(vals) == 0 {
		return p, nil
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(min(40, 700/float64(len(vals)))))
	if err != nil {
		return nil, err
	}
	bars.Color = stateColors[store.MigrationTCoS]
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(labels...)
	if len(labels) > 12 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	headroom(p, slices.Max(vals), false)
	return p, nil
}

// dots styles a line's points: small, and none on a line of many.
func dots(points *plotter.Scatter, c color.Color, n int) {
	points.Color = c
	points.Shape = draw.CircleGlyph{}
	points.Radius = vg.Points(3)
	if n > 45 {
		points.Radius = 0
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// headroom sets the top of p's Y axis above the highest value, leaving
// room for a legend at the top when legend is set.
func headroom(p *plot.Plot, highest float64, legend bool) {
	frac := 1.08
	if legend {
		frac = 1.3
	}
	p.Y.Max = math.Max(1, highest*frac)
}

// thousands writes n with a comma between each group of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(abs(n), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if n < 0 {
		return "-" + s
	}
	return s
}

// dayTicks are the ticks of a time axis whose values count unit seconds
// from origin: at UTC midnights, every 1, 2 or 7 days, or at the first of
// every 1, 2, 3, 6 or 12 months, whichever gives at most 14 labels.
type dayTicks struct {
	origin time.Time
	unit   float64
}

func (d dayTicks) at(v float64) time.Time {
	return d.origin.Add(time.Duration(math.Round(v*d.unit)) * time.Second).UTC()
}

func (d dayTicks) Ticks(lo, hi float64) []plot.Tick {
	start, end := d.at(lo), d.at(hi)
	days := end.Sub(start).Hours() / 24
	var out []plot.Tick
	add := func(t time.Time, format string) {
		out = append(out, plot.Tick{Value: t.Sub(d.origin).Seconds() / d.unit, Label: t.Format(format)})
	}
	first := start.Truncate(24 * time.Hour)
	if first.Before(start) {
		first = first.AddDate(0, 0, 1)
	}
	for _, step := range []int{1, 2, 7} {
		if days/float64(step) <= 14 {
			for t := first; !t.After(end); t = t.AddDate(0, 0, step) {
				add(t, "2 Jan 2006")
			}
			return out
		}
	}
	for _, step := range []int{1, 2, 3, 6, 12} {
		if days/30/float64(step) <= 14 || step == 12 {
			m := monthOf(first)
			if m.Before(first) {
				m = m.AddDate(0, 1, 0)
			}
			for ; !m.After(end); m = m.AddDate(0, 1, 0) {
				if (int(m.Month())-1)%step == 0 {
					add(m, "Jan 2006")
				}
			}
			return out
		}
	}
	return out
}
