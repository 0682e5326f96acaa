package quarantinereport

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/thresholds"
)

// TestWriteCharts: both charts are PNGs of the report's size, with bars
// of each state that occurs drawn in its colour; an empty report draws
// empty charts rather than failing.
func TestWriteCharts(t *testing.T) {
	day := time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC)
	var rows []thresholds.ReportRow
	for i, st := range []string{"held", "released", "deleted", "expired", "held", "released"} {
		rows = append(rows, thresholds.ReportRow{UserID: []string{"U1", "U2"}[i%2], State: st, HeldAt: day.Add(time.Duration(i) * 12 * time.Hour)})
	}
	dir := t.TempDir()
	files, err := WriteCharts(rows, "", dir)
	if err != nil || len(files) != 2 {
		t.Fatalf("%v, %v", files, err)
	}
	for _, f := range files {
		img := decode(t, f)
		if img.Bounds().Dx() != 1200 || img.Bounds().Dy() < 600 {
			t.Errorf("%s: %v", f, img.Bounds())
		}
		for _, s := range states {
			if !hasColour(img, s.color.R, s.color.G, s.color.B) {
				t.Errorf("%s: no %s bar", f, s.name)
			}
		}
	}
	empty := t.TempDir()
	if _, err := WriteCharts(nil, "U1", empty); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(empty, ChartPerDay)); err != nil {
		t.Error(err)
	}
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func hasColour(img image.Image, r, g, b uint8) bool {
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
		for x := bd.Min.X; x < bd.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				return true
			}
		}
	}
	return false
}
