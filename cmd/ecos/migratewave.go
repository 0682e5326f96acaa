package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// waveFilterFlags choose the devices of a wave.
type waveFilterFlags struct {
	suppliers, manufacturers, models, firmware, mpxn, from, to, devices *string
}

func addWaveFilterFlags(fs *flag.FlagSet) waveFilterFlags {
	return waveFilterFlags{
		suppliers:     fs.String("supplier", "", "only devices whose responsible supplier is one of these `IDS` (comma-separated)"),
		manufacturers: fs.String("manufacturer", "", "only these `NAMES` (comma-separated)"),
		models:        fs.String("model", "", "only these `MODELS` (comma-separated)"),
		firmware:      fs.String("firmware", "", "only these firmware `VERSIONS` (comma-separated)"),
		mpxn:          fs.String("mpxn-prefix", "", "only devices whose MPxN starts with `PREFIX` (a region)"),
		from:          fs.String("installed-from", "", "only devices installed on or after `DAY` (YYYY-MM-DD)"),
		to:            fs.String("installed-to", "", "only devices installed before `DAY` (YYYY-MM-DD)"),
		devices:       fs.String("devices", "", "only these devices: `EUIS` (comma-separated)"),
	}
}

func list(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (f waveFilterFlags) filter() (store.WaveFilter, error) {
	w := store.WaveFilter{Suppliers: list(*f.suppliers), Manufacturers: list(*f.manufacturers), Models: list(*f.models),
		Firmware: list(*f.firmware), MPxNPrefix: *f.mpxn}
	for _, d := range []struct {
		flag, v string
		t       *time.Time
	}{{"--installed-from", *f.from, &w.InstalledFrom}, {"--installed-to", *f.to, &w.InstalledTo}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.v)
		if err != nil {
			return w, usagef("%s %q: want a day, YYYY-MM-DD", d.flag, d.v)
		}
		*d.t = t
	}
	if !w.InstalledFrom.IsZero() && !w.InstalledTo.IsZero() && !w.InstalledFrom.Before(w.InstalledTo) {
		return w, usagef("--installed-from %s is not before --installed-to %s: no day is in the range", *f.from, *f.to)
	}
	ds, err := parseEUIs(list(*f.devices))
	if err != nil {
		return w, err
	}
	w.Devices = ds
	return w, nil
}

func parseEUIs(ss []string) ([]eui.EUI, error) {
	var out []eui.EUI
	for _, s := range ss {
		e, err := eui.Parse(s)
		if err != nil {
			return nil, usagef("device %q is not an EUI-64: want 16 hex digits, or 8 pairs separated by dashes", s)
		}
		out = append(out, e)
	}
	return out, nil
}

func runMigratePlan(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos migrate plan", "")
	of := addOperatorFlags(fs)
	ff := addWaveFilterFlags(fs)
	format := formatFlag(fs, "text", "json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	f, err := ff.filter()
	if err != nil {
		return err
	}
	c, err := of.client()
	if err != nil {
		return err
	}
	p, err := whenUp(ctx, func() (api.PlanView, error) { return c.PlanWave(ctx, f) })
	if err != nil {
		return operatorHint(err, c)
	}
	return printPlan(std, p, format.value)
}

func printPlan(std stdio, p api.PlanView, format string) error {
	if format == "json" {
		return writeJSONOut(std, p)
	}
	fmt.Fprintf(std.out, "a wave with this filter would migrate %d devices (CS02b mode 6, signed with the TCoS key)\n", p.Migrate)
	fmt.Fprintf(std.out, "and first read back %d devices whose credential is unknown (CS02a)\n", p.ReadBack)
	if len(p.First) > 0 {
		var s []string
		for _, d := range p.First {
			s = append(s, d.String())
		}
		fmt.Fprintf(std.out, "first: %s\n", strings.Join(s, " "))
	}
	return nil
}

func writeJSONOut(std stdio, v any) error {
	enc := json.NewEncoder(std.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runMigrateRun(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos migrate run", "")
	of := addOperatorFlags(fs)
	ff := addWaveFilterFlags(fs)
	name := fs.String("name", "", "the wave's `NAME` (default: wave and the time)")
	rate := fs.Float64("rate", 0, "at most `N` devices a second (0: no limit)")
	concurrency := fs.Int("concurrency", 100, "at most `N` devices with a command in flight")
	execute := fs.Bool("execute", false, "send: without it, show what the wave would do and send nothing")
	detach := fs.Bool("detach", false, "start the wave and return at once, instead of following it")
	format := formatFlag(fs, "text", "json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	f, err := ff.filter()
	if err != nil {
		return err
	}
	if !(*rate >= 0) || math.IsInf(*rate, 0) {
		return usagef("--rate %g: want a number of devices a second, 0 or more (0: no limit)", *rate)
	}
	if *concurrency < 1 || *concurrency > store.MaxWaveConcurrency {
		return usagef("--concurrency %d: want 1 to %d devices in flight", *concurrency, store.MaxWaveConcurrency)
	}
	c, err := of.client()
	if err != nil {
		return err
	}
	if !*execute {
		p, err := whenUp(ctx, func() (api.PlanView, error) { return c.PlanWave(ctx, f) })
		if err != nil {
			return operatorHint(err, c)
		}
		if err := printPlan(std, p, format.value); err != nil {
			return err
		}
		if format.value == "text" {
			fmt.Fprintln(std.out, "dry run: nothing sent. Add --execute to start the wave.")
		}
		return nil
	}
	if *name == "" {
		*name = "wave " + time.Now().UTC().Format("2006-01-02 15:04")
	}
	w, err := whenUp(ctx, func() (api.WaveView, error) {
		return c.StartWave(ctx, api.WaveRequest{Name: *name, Filter: f, Rate: *rate, Concurrency: *concurrency})
	})
	if err != nil {
		return operatorHint(err, c)
	}
	fmt.Fprintf(std.err, "wave %d started: %s\n", w.ID, w.Name)
	if *detach {
		return printWave(std, w, format.value)
	}
	return followWave(ctx, std, c, w.ID, format.value)
}

// followWave shows a wave's progress until it stops running (or ctx ends:
// the wave goes on in the service). On a terminal the line is redrawn in
// place; elsewhere each change is a line of its own, at most one a second.
func followWave(ctx context.Context, std stdio, c *api.Client, id int64, format string) error {
	tty := isTerminal(std.err)
	// The rate is over the last half minute: a wave's pace changes (a
	// busy hour, retries at its end), and the average since the start
	// would hide it.
	type sample struct {
		at   time.Time
		done int64
	}
	var recent []sample
	var shown string
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		w, err := c.Wave(ctx, id)
		if err != nil {
			return operatorHint(err, c)
		}
		done := w.Devices["ecos"] + w.Devices["exception"] + w.Devices["excluded"]
		total := done + w.Devices["queued"] + w.Devices["sent"] + w.Devices["retry-wait"] + w.Devices["unknown"] + w.Devices["tcos"] + w.Untaken
		now := time.Now()
		recent = append(recent, sample{now, done})
		for len(recent) > 2 && now.Sub(recent[0].at) > 30*time.Second {
			recent = recent[1:]
		}
		rate := 0.0
		if span := now.Sub(recent[0].at).Seconds(); span > 0 {
			rate = float64(done-recent[0].done) / span
		}
		eta := "?"
		if rate > 0 {
			eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
		}
		counts := fmt.Sprintf("wave %d %s: %s %d/%d", w.ID, w.State, bar(done, total, 20), done, total)
		states := fmt.Sprintf("ecos %d  sent %d  retry-wait %d  unknown %d  exception %d", w.Devices["ecos"], w.Devices["sent"],
			w.Devices["retry-wait"], w.Devices["unknown"], w.Devices["exception"])
		line := fmt.Sprintf("%s  %.0f/s  eta %s  %s", counts, rate, eta, states)
		switch {
		case tty:
			fmt.Fprintf(std.err, "\r%s   ", line)
		case counts+states != shown:
			fmt.Fprintln(std.err, line)
		}
		shown = counts + states
		if w.State != "running" {
			if tty {
				fmt.Fprintln(std.err)
			}
			return printWave(std, w, format)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(std.err, "\nstopped following; wave %d goes on in the service (ecos migrate waves)\n", id)
			return nil
		case <-tick.C:
		}
	}
}

func bar(done, total int64, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", width) + "]"
	}
	n := int(done * int64(width) / total)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func printWave(std stdio, w api.WaveView, format string) error {
	if format == "json" {
		return writeJSONOut(std, w)
	}
	fmt.Fprintf(std.out, "wave %d  %s  %s", w.ID, w.Name, w.State)
	if w.Reason != "" {
		fmt.Fprintf(std.out, " (%s)", w.Reason)
	}
	fmt.Fprintln(std.out)
	for _, s := range store.MigrationStates {
		if n := w.Devices[string(s)]; n > 0 {
			fmt.Fprintf(std.out, "  %-10s %d\n", s, n)
		}
	}
	if w.Untaken > 0 {
		fmt.Fprintf(std.out, "  %-10s %d\n", "not taken", w.Untaken)
	}
	return nil
}

func runMigrateWaves(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos migrate waves", "[WAVE]")
	of := addOperatorFlags(fs)
	wait := fs.Bool("wait", false, "with WAVE: follow it until it stops running (done, paused or cancelled)")
	format := formatFlag(fs, "text", "json")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usagef("give at most one wave number")
	}
	if *wait && len(rest) == 0 {
		return usagef("--wait needs the WAVE to follow")
	}
	c, err := of.client()
	if err != nil {
		return err
	}
	if len(rest) == 1 {
		id, err := waveNumber(rest[0])
		if err != nil {
			return err
		}
		if *wait {
			return followWave(ctx, std, c, id, format.value)
		}
		w, err := whenUp(ctx, func() (api.WaveView, error) { return c.Wave(ctx, id) })
		if err != nil {
			return operatorHint(err, c)
		}
		return printWave(std, w, format.value)
	}
	ws, err := whenUp(ctx, func() ([]api.WaveView, error) { return c.Waves(ctx) })
	if err != nil {
		return operatorHint(err, c)
	}
	if format.value == "json" {
		return writeJSONOut(std, ws)
	}
	if len(ws) == 0 {
		fmt.Fprintln(std.out, "no waves yet (ecos migrate run)")
	}
	for _, w := range ws {
		if err := printWave(std, w, "text"); err != nil {
			return err
		}
	}
	return nil
}

func waveNumber(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("%q is not a wave number (ecos migrate waves lists them)", s)
	}
	return id, nil
}

func runWaveAction(action string) func(context.Context, stdio, []string) error {
	return func(ctx context.Context, std stdio, args []string) error {
		fs := newFlags(std, "ecos migrate "+action, "WAVE")
		of := addOperatorFlags(fs)
		note := fs.String("note", "", "why, for the record")
		format := formatFlag(fs, "text", "json")
		rest, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(rest) != 1 {
			return usagef("give one wave number")
		}
		id, err := waveNumber(rest[0])
		if err != nil {
			return err
		}
		c, err := of.client()
		if err != nil {
			return err
		}
		w, err := whenUp(ctx, func() (api.WaveView, error) { return c.ActOnWave(ctx, id, action, *note) })
		if err != nil {
			return operatorHint(err, c)
		}
		return printWave(std, w, format.value)
	}
}

var deviceActionDone = map[string]string{"retry": "retried", "exclude": "excluded", "readback": "read back"}

func runDeviceAction(action string) func(context.Context, stdio, []string) error {
	return func(ctx context.Context, std stdio, args []string) error {
		fs := newFlags(std, "ecos migrate "+action, "EUI...")
		of := addOperatorFlags(fs)
		note := fs.String("note", "", "why, for the device's history (required)")
		format := formatFlag(fs, "text", "json")
		rest, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(rest) == 0 {
			return usagef("name at least one device")
		}
		if strings.TrimSpace(*note) == "" {
			return usagef("--note is required: say why, for the device's history")
		}
		ds, err := parseEUIs(rest)
		if err != nil {
			return err
		}
		c, err := of.client()
		if err != nil {
			return err
		}
		res, err := whenUp(ctx, func() ([]api.DeviceActionResult, error) { return c.ActOnDevices(ctx, action, *note, ds) })
		if err != nil {
			return operatorHint(err, c)
		}
		if format.value == "json" {
			return writeJSONOut(std, res)
		}
		var refused []api.DeviceActionResult
		for _, r := range res {
			if r.Error != "" {
				refused = append(refused, r)
				fmt.Fprintf(std.out, "%s  refused: %s\n", r.Device, r.Error)
				continue
			}
			fmt.Fprintf(std.out, "%s  %s → %s\n", r.Device, r.From, r.To)
		}
		switch {
		case len(refused) == 1:
			return fmt.Errorf("device %s not %s: %s", refused[0].Device, deviceActionDone[action], refused[0].Error)
		case len(refused) > 1:
			return fmt.Errorf("%d of %d devices not %s (each is listed above with why)", len(refused), len(res), deviceActionDone[action])
		}
		return nil
	}
}
