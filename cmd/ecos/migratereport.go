package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/migreport"
)

func runMigrateReport(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos migrate report", "")
	f := newDBFlags(fs)
	format := formatFlag(fs, "text", "json", "csv", "png")
	from := fs.String("from", "", "the first `DAY` (YYYY-MM-DD, UTC) of the daily tables (default the day of the first move)")
	to := fs.String("to", "", "the last `DAY` (YYYY-MM-DD, UTC): the report is as of its end (default today)")
	goLive := fs.String("go-live", "", "the go-live `DAY` the supply-chain tables count from (default migration.go_live of --config)")
	charts := fs.String("charts", "", "also write the PNG charts into `DIR` (made if missing); with --format png, where they go (default .)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opts := migreport.Options{Now: time.Now()}
	var err error
	for _, d := range []struct {
		flag, v string
		t       *time.Time
	}{{"--from", *from, &opts.From}, {"--to", *to, &opts.To}, {"--go-live", *goLive, &opts.GoLive}} {
		if d.v == "" {
			continue
		}
		if *d.t, err = time.Parse(time.DateOnly, d.v); err != nil {
			return usagef("%s %q: want a day, YYYY-MM-DD", d.flag, d.v)
		}
	}
	if *f.config != "" {
		c, err := config.Load(*f.config)
		if err != nil {
			return malformed(err)
		}
		if opts.GoLive.IsZero() {
			opts.GoLive = c.Migration.GoLiveDate()
		}
		for _, p := range c.Migration.Plan {
			opts.Plan = append(opts.Plan, migreport.Target{By: p.ByDate(), ECoS: int64(p.ECoS)})
		}
	}
	db, err := f.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := migreport.Make(ctx, db, opts)
	if err != nil {
		return err
	}
	report := std.err // where the chart files are named: beside the report
	switch format.value {
	case "json":
		err = r.WriteJSON(std.out)
	case "csv":
		err = r.WriteCSV(std.out)
	case "png": // the charts are the report, to mail
		report = std.out
		if *charts == "" {
			*charts = "."
		}
	default:
		err = r.WriteText(std.out)
	}
	if err != nil || *charts == "" {
		return err
	}
	if err := os.MkdirAll(*charts, 0o755); err != nil {
		return err
	}
	files, err := r.WriteCharts(*charts)
	for _, name := range files {
		fmt.Fprintf(report, "wrote %s\n", name)
	}
	return err
}
