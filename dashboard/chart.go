package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// A chart is a stacked bar chart drawn as inline SVG: bars up from the
// day axis (Horizontal false) or across from the category names
// (Horizontal true). Drawing it here, in a few dozen lines of Go, keeps the
// dashboard free of any JavaScript chart library and of anything fetched
// at run time (docs/dashboard.md).
type chart struct {
	ID         string // the element's id, for tests and links
	Title      string
	Labels     []string // one bar each
	Series     []series // stacked in order
	Horizontal bool
}

type series struct {
	Name   string
	Values []int64 // one per label
}

// palette is colour-blind safe (Okabe–Ito), one colour per series; the
// green, vermilion and orange that colour names (below) are left out, so
// that an unnamed series is never read as success or failure.
var palette = []string{"#0072B2", "#56B4E9", "#CC79A7", "#000000", "#999999", "#332288"}

// colour gives well-known series names the colour operators read them by,
// wherever they appear; others take the palette in order.
func colour(name string, i int) string {
	switch name {
	case "responded", "S", "released", "ecos", "success":
		return "#009E73"
	case "rejected", "I", "deleted", "exception", "failed":
		return "#D55E00"
	case "M", "held", "quarantined", "retry-wait":
		return "#E69F00"
	case "to warning":
		return "#F0E442"
	case "to quarantine":
		return "#CC79A7"
	}
	return palette[i%len(palette)]
}

const (
	chartWidth = 760
	barHeight  = 20
)

// total is the height of the stack of label i.
func (c chart) total(i int) int64 {
	var t int64
	for _, s := range c.Series {
		t += s.Values[i]
	}
	return t
}

// marks counts the bars drawn: a chart with none says so instead.
func (c chart) marks() int {
	n := 0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v > 0 {
				n++
			}
		}
	}
	return n
}

// SVG draws the chart.
func (c chart) SVG() template.HTML {
	var b strings.Builder
	var highest int64
	for i := range c.Labels {
		highest = max(highest, c.total(i))
	}
	left, top, right, bottom := 56.0, 44.0, 16.0, 40.0
	height := 260.0
	if c.Horizontal {
		left = 190
		bottom = 24
		height = top + bottom + float64(max(len(c.Labels), 1))*(barHeight+6)
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" data-marks="%d" viewBox="0 0 %d %.0f" width="100%%" role="img" aria-label="%s">`,
		template.HTMLEscapeString(c.ID), c.marks(), chartWidth, height, template.HTMLEscapeString(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(c.Title))
	c.legend(&b)
	plotW, plotH := chartWidth-left-right, height-top-bottom
	if c.marks() == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%.0f" y="%.0f" text-anchor="middle">no data in this window</text></svg>`, chartWidth/2.0, top+plotH/2)
		return template.HTML(b.String())
	}
	scale := niceMax(highest)
	// Grid and scale: four steps.
	for k := 0; k <= 4; k++ {
		v := scale * float64(k) / 4
		if c.Horizontal {
			x := left + plotW*float64(k)/4
			fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f"/><text class="tick" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`,
				x, x, top, top+plotH, x, height-6, short(v))
		} else {
			y := top + plotH - plotH*float64(k)/4
			fmt.Fprintf(&b, `<line class="grid" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/><text class="tick" x="%.0f" y="%.1f" text-anchor="end">%s</text>`,
				left, left+plotW, y, y, left-6, y+4, short(v))
		}
	}
	n := float64(len(c.Labels))
	every := int(math.Ceil(n / 12)) // at most a dozen axis labels
	for i, label := range c.Labels {
		offset := 0.0
		for si, s := range c.Series {
			v := s.Values[i]
			if v <= 0 {
				continue
			}
			length := float64(v) / scale
			tip := fmt.Sprintf("%s · %s: %d", label, s.Name, v)
			if c.Horizontal {
				y := top + float64(i)*(barHeight+6)
				fmt.Fprintf(&b, `<rect class="mark" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`,
					left+offset*plotW, y, math.Max(length*plotW, 1), barHeight, colour(s.Name, si), template.HTMLEscapeString(tip))
			} else {
				slot := plotW / n
				h := math.Max(length*plotH, 1)
				fmt.Fprintf(&b, `<rect class="mark" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
					left+float64(i)*slot+slot*0.1, top+plotH-offset*plotH-h, slot*0.8, h, colour(s.Name, si), template.HTMLEscapeString(tip))
			}
			offset += length
		}
		if c.Horizontal {
			fmt.Fprintf(&b, `<text class="label" x="%.0f" y="%.1f" text-anchor="end">%s</text>`,
				left-6, top+float64(i)*(barHeight+6)+barHeight*0.7, template.HTMLEscapeString(clip(label, 28)))
		} else if i%every == 0 {
			slot := plotW / n
			fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`,
				left+float64(i)*slot+slot/2, top+plotH+16, template.HTMLEscapeString(clip(label, 12)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// legend names the series across the top.
func (c chart) legend(b *strings.Builder) {
	x := 8.0
	fmt.Fprintf(b, `<text class="title" x="8" y="14">%s</text>`, template.HTMLEscapeString(c.Title))
	for si, s := range c.Series {
		fmt.Fprintf(b, `<rect class="key" x="%.0f" y="20" width="10" height="10" fill="%s"/><text class="keytext" x="%.0f" y="29">%s</text>`,
			x, colour(s.Name, si), x+14, template.HTMLEscapeString(s.Name))
		x += 24 + 7*float64(len(s.Name))
	}
}

// niceMax is the scale's top: max rounded up to 1, 2, 4 or 8 times a
// power of ten that four ticks divide into whole numbers.
func niceMax(highest int64) float64 {
	if highest <= 4 {
		return 4
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 4, 8} {
			if top := m * p; top >= highest && top%4 == 0 {
				return float64(top)
			}
		}
	}
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", math.Round(v/1e5)/10)
	case v >= 1e4:
		return fmt.Sprintf("%gk", math.Round(v/1e2)/10)
	}
	return fmt.Sprintf("%g", math.Round(v*10)/10)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
