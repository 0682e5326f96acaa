// Package chart is the look every PNG report chart shares (gonum/plot):
// the plot with its fonts, grid and count axis, round ticks, and the PNG
// file it is saved as, so the reports a user mails look like one family.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The size a chart is saved at: 1200 × 600 pixels.
const (
	Width  = 12.5 * vg.Inch
	Height = 6.25 * vg.Inch
)

// New is a plot with the charts' common look; its Y axis counts from 0
// with round ticks.
func New(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(16)
	p.Title.Padding = vg.Points(10)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(12)
	p.Y.Tick.Marker = CountTicks{}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return p
}

// PNG is p drawn as a PNG of Width × height.
func PNG(p *plot.Plot, height vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(Width, height, "png")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SavePNG writes p to path as a PNG of Width × height.
func SavePNG(p *plot.Plot, path string, height vg.Length) error {
	b, err := PNG(p, height)
	if err != nil {
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}

// CountTicks are the ticks of an axis of counts: about six labels at
// whole, round steps (1, 2, 2.5 or 5 times a power of ten), labelled
// 1500 / 250k / 1.5M.
type CountTicks struct{}

func (CountTicks) Ticks(lo, hi float64) []plot.Tick {
	raw := (hi - lo) / 6
	if raw <= 0 {
		return []plot.Tick{{Value: lo, Label: CountLabel(lo)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = math.Max(1, math.Round(step))
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: CountLabel(v)})
	}
	return out
}

// CountLabel is a count as an axis shows it: 1500, 250k, 1.5M.
func CountLabel(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// Series is one stacked layer of bars: its legend name, colour and the
// value of each bar.
type Series struct {
	Name   string
	Color  color.Color
	Values plotter.Values
}

// Stack adds the series as bars stacked in order, the first at the
// bottom (or left, horizontal), each in the legend.
func Stack(p *plot.Plot, series []Series, width vg.Length, horizontal bool) error {
	var under *plotter.BarChart
	for _, s := range series {
		bars, err := plotter.NewBarChart(s.Values, width)
		if err != nil {
			return err
		}
		bars.Horizontal, bars.Color, bars.LineStyle.Width = horizontal, s.Color, 0
		if under != nil {
			bars.StackOn(under)
		}
		under = bars
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
	}
	return nil
}
