package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// The orchestrator's commands. status and history read the database;
// the others act through the running service's operator API, where the
// migration runs.
func migrateCommand() *command {
	return &command{name: "migrate", summary: "the TCoS → ECoS migration of the device fleet", subs: []*command{
		{name: "status", summary: "how many devices are in each migration state", run: runMigrateStatus},
		{name: "history", summary: "one device's inventory, migration state and every transition", run: runMigrateHistory},
		{name: "plan", summary: "what a wave with a filter would take, sending nothing", run: runMigratePlan},
		{name: "run", summary: "start a wave (a dry run without --execute) and follow its progress", run: runMigrateRun},
		{name: "waves", summary: "every wave and its devices per state", run: runMigrateWaves},
		{name: "pause", summary: "pause a wave: commands in flight finish, nothing new is sent", run: runWaveAction("pause")},
		{name: "resume", summary: "resume a paused wave (after a hold, a pause or a restart)", run: runWaveAction("resume")},
		{name: "cancel", summary: "cancel a wave: its queued devices go back to tcos", run: runWaveAction("cancel")},
		{name: "retry", summary: "send an exception device again, in a new round of attempts", run: runDeviceAction("retry")},
		{name: "exclude", summary: "take devices out of the migration", run: runDeviceAction("exclude")},
		{name: "readback", summary: "read back an exception or excluded device's transitionalCoS cell", run: runDeviceAction("readback")},
		{name: "report", summary: "daily and cumulative counts, failure reasons, progress against plan, supply chain; PNG charts", run: runMigrateReport},
	}}
}

// migrationStatus is what `ecos migrate status --format json` prints.
type migrationStatus struct {
	Devices int64                          `json:"devices"`
	States  map[store.MigrationState]int64 `json:"states"`
}

func runMigrateStatus(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos migrate status", "")
	f := newDBFlags(fs)
	format := formatFlag(fs, "text", "json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	db, err := f.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.MigrationCounts(ctx)
	if err != nil {
		return err
	}
	st := migrationStatus{States: counts}
	for _, n := range counts {
		st.Devices += n
	}
	if format.value == "json" {
		return printJSON(std, st)
	}
	tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "state\tdevices\t\n")
	for _, s := range store.MigrationStates {
		fmt.Fprintf(tw, "%s\t%d\t\n", s, counts[s])
	}
	fmt.Fprintf(tw, "total\t%d\t\n", st.Devices)
	return tw.Flush()
}

// deviceHistory is what `ecos migrate history --format json` prints.
type deviceHistory struct {
	Device       eui.EUI              `json:"device"`
	Type         store.DeviceType     `json:"type"`
	Manufacturer string               `json:"manufacturer"`
	Model        string               `json:"model"`
	Firmware     string               `json:"firmware"`
	MPxN         string               `json:"mpxn"`
	Supplier     string               `json:"responsible_supplier"`
	Installed    string               `json:"install_date,omitempty"`
	Credential   store.Credential     `json:"credential"`
	SKI          string               `json:"credential_ski,omitempty"`
	State        store.MigrationState `json:"state"`
	Attempt      int64                `json:"attempt"`
	Transitions  []transition         `json:"transitions"`
}

type transition struct {
	Seq     int64                `json:"seq"`
	At      time.Time            `json:"at"`
	From    store.MigrationState `json:"from"`
	To      store.MigrationState `json:"to"`
	Cause   string               `json:"cause"`
	Attempt int64                `json:"attempt"`
	Counter uint64               `json:"counter,omitempty"`
}

func runMigrateHistory(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos migrate history", "EUI")
	f := newDBFlags(fs)
	format := formatFlag(fs, "text", "json")
	arg, err := parseOne(fs, args, "EUI")
	if err != nil {
		return err
	}
	device, err := eui.Parse(arg)
	if err != nil {
		return usagef("device %q: %v", arg, err)
	}
	db, err := f.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	inv, err := db.InventoryOf(ctx, device)
	if err != nil {
		return err
	}
	st, err := db.MigrationStatusOf(ctx, device)
	if err != nil {
		return err
	}
	hist, err := db.MigrationHistory(ctx, device)
	if err != nil {
		return err
	}
	h := deviceHistory{Device: device, Type: inv.Type, Manufacturer: inv.Manufacturer, Model: inv.Model, Firmware: inv.Firmware,
		MPxN: inv.MPxN, Supplier: inv.ResponsibleSupplier, Credential: inv.Credential, SKI: fmt.Sprintf("%X", inv.CredentialSKI),
		State: st.State, Attempt: st.Attempt, Transitions: []transition{}}
	if !inv.Installed.IsZero() {
		h.Installed = inv.Installed.Format(time.DateOnly)
	}
	for _, t := range hist {
		h.Transitions = append(h.Transitions, transition(t))
	}
	if format.value == "json" {
		return printJSON(std, h)
	}
	w := std.out
	fmt.Fprintf(w, "device:      %s %s, %s %s firmware %s\n", h.Device, h.Type, orNone(h.Manufacturer), orNone(h.Model), orNone(h.Firmware))
	fmt.Fprintf(w, "mpxn:        %s, responsible supplier %s, installed %s\n", orNone(h.MPxN), orNone(h.Supplier), orNone(h.Installed))
	fmt.Fprintf(w, "credential:  %s %s\n", h.Credential, h.SKI)
	fmt.Fprintf(w, "state:       %s (attempt %d)\n", h.State, h.Attempt)
	if len(hist) == 0 {
		fmt.Fprintf(w, "history:     none: the state is the imported one\n")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "seq\ttime\tfrom\tto\tattempt\tcounter\tcause\n")
	for _, t := range hist {
		counter := "-"
		if t.Counter != 0 {
			counter = fmt.Sprint(t.Counter)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", t.Seq, t.At.Format(time.RFC3339Nano), t.From, t.To, t.Attempt, counter, t.Cause)
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
