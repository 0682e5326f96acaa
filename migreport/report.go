// Package migreport makes the TCoS → ECoS migration reports (the
// project's EMRR, docs/migration-reports.md): daily and cumulative counts
// by state, the fleet by make and supplier, failure reasons, progress
// against the plan and the supply chain, as text, JSON, CSV and PNG
// charts. It reads counts the store has grouped; it never holds devices.
//
// Trust level: reads the operator's own database and configuration.
package migreport

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// Source is the part of the store the reports read.
type Source interface {
	MigrationReport(ctx context.Context, q store.ReportQuery) (store.MigrationFacts, error)
}

// Target is one point of the plan: devices on ECoS by the end of By.
type Target struct {
	By   time.Time // a UTC day
	ECoS int64
}

// Options choose a report.
type Options struct {
	// From and To are the UTC days of the daily table, both inclusive. A
	// zero To is Now's day; a zero From the day of the first move.
	From, To time.Time
	GoLive   time.Time // zero: no supply-chain table
	Plan     []Target  // nil: no progress against plan
	Now      time.Time
}

// Report is one migration report. Its JSON is the document `ecos migrate
// report --format json` prints; the field names are stable
// (docs/migration-reports.md).
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	From        string    `json:"from"` // YYYY-MM-DD
	To          string    `json:"to"`
	// Devices and States are the fleet now.
	Devices      int64                          `json:"devices"`
	States       map[store.MigrationState]int64 `json:"states"`
	Daily        []Day                          `json:"daily"`
	ByDeviceType []DeviceTypeRow                `json:"by_device_type"`
	BySupplier   []SupplierRow                  `json:"by_supplier"`
	Failures     Failures                       `json:"failures"`
	Plan         *Plan                          `json:"plan"`         // null without migration.plan
	SupplyChain  *SupplyChain                   `json:"supply_chain"` // null without migration.go_live

	from, to    time.Time
	goLive      time.Time
	planTargets []Target
}

// Day is one row of the daily table.
type Day struct {
	Day string `json:"day"`
	// Moves counts the moves into each state that day; every state is
	// present.
	Moves map[store.MigrationState]int64 `json:"moves"`
	// ECoS is the devices on ECoS at the end of the day.
	ECoS int64 `json:"ecos_cumulative"`

	day time.Time
}

// DeviceTypeRow is the devices of one manufacturer, model and firmware
// now, by state.
type DeviceTypeRow struct {
	Manufacturer string                         `json:"manufacturer"`
	Model        string                         `json:"model"`
	Firmware     string                         `json:"firmware"`
	States       map[store.MigrationState]int64 `json:"states"`
	Total        int64                          `json:"total"`
}

// SupplierRow is the devices of one responsible supplier now, by state.
type SupplierRow struct {
	Supplier string                         `json:"supplier"`
	States   map[store.MigrationState]int64 `json:"states"`
	Total    int64                          `json:"total"`
}

// Failures are the failure reasons: moves of the range into exception
// and retry-wait, and the devices in exception now.
type Failures struct {
	Moves       []ReasonMoves   `json:"moves"`
	InException []ReasonDevices `json:"in_exception"`
}

// ReasonMoves is how many moves into To had Reason.
type ReasonMoves struct {
	To     store.MigrationState `json:"to"`
	Reason string               `json:"reason"`
	Moves  int64                `json:"moves"`
}

// ReasonDevices is how many devices are in exception for Reason.
type ReasonDevices struct {
	Reason  string `json:"reason"`
	Devices int64  `json:"devices"`
}

// Make reads the facts and makes the report.
func Make(ctx context.Context, src Source, o Options) (*Report, error) {
	to := o.To
	if to.IsZero() {
		to = o.Now.UTC().Truncate(24 * time.Hour)
	}
	f, err := src.MigrationReport(ctx, store.ReportQuery{From: o.From, To: to, GoLive: o.GoLive})
	if err != nil {
		return nil, err
	}
	return build(f, o), nil
}

// build makes the report of f; it reads nothing.
func build(f store.MigrationFacts, o Options) *Report {
	r := &Report{GeneratedAt: o.Now.UTC(), From: f.From.Format(time.DateOnly), To: f.To.Format(time.DateOnly),
		States: states(), Daily: []Day{}, ByDeviceType: []DeviceTypeRow{}, BySupplier: []SupplierRow{},
		Failures: Failures{Moves: []ReasonMoves{}, InException: []ReasonDevices{}}, from: f.From, to: f.To,
		goLive: o.GoLive, planTargets: o.Plan}
	r.inventory(f.Inventory)
	r.daily(f)
	for _, c := range f.Reasons {
		r.Failures.Moves = append(r.Failures.Moves, ReasonMoves{To: c.To, Reason: c.Reason, Moves: c.N})
	}
	for _, c := range f.Exceptions {
		r.Failures.InException = append(r.Failures.InException, ReasonDevices{Reason: c.Reason, Devices: c.N})
	}
	if len(o.Plan) > 0 {
		r.Plan = plan(o.Plan, o.GoLive, f.To, ecosAt(f))
	}
	if !o.GoLive.IsZero() {
		r.SupplyChain = supplyChain(f.SupplyChain, o.GoLive, f.To)
	}
	return r
}

func states() map[store.MigrationState]int64 {
	m := make(map[store.MigrationState]int64, len(store.MigrationStates))
	for _, s := range store.MigrationStates {
		m[s] = 0
	}
	return m
}

// inventory folds the counts by make, supplier and state into the fleet's
// states, a row per device type and a row per supplier, in the store's
// order (by make, then supplier).
func (r *Report) inventory(cs []store.InventoryCount) {
	types := map[[3]string]int{}
	sups := map[string]int{}
	for _, c := range cs {
		r.Devices += c.Devices
		r.States[c.State] += c.Devices
		k := [3]string{c.Manufacturer, c.Model, c.Firmware}
		i, ok := types[k]
		if !ok {
			i = len(r.ByDeviceType)
			types[k] = i
			r.ByDeviceType = append(r.ByDeviceType, DeviceTypeRow{Manufacturer: c.Manufacturer, Model: c.Model, Firmware: c.Firmware, States: states()})
		}
		r.ByDeviceType[i].States[c.State] += c.Devices
		r.ByDeviceType[i].Total += c.Devices
		j, ok := sups[c.Supplier]
		if !ok {
			j = len(r.BySupplier)
			sups[c.Supplier] = j
			r.BySupplier = append(r.BySupplier, SupplierRow{Supplier: c.Supplier, States: states()})
		}
		r.BySupplier[j].States[c.State] += c.Devices
		r.BySupplier[j].Total += c.Devices
	}
	sortBy(r.BySupplier, func(s SupplierRow) string { return s.Supplier })
}

// ecosAt returns the devices on ECoS at the end of a day, from the
// imported ones and the moves into ecos of every day.
func ecosAt(f store.MigrationFacts) func(day time.Time) int64 {
	return func(day time.Time) int64 {
		n := f.ECoSImported
		for _, c := range f.ECoSByDay {
			if c.Day.After(day) {
				break
			}
			n += c.N
		}
		return n
	}
}

func (r *Report) daily(f store.MigrationFacts) {
	at := ecosAt(f)
	i := 0
	for d := f.From; !d.After(f.To); d = d.AddDate(0, 0, 1) {
		day := Day{Day: d.Format(time.DateOnly), Moves: states(), ECoS: at(d), day: d}
		for ; i < len(f.Moves) && !f.Moves[i].Day.After(d); i++ {
			day.Moves[f.Moves[i].To] += f.Moves[i].Moves
		}
		r.Daily = append(r.Daily, day)
	}
}

// sortBy sorts rows by key, keeping the order of equal keys.
func sortBy[T any](rows []T, key func(T) string) {
	slices.SortStableFunc(rows, func(a, b T) int { return strings.Compare(key(a), key(b)) })
}
