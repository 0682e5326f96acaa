package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ecos-cos/ecos/bench"
)

func runBenchMPID(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos bench mpid", "")
	sizes := fs.String("sizes", "95115,951148", "comma-separated month sizes in `REQUESTS`, one fresh database each (the deck's month is 951148)")
	format := formatFlag(fs, "text", "json")
	db := benchStoreFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if !benchStoreOK(*db) {
		return usagef("--db %q: want sqlite or a postgres:// URL", *db)
	}
	o := bench.MPIDOptions{Progress: func(s string) { fmt.Fprintln(std.err, s) }}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 10_000_000 {
			return usagef("--sizes: %q is not a number of requests from 1 to 10000000", f)
		}
		o.Sizes = append(o.Sizes, n)
	}
	if *db != "sqlite" {
		o.Postgres = *db
	}
	res, err := bench.MPID(ctx, o)
	if err != nil {
		return err
	}
	if format.value == "json" {
		return printJSON(std, res)
	}
	tw := tabwriter.NewWriter(std.out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\trequests\tparties\tMPIDs\tgenerate s\treport s\tone party s\tdetail rows\tallocated MB\tlive heap MB\t")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.3f\t%.3f\t%d\t%.1f\t%.1f\t\n", r.Store, r.Requests, r.Parties, r.MPIDs,
			r.GenerateSeconds, r.ReportSeconds, r.PartySeconds, r.DetailRows, r.AllocMB, r.LiveHeapMB)
	}
	tw.Flush()
	for _, r := range res {
		if r.Total != int64(r.Requests) {
			return invalid(fmt.Errorf("the %d-request month's report counts %d processed", r.Requests, r.Total))
		}
	}
	return nil
}
