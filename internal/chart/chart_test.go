package chart

import (
	"bytes"
	"image/png"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestCountTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 6, []string{"0", "1", "2", "3", "4", "5", "6"}},
		{0, 1_500_000, []string{"0", "250k", "500k", "750k", "1M", "1.25M", "1.5M"}},
		{0, 12, []string{"0", "2", "4", "6", "8", "10", "12"}},
		{5, 5, []string{"5"}},
	} {
		var got []string
		for _, tk := range (CountTicks{}).Ticks(c.lo, c.hi) {
			got = append(got, tk.Label)
		}
		if len(got) != len(c.want) {
			t.Errorf("%v–%v: %v, want %v", c.lo, c.hi, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%v–%v: %v, want %v", c.lo, c.hi, got, c.want)
				break
			}
		}
	}
}

func TestPNG(t *testing.T) {
	p := New("t", "x", "y")
	bars, err := plotter.NewBarChart(plotter.Values{1, 3, 2}, 10)
	if err != nil {
		t.Fatal(err)
	}
	p.Add(bars)
	b, err := PNG(p, Height)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 1200 || cfg.Height != 600 {
		t.Fatalf("%dx%d, %v", cfg.Width, cfg.Height, err)
	}
}
