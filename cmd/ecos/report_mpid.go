package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/mpidreport"
	"github.com/ecos-cos/ecos/store"
)

// runReportMPID reads the database (--db, --config) or, with --operator
// or --api, asks a running service's operator API.
func runReportMPID(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos report mpid", "")
	of := addOperatorFlags(fs)
	fs.Lookup("config").Usage = "read the database the configuration `FILE` names (with --api: ask its service's operator API instead)"
	fs.Lookup("operator").Usage = "ask the operator API at `URL` instead of reading a database"
	f := dbFlags{config: of.config, dsn: fs.String("db", "", "the database, `DSN`: a SQLite file, or a postgres:// URL (default ecos.db, without --config)")}
	viaAPI := fs.Bool("api", false, "ask the operator API of the service --config describes (or the default one) instead of reading the database")
	month := fs.String("month", "", "the UTC calendar `MONTH` to report, YYYY-MM (required)")
	party := fs.String("party", "", "only this SEC party's rows and figures: its extract, to send to it (`ID`)")
	format := formatFlag(fs, "text", "csv", "json", "html", "png")
	out := fs.String("out", "", "write to `PATH`: a file (default standard output), or for png a directory, made if missing (default .)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *month == "" {
		return usagef("--month is required: the month to report, YYYY-MM, such as 2022-10")
	}
	m, err := mpidreport.ParseMonth(*month)
	if err != nil {
		return usagef("--month: %v", err)
	}
	var r *mpidreport.Report
	if *viaAPI || *of.url != "" {
		if *f.dsn != "" {
			return usagef("--db reads a database, --operator and --api ask the operator API: give one")
		}
		r, err = mpidReportOverAPI(ctx, of, *month, *party)
	} else {
		r, err = mpidReportFromDB(ctx, f, m, *party)
	}
	if err != nil {
		return err
	}
	if format.value == "png" {
		return writeMPIDCharts(std, r, *out)
	}
	var b bytes.Buffer
	switch format.value {
	case "csv":
		err = r.WriteCSV(&b)
	case "json":
		err = r.WriteJSON(&b)
	case "html":
		err = r.WriteHTML(&b)
	default:
		err = r.WriteText(&b)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = std.out.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return malformed(err)
	}
	fmt.Fprintf(std.err, "wrote %s\n", *out)
	return nil
}

func mpidReportFromDB(ctx context.Context, f dbFlags, month time.Time, party string) (*mpidreport.Report, error) {
	db, err := f.openCurrent(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r, err := mpidreport.Build(ctx, db, month, party)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid(fmt.Errorf("no SEC party %q in the database", party))
	}
	return r, err
}

func writeMPIDCharts(std stdio, r *mpidreport.Report, dir string) error {
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return malformed(err)
	}
	files, err := r.WriteCharts(dir)
	for _, name := range files {
		fmt.Fprintf(std.err, "wrote %s\n", name)
	}
	return err
}

func mpidReportOverAPI(ctx context.Context, of operatorFlags, month, party string) (*mpidreport.Report, error) {
	c, err := of.client()
	if err != nil {
		return nil, err
	}
	r, err := c.MPIDReport(ctx, month, party)
	if re, ok := errors.AsType[*api.ReportError](err); ok {
		return nil, invalid(errors.New(re.Msg))
	}
	if err != nil {
		return nil, operatorHint(err, c)
	}
	return r, nil
}
