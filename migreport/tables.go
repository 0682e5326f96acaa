package migreport

import (
	"strconv"

	"github.com/ecos-cos/ecos/store"
)

// table is one table of the report, as both the text and the CSV show it.
type table struct {
	name   string // the CSV's "# table" name
	title  string // the text's heading
	header []string
	rows   [][]string
	// numeric is the index of the first column of numbers: the text
	// aligns them right.
	numeric int
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func stateHeader(first ...string) []string {
	h := append([]string{}, first...)
	for _, s := range store.MigrationStates {
		h = append(h, string(s))
	}
	return h
}

func stateCells(first []string, m map[store.MigrationState]int64) []string {
	row := append([]string{}, first...)
	for _, s := range store.MigrationStates {
		row = append(row, itoa(m[s]))
	}
	return row
}

// tables is the report as tables, in the order both formats print them.
func (r *Report) tables() []table {
	states := table{name: "states", title: "Devices now, by state", header: []string{"state", "devices"}, numeric: 1}
	for _, s := range store.MigrationStates {
		states.rows = append(states.rows, []string{string(s), itoa(r.States[s])})
	}
	states.rows = append(states.rows, []string{"total", itoa(r.Devices)})

	daily := table{name: "daily", title: "Moves per UTC day, by the state entered; devices on ECoS at the end of the day",
		header: append(stateHeader("day"), "ecos_cumulative"), numeric: 1}
	for _, d := range r.Daily {
		daily.rows = append(daily.rows, append(stateCells([]string{d.Day}, d.Moves), itoa(d.ECoS)))
	}

	types := table{name: "by_device_type", title: "Devices now, by manufacturer, model and firmware",
		header: append(stateHeader("manufacturer", "model", "firmware"), "total"), numeric: 3}
	for _, t := range r.ByDeviceType {
		types.rows = append(types.rows, append(stateCells([]string{t.Manufacturer, t.Model, t.Firmware}, t.States), itoa(t.Total)))
	}

	sups := table{name: "by_supplier", title: "Devices now, by responsible supplier", header: append(stateHeader("supplier"), "total"), numeric: 1}
	for _, s := range r.BySupplier {
		sups.rows = append(sups.rows, append(stateCells([]string{s.Supplier}, s.States), itoa(s.Total)))
	}

	moves := table{name: "failure_moves", title: "Failure reasons: moves into exception and retry-wait, " + r.From + " to " + r.To,
		header: []string{"to", "reason", "moves"}, numeric: 2}
	for _, m := range r.Failures.Moves {
		moves.rows = append(moves.rows, []string{string(m.To), m.Reason, itoa(m.Moves)})
	}
	exc := table{name: "in_exception", title: "Devices in exception now, by reason", header: []string{"reason", "devices"}, numeric: 1}
	for _, e := range r.Failures.InException {
		exc.rows = append(exc.rows, []string{e.Reason, itoa(e.Devices)})
	}
	ts := []table{states, daily, types, sups, moves, exc}

	if r.Plan != nil {
		p := table{name: "plan", title: "Progress against plan (migration.plan): devices on ECoS at the end of each day",
			header: []string{"by", "target", "actual", "ahead"}, numeric: 1}
		t := r.Plan.Today
		today := []string{t.Day + " (today, interpolated)", itoa(t.Target), itoa(t.Actual), itoa(t.Ahead)}
		for _, pt := range r.Plan.Points {
			if today != nil && pt.By > t.Day {
				p.rows = append(p.rows, today)
				today = nil
			}
			actual, ahead := "", ""
			if pt.Actual != nil {
				actual, ahead = itoa(*pt.Actual), itoa(*pt.Ahead)
			}
			p.rows = append(p.rows, []string{pt.By, itoa(pt.Target), actual, ahead})
		}
		if today != nil {
			p.rows = append(p.rows, today)
		}
		ts = append(ts, p)
	}
	if s := r.SupplyChain; s != nil {
		maker := table{name: "supply_chain_by_manufacturer", title: "Supply chain: devices installed since go-live (" + s.GoLive +
			") with the TCoS credential at import, by manufacturer and supplier", header: []string{"manufacturer", "supplier", "devices"}, numeric: 2}
		for _, m := range s.ByMaker {
			maker.rows = append(maker.rows, []string{m.Manufacturer, m.Supplier, itoa(m.Devices)})
		}
		maker.rows = append(maker.rows, []string{"total", "", itoa(s.Devices)})
		month := table{name: "supply_chain_by_month", title: "Supply chain: the same, by month of install (trend: " + s.Trend + ")",
			header: []string{"month", "devices"}, numeric: 1}
		for _, m := range s.ByMonth {
			month.rows = append(month.rows, []string{m.Month, itoa(m.Devices)})
		}
		ts = append(ts, maker, month)
	}
	return ts
}
