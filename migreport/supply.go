package migreport

import (
	"cmp"
	"slices"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// SupplyChain is the devices installed on or after go-live whose
// credential at import was TCoS: what the supply chain still adds, which
// should fall to zero.
type SupplyChain struct {
	GoLive  string `json:"go_live"`
	Devices int64  `json:"devices"`
	// ByMaker is by manufacturer and responsible supplier, most first.
	ByMaker []SupplyRow `json:"by_manufacturer_supplier"`
	// ByMonth is by month of install, every month from go-live's to the
	// report's (or the last install's, if later), zeros included.
	ByMonth []MonthCount `json:"by_month"`
	// Trend compares the last two complete months of ByMonth (those whose
	// last day is on or before the report's day): "zero" when the last
	// complete month and the month of the report's day added none,
	// "falling" when the last complete month added fewer than the one
	// before, "not falling" when not, and "too early" before two complete
	// months.
	Trend string `json:"trend"`
}

// SupplyRow is the TCoS additions of one manufacturer and supplier.
type SupplyRow struct {
	Manufacturer string `json:"manufacturer"`
	Supplier     string `json:"supplier"`
	Devices      int64  `json:"devices"`
}

// MonthCount is the TCoS additions installed in one month.
type MonthCount struct {
	Month   string `json:"month"` // YYYY-MM
	Devices int64  `json:"devices"`

	month time.Time
}

// The values of SupplyChain.Trend.
const (
	TrendZero       = "zero"
	TrendFalling    = "falling"
	TrendNotFalling = "not falling"
	TrendTooEarly   = "too early"
)

func monthOf(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }

func supplyChain(cs []store.SupplyCount, goLive, to time.Time) *SupplyChain {
	s := &SupplyChain{GoLive: goLive.Format(time.DateOnly), ByMaker: []SupplyRow{}, ByMonth: []MonthCount{}}
	last := monthOf(to)
	byMonth := map[time.Time]int64{}
	byMaker := map[[2]string]int64{}
	for _, c := range cs {
		s.Devices += c.Devices
		byMonth[c.Month] += c.Devices
		byMaker[[2]string{c.Manufacturer, c.Supplier}] += c.Devices
		if c.Month.After(last) {
			last = c.Month
		}
	}
	for k, n := range byMaker {
		s.ByMaker = append(s.ByMaker, SupplyRow{Manufacturer: k[0], Supplier: k[1], Devices: n})
	}
	slices.SortFunc(s.ByMaker, func(a, b SupplyRow) int {
		return cmp.Or(cmp.Compare(b.Devices, a.Devices), cmp.Compare(a.Manufacturer, b.Manufacturer), cmp.Compare(a.Supplier, b.Supplier))
	})
	for m := monthOf(goLive); !m.After(last); m = m.AddDate(0, 1, 0) {
		s.ByMonth = append(s.ByMonth, MonthCount{Month: m.Format("2006-01"), Devices: byMonth[m], month: m})
	}
	s.Trend = trend(s.ByMonth, to)
	return s
}

func trend(months []MonthCount, to time.Time) string {
	var complete []int64
	var current int64
	for _, m := range months {
		switch {
		case !m.month.AddDate(0, 1, -1).After(to):
			complete = append(complete, m.Devices)
		case m.month.Equal(monthOf(to)):
			current = m.Devices
		}
	}
	n := len(complete)
	switch {
	case n > 0 && complete[n-1] == 0 && current == 0:
		return TrendZero
	case n < 2:
		return TrendTooEarly
	case complete[n-1] < complete[n-2]:
		return TrendFalling
	}
	return TrendNotFalling
}
