package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// requestStates are the states a request is counted in, in the order the
// traffic chart stacks them.
var requestStates = []string{"responded", "rejected", "failed", "quarantined", "received", "authorised", "signed", "sent"}

// byDay is a stacked-by-day chart of counts keyed by keyOf, with the keys
// in order first and any others after.
func byDay(id, title string, q store.DashQuery, cs []store.DashCount, order []string, keyOf func(store.DashCount) string) chart {
	labels, at := days(q)
	keys := append([]string(nil), order...)
	for _, c := range cs {
		if k := keyOf(c); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	vals := map[string][]int64{}
	for _, c := range cs {
		k := keyOf(c)
		if vals[k] == nil {
			vals[k] = make([]int64, len(labels))
		}
		if i, ok := at[c.Day]; ok {
			vals[k][i] += c.N
		}
	}
	ch := chart{ID: id, Title: title, Labels: labels}
	for _, k := range keys {
		if vals[k] != nil {
			ch.Series = append(ch.Series, series{Name: k, Values: vals[k]})
		}
	}
	return ch
}

func (h *handler) traffic(ctx context.Context, r *request) (page, error) {
	cs, err := h.cfg.Source.DashboardTraffic(ctx, r.q)
	if err != nil {
		return page{}, err
	}
	state := r.query["state"]
	p := page{
		Intro: "Every request received (SR 6.23 and the other CoS requests), by UTC day and the state it is in now: responded (the device answered), " +
			"rejected (refused, see Refusals), failed, quarantined (held, see ADT and quarantine) or still on its way.",
		Filters: []filter{daysFilter(r), partyFilter(r), {Name: "state", Label: "state", Value: state, Options: requestStates}},
		Table:   table{Columns: []string{"day", "state", "requests"}},
	}
	var kept []store.DashCount
	for _, c := range cs {
		if state == "" || c.Key == state {
			kept = append(kept, c)
		}
	}
	p.Charts = []chart{byDay("traffic", "Requests per day, by state", r.q, kept, requestStates, func(c store.DashCount) string { return c.Key })}
	slices.SortFunc(kept, func(a, b store.DashCount) int { return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Key, b.Key)) })
	for _, c := range kept {
		p.Table.Rows = append(p.Table.Rows, []string{c.Day.Format(time.DateOnly), c.Key, itoa(c.N)})
	}
	return p, nil
}

func (h *handler) refusals(ctx context.Context, r *request) (page, error) {
	cs, err := h.cfg.Source.DashboardRefusals(ctx, r.q)
	if err != nil {
		return page{}, err
	}
	p := page{
		Intro:   "The requests refused in the window, by reason and the DUIS response code the User was sent, most frequent first.",
		Filters: []filter{daysFilter(r), partyFilter(r)},
		Table:   table{Columns: []string{"reason", "response code", "requests"}},
	}
	byReason := map[string]int64{}
	for _, c := range cs {
		byReason[reasonOf(c.Key)] += c.N
	}
	ch := chart{ID: "refusals", Title: "Refusals by reason", Horizontal: true}
	var total series
	total.Name = "rejected"
	for _, k := range sortedByCount(byReason) {
		ch.Labels = append(ch.Labels, k)
		total.Values = append(total.Values, byReason[k])
	}
	ch.Series = []series{total}
	p.Charts = []chart{ch}
	slices.SortFunc(cs, func(a, b store.DashCount) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Sub, b.Sub))
	})
	for _, c := range cs {
		p.Table.Rows = append(p.Table.Rows, []string{c.Key, c.Sub, itoa(c.N)})
	}
	return p, nil
}

// reasonOf is a refusal's reason without its particulars: up to the
// first ": " (what follows names the request's own values).
func reasonOf(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && s[i+1] == ' ' {
			return s[:i]
		}
	}
	if s == "" {
		return "(none recorded)"
	}
	return s
}

// sortedByCount is m's keys, largest count first, at most 20 (the rest
// are in the table).
func sortedByCount(m map[string]int64) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	return keys[:min(len(keys), 20)]
}

func (h *handler) mpid(ctx context.Context, r *request) (page, error) {
	cs, err := h.cfg.Source.DashboardMPID(ctx, r.q)
	if err != nil {
		return page{}, err
	}
	p := page{
		Intro: "The MPID check of SR 6.23 (product.md §3), per SEC party: S, the signing certificate carried the MPID the supplier holds the meter under; " +
			"I, another MPID; M, none. `ecos report mpid` gives the monthly report.",
		Filters: []filter{daysFilter(r), partyFilter(r)},
		Table:   table{Columns: []string{"party", "name", "S", "I", "M", "total", "correct %"}},
	}
	type row struct {
		party, name string
		s, i, m     int64
	}
	rows := map[string]*row{}
	for _, c := range cs {
		rw := rows[c.Key]
		if rw == nil {
			rw = &row{party: c.Key, name: c.Label}
			rows[c.Key] = rw
		}
		switch c.Sub {
		case "S":
			rw.s += c.N
		case "I":
			rw.i += c.N
		case "M":
			rw.m += c.N
		}
	}
	var list []*row
	for _, rw := range rows {
		list = append(list, rw)
	}
	slices.SortFunc(list, func(a, b *row) int {
		return cmp.Or(cmp.Compare(b.s+b.i+b.m, a.s+a.i+a.m), cmp.Compare(a.party, b.party))
	})
	ch := chart{ID: "mpid", Title: "MPID outcomes per party", Horizontal: true}
	s, i, m := series{Name: "S"}, series{Name: "I"}, series{Name: "M"}
	for k, rw := range list {
		total := rw.s + rw.i + rw.m
		p.Table.Rows = append(p.Table.Rows, []string{rw.party, rw.name, itoa(rw.s), itoa(rw.i), itoa(rw.m), itoa(total),
			strconv.FormatFloat(100*float64(rw.s)/float64(max(total, 1)), 'f', 1, 64)})
		if k < 30 {
			label := rw.party
			if rw.name != "" {
				label = rw.name
			}
			ch.Labels = append(ch.Labels, label)
			s.Values, i.Values, m.Values = append(s.Values, rw.s), append(i.Values, rw.i), append(m.Values, rw.m)
		}
	}
	ch.Series = []series{s, i, m}
	p.Charts = []chart{ch}
	return p, nil
}

var holdStates = []string{"held", "released", "deleted", "expired"}

func (h *handler) quarantine(ctx context.Context, r *request) (page, error) {
	cs, err := h.cfg.Source.DashboardHolds(ctx, r.q)
	if err != nil {
		return page{}, err
	}
	state := r.query["state"]
	p := page{
		Intro: "Anomaly detection (product.md §4): the requests quarantined per UTC day by where their hold stands (held, waiting for a decision; " +
			"released; deleted; expired), the DCC-wide thresholds with their windows' counts now, and the warnings and quarantines since the service started. " +
			"`ecos quarantine list` acts on holds.",
		Filters: []filter{daysFilter(r), partyFilter(r), {Name: "state", Label: "hold state", Value: state, Options: holdStates}},
		Table:   table{Columns: []string{"day", "party", "state", "breach", "requests"}},
	}
	var kept []store.DashCount
	for _, c := range cs {
		if state == "" || c.Sub == state {
			kept = append(kept, c)
		}
	}
	p.Charts = []chart{byDay("holds", "Quarantined requests per day, by hold state", r.q, kept, holdStates, func(c store.DashCount) string { return c.Sub })}
	if h.cfg.Thresholds != nil {
		ch := chart{ID: "thresholds", Title: "DCC-wide thresholds: count in the current window against warning and quarantine", Horizontal: true}
		count, warn, quar := series{Name: "count"}, series{Name: "to warning"}, series{Name: "to quarantine"}
		for _, t := range h.cfg.Thresholds.ShowDCC() {
			ch.Labels = append(ch.Labels, fmt.Sprintf("SRV %s / %d min", t.SRV, t.Interval))
			c := int64(min(t.Count, 1<<62))
			w, q := int64(min(t.Warning, 1<<62)), int64(min(t.Quarantine, 1<<62))
			count.Values = append(count.Values, c)
			warn.Values = append(warn.Values, max(w-c, 0))
			quar.Values = append(quar.Values, max(q-max(w, c), 0))
		}
		ch.Series = []series{count, warn, quar}
		p.Charts = append(p.Charts, ch)
	}
	if h.cfg.Metrics != nil {
		ch, err := crossings(h.cfg.Metrics)
		if err != nil {
			return page{}, err
		}
		p.Charts = append(p.Charts, ch)
	}
	slices.SortFunc(kept, func(a, b store.DashCount) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Sub, b.Sub), cmp.Compare(a.Label, b.Label))
	})
	for _, c := range kept {
		p.Table.Rows = append(p.Table.Rows, []string{c.Day.Format(time.DateOnly), c.Key, c.Sub, c.Label, itoa(c.N)})
	}
	return p, nil
}

func (h *handler) migration(ctx context.Context, r *request) (page, error) {
	f, err := h.cfg.Source.MigrationReport(ctx, store.ReportQuery{From: r.q.From, To: r.q.End.AddDate(0, 0, -1)})
	if err != nil {
		return page{}, err
	}
	var states []string
	for _, s := range store.MigrationStates {
		states = append(states, string(s))
	}
	state, manufacturer, supplier := r.query["state"], r.query["manufacturer"], r.query["supplier"]
	p := page{
		Intro: "The TCoS → ECoS migration (product.md §5): every device by state, manufacturer and responsible supplier, the moves per day, " +
			"and the exception queue by reason. `ecos migrate report` gives the full report.",
		Filters: []filter{daysFilter(r), {Name: "state", Label: "state", Value: state, Options: states},
			{Name: "manufacturer", Label: "manufacturer", Value: manufacturer}, {Name: "supplier", Label: "supplier", Value: supplier}},
		Table: table{Columns: []string{"manufacturer", "model", "firmware", "supplier", "state", "devices"}},
	}
	var inv []store.InventoryCount
	for _, c := range f.Inventory {
		if (state == "" || string(c.State) == state) && (manufacturer == "" || c.Manufacturer == manufacturer) && (supplier == "" || c.Supplier == supplier) {
			inv = append(inv, c)
			p.Table.Rows = append(p.Table.Rows, []string{c.Manufacturer, c.Model, c.Firmware, c.Supplier, string(c.State), itoa(c.Devices)})
		}
	}
	stacked := func(id, title string, keyOf func(store.InventoryCount) string) chart {
		at := map[string]int{}
		ch := chart{ID: id, Title: title, Horizontal: true}
		vals := map[string][]int64{}
		for _, c := range inv {
			k := orUnknown(keyOf(c))
			if _, ok := at[k]; !ok {
				at[k] = len(ch.Labels)
				ch.Labels = append(ch.Labels, k)
			}
		}
		for _, c := range inv {
			s := string(c.State)
			if vals[s] == nil {
				vals[s] = make([]int64, len(ch.Labels))
			}
			vals[s][at[orUnknown(keyOf(c))]] += c.Devices
		}
		for _, s := range states {
			if vals[s] != nil {
				ch.Series = append(ch.Series, series{Name: s, Values: vals[s]})
			}
		}
		return ch
	}
	moves := make([]store.DashCount, 0, len(f.Moves))
	for _, m := range f.Moves {
		moves = append(moves, store.DashCount{Day: m.Day, Key: string(m.To), N: m.Moves})
	}
	exc := chart{ID: "exceptions", Title: "Exception queue: devices in exception by reason", Horizontal: true}
	ex := series{Name: "exception"}
	for _, e := range f.Exceptions {
		exc.Labels = append(exc.Labels, reasonOf(e.Reason))
		ex.Values = append(ex.Values, e.N)
	}
	exc.Series = []series{ex}
	p.Charts = []chart{
		stacked("by-state", "Devices by state", func(c store.InventoryCount) string { return string(c.State) }),
		stacked("by-manufacturer", "Devices by manufacturer and state", func(c store.InventoryCount) string { return c.Manufacturer }),
		stacked("by-supplier", "Devices by supplier and state", func(c store.InventoryCount) string { return c.Supplier }),
		byDay("moves", "Moves per day, by the state entered", r.q, moves, states, func(c store.DashCount) string { return c.Key }),
		exc,
	}
	return p, nil
}

func (h *handler) devices(ctx context.Context, r *request) (page, error) {
	times, err := h.cfg.Source.DashboardResponseTimes(ctx, r.q)
	if err != nil {
		return page{}, err
	}
	outcomes, err := h.cfg.Source.DashboardCommandOutcomes(ctx, r.q)
	if err != nil {
		return page{}, err
	}
	p := page{
		Intro: "The commands sent to devices in the window, for Users' requests and for the migration: how long each device took to answer, " +
			"and the commands that did not succeed (failed: never answered; otherwise the status the device answered).",
		Filters: []filter{daysFilter(r)},
		Table:   table{Columns: []string{"source", "state", "outcome", "commands"}},
	}
	hist := chart{ID: "response-times", Title: "Device response times (ms)"}
	at := map[string]int{}
	for _, b := range store.ResponseBuckets {
		at[itoa(b)] = len(hist.Labels)
		hist.Labels = append(hist.Labels, "< "+itoa(b))
	}
	at[""] = len(hist.Labels)
	hist.Labels = append(hist.Labels, "≥ "+itoa(store.ResponseBuckets[len(store.ResponseBuckets)-1]))
	vals := map[string][]int64{}
	for _, c := range times {
		if vals[c.Sub] == nil {
			vals[c.Sub] = make([]int64, len(hist.Labels))
		}
		vals[c.Sub][at[c.Key]] += c.N
	}
	for _, s := range []string{store.SourceRequest, store.SourceMigration} {
		if vals[s] != nil {
			hist.Series = append(hist.Series, series{Name: s, Values: vals[s]})
		}
	}
	byOutcome := map[string]int64{}
	for _, c := range outcomes {
		if c.Key == "failed" || (c.Sub != "" && c.Sub != "success" && c.Sub != "accepted") {
			byOutcome[c.Label+" "+c.Key+": "+reasonOrNone(c.Sub)] += c.N
		}
	}
	fails := chart{ID: "failures", Title: "Commands that did not succeed, by state and reason", Horizontal: true}
	fs := series{Name: "failed"}
	for _, k := range sortedByCount(byOutcome) {
		fails.Labels = append(fails.Labels, k)
		fs.Values = append(fs.Values, byOutcome[k])
	}
	fails.Series = []series{fs}
	p.Charts = []chart{hist, fails}
	slices.SortFunc(outcomes, func(a, b store.DashCount) int {
		return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.Key, b.Key), cmp.Compare(b.N, a.N), cmp.Compare(a.Sub, b.Sub))
	})
	for _, c := range outcomes {
		p.Table.Rows = append(p.Table.Rows, []string{c.Label, c.Key, c.Sub, itoa(c.N)})
	}
	return p, nil
}

func reasonOrNone(s string) string {
	if s == "" {
		return "(none recorded)"
	}
	return s
}

// orUnknown names a make or supplier the inventory does not know.
func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
