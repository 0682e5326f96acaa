package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"text/tabwriter"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/quarantinereport"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// Default addresses of a local server, as config's defaults.
const (
	defaultURL         = "https://127.0.0.1:8079"
	defaultOperatorURL = "http://127.0.0.1:8078"
)

func adtSubmitCommand() *command {
	return &command{name: "submit", summary: "send a signed ADT file or Quarantined Communications Action File to a running server", run: runADTSubmit}
}

func adtShowCommand() *command {
	return &command{name: "show", summary: "show a User's ADT files, thresholds in force and current counts (operator API)", run: runADTShow}
}

func quarantineCommand() *command {
	return &command{name: "quarantine", summary: "list, release and delete requests held by anomaly detection (operator API)", subs: []*command{
		{name: "list", summary: "list held (or formerly held) requests; the per-User quarantine report as text, CSV or JSON", run: runQuarantineList},
		{name: "release", summary: "release held requests by QuarantineEventRef: they go on to be signed and sent", run: runQuarantineDecide(true)},
		{name: "delete", summary: "delete held requests by QuarantineEventRef: their Users are told", run: runQuarantineDecide(false)},
	}}
}

func runADTSubmit(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos adt submit", "FILE")
	uf := addUserFlags(fs)
	demoDir := fs.String("demo", "", "a demo `DIR` from \"ecos serve --demo\": its URL, and the TLS client certificate of the User the file is about")
	operator := fs.String("operator", "", "send through the operator API at this `URL` instead (needed for --legacy)")
	legacy := fs.Bool("legacy", false, "with --operator: carry over a legacy file (no sequence number) from before June 2023")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *legacy && *operator == "" {
		return usagef("--legacy goes through the operator API: give --operator URL")
	}
	b, err := readInput(std, name)
	if err != nil {
		return malformed(err)
	}
	// With --demo, the TLS client certificate is that of the User the
	// file is about; the server checks they agree.
	var user eui.EUI
	if f, err := adt.Parse(b); err == nil {
		user = f.User
	} else if f, err := adt.ParseAction(b); err == nil {
		user = f.User
	}
	switch adt.Sniff(b) {
	case adt.KindThresholds:
		var a api.ADTAccepted
		if *operator != "" {
			a, err = (&api.Client{BaseURL: *operator}).SubmitADTAsOperator(ctx, b, *legacy)
		} else {
			var c *api.Client
			if c, err = uf.client(*demoDir, user); err != nil {
				return err
			}
			a, err = c.SubmitADT(ctx, b)
			err = connHint(err, c.BaseURL)
		}
		if err != nil {
			return refused(name, err)
		}
		fmt.Fprintf(std.out, "%s: accepted: User %s, sequence %d, signed by certificate %s; %d thresholds in force\n",
			name, a.User, a.Sequence, a.SignerSerial, len(a.Thresholds))
		return printThresholds(std, a.Thresholds, false)
	case adt.KindAction:
		if *operator != "" || *legacy {
			return usagef("action files go to the DUIS API (--url), as their User sends them")
		}
		c, err := uf.client(*demoDir, user)
		if err != nil {
			return err
		}
		held, err := c.SubmitActions(ctx, b)
		if err = connHint(err, c.BaseURL); err != nil {
			return refused(name, err)
		}
		fmt.Fprintf(std.out, "%s: applied: %d held request(s) decided\n", name, len(held))
		return printHolds(std, held)
	default:
		return invalid(fmt.Errorf("%s: neither an ADT file nor an action file (its second line is neither a threshold row nor an action row)", name))
	}
}

// refused turns a server's refusal into exit status 1 with every problem.
func refused(name string, err error) error {
	if re, ok := errors.AsType[*api.RefusedError](err); ok {
		return invalid(fmt.Errorf("%s: %w", name, re))
	}
	return err
}

func runADTShow(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos adt show", "USER|dcc")
	of := addOperatorFlags(fs)
	format := formatFlag(fs, "text", "json")
	all := fs.Bool("all", false, "also list the zero thresholds given to critical SRVs the file has no row for")
	user, err := parseOne(fs, args, "USER")
	if err != nil {
		return err
	}
	c, err := of.client()
	if err != nil {
		return err
	}
	if user == "dcc" {
		return operatorHint(showDCC(ctx, std, c, format.value == "json"), c)
	}
	v, err := c.ShowADT(ctx, user)
	if err != nil {
		return operatorHint(err, c)
	}
	if format.value == "json" {
		return printJSON(std, v)
	}
	fmt.Fprintf(std.out, "User %s: %d request(s) held\n", v.User, v.Held)
	if len(v.Files) == 0 {
		fmt.Fprintln(std.out, "no ADT file accepted: the default thresholds apply (anomaly.without_file)")
	}
	for i, f := range v.Files {
		state := "superseded"
		if i == 0 {
			state = "in force"
		}
		seq := strconv.FormatUint(f.Sequence, 10)
		if f.Legacy {
			seq = "legacy"
		}
		fmt.Fprintf(std.out, "file %s accepted %s via %s (%s)\n", seq, f.AcceptedAt, f.Source, state)
	}
	return printThresholds(std, v.Thresholds, *all)
}

// printThresholds lists thresholds; the zero defaults of critical SRVs
// without a row, a few dozen lines of zeros, only with all or when they
// have counted something.
// showDCC prints the DCC-wide thresholds, over every User and the CoS
// Party's own commands, with their counts.
func showDCC(ctx context.Context, std stdio, c *api.Client, asJSON bool) error {
	v, err := c.ShowDCC(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(std, v)
	}
	if len(v.Thresholds) == 0 {
		fmt.Fprintln(std.out, "no DCC-wide thresholds (anomaly.dcc_thresholds)")
		return nil
	}
	fmt.Fprintln(std.out, "DCC-wide thresholds, over every User and the CoS Party's own commands:")
	return printThresholds(std, v.Thresholds, true)
}

func printThresholds(std stdio, th []api.ThresholdRow, all bool) error {
	tw := tabwriter.NewWriter(std.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SRV\tWARNING\tQUARANTINE\tINTERVAL\tCOUNT\t")
	hidden := 0
	for _, t := range th {
		if t.Default && !all && (t.Count == nil || *t.Count == 0) {
			hidden++
			continue
		}
		count := "-"
		if t.Count != nil {
			count = strconv.FormatUint(*t.Count, 10)
		}
		note := ""
		if t.Default {
			note = "(default: no valid row)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%dm\t%s\t%s\n", t.SRV, t.Warning, t.Quarantine, t.IntervalMinutes, count, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if hidden > 0 {
		fmt.Fprintf(std.out, "and %d SRVs resulting in critical commands held to zero (no row in the file; --all lists them)\n", hidden)
	}
	return nil
}

func runQuarantineList(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos quarantine list", "")
	of := addOperatorFlags(fs)
	user := fs.String("user", "", "only this User's requests (`EUI`): the per-User quarantine report")
	state := fs.String("state", "", "only requests in this state: `held|released|deleted|expired`")
	format := formatFlag(fs, "text", "csv", "json", "png")
	out := fs.String("out", ".", "with --format png: the `DIR` the charts are written into (made if missing)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c, err := of.client()
	if err != nil {
		return err
	}
	if format.value == "png" {
		return writeHoldCharts(ctx, std, c, *user, *state, *out)
	}
	if format.value != "text" {
		b, err := c.Quarantine(ctx, *user, *state, format.value)
		if err != nil {
			return operatorHint(err, c)
		}
		_, err = std.out.Write(b)
		return err
	}
	b, err := c.Quarantine(ctx, *user, *state, "json")
	if err != nil {
		return operatorHint(err, c)
	}
	var l api.HoldList
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("decoding the quarantine list: %w", err)
	}
	return printHolds(std, l.Holds)
}

// writeHoldCharts draws the quarantine report as PNG charts into dir and
// names each file written.
func writeHoldCharts(ctx context.Context, std stdio, c *api.Client, user, state, dir string) error {
	b, err := c.Quarantine(ctx, user, state, "json")
	if err != nil {
		return operatorHint(err, c)
	}
	var l api.HoldList
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("decoding the quarantine list: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files, err := quarantinereport.WriteCharts(l.Holds, user, dir)
	for _, f := range files {
		fmt.Fprintf(std.out, "wrote %s\n", f)
	}
	return err
}

func printHolds(std stdio, rows []thresholds.ReportRow) error {
	tw := tabwriter.NewWriter(std.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tSTATE\tREQUEST\tSRV\tBREACH\tCOUNT/QUARANTINE\tHELD AT\tEXPIRES\tDECIDED BY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d/%d in %dm\t%s\t%s\t%s\n", r.QuarantineEventRef, r.State, r.RequestID, r.SRV,
			r.Breach, r.Count, r.QuarantineThreshold, r.IntervalMinutes, r.HeldAt.Format("2006-01-02 15:04:05"),
			r.ExpiresAt.Format("2006-01-02 15:04"), r.DecidedBy)
	}
	return tw.Flush()
}

func runQuarantineDecide(release bool) func(context.Context, stdio, []string) error {
	verb := "delete"
	if release {
		verb = "release"
	}
	return func(ctx context.Context, std stdio, args []string) error {
		fs := newFlags(std, "ecos quarantine "+verb, "REF...")
		of := addOperatorFlags(fs)
		as := fs.String("as", "", "the operator's `NAME`, for the audit record")
		refs, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(refs) == 0 {
			return usagef("give at least one QuarantineEventRef")
		}
		nums := make([]uint64, len(refs))
		for i, r := range refs {
			if nums[i], err = strconv.ParseUint(r, 10, 64); err != nil || nums[i] == 0 {
				return usagef("%q is not a QuarantineEventRef (1 to 20 digits)", r)
			}
		}
		c, err := of.client()
		if err != nil {
			return err
		}
		var done []thresholds.ReportRow
		var already []string
		var failed []error
		for _, n := range nums {
			row, err := c.DecideHold(ctx, n, release, *as)
			if err != nil {
				// Refused because it was decided already: if that decision is
				// the one asked for, the command did what it was asked.
				if prior, ok := decidedAs(ctx, c, err, n, release); ok {
					done = append(done, prior)
					already = append(already, fmt.Sprintf("%d was already %s (by %s)", n, prior.State, prior.DecidedBy))
					continue
				}
				if errors.Is(err, syscall.ECONNREFUSED) {
					return operatorHint(err, c)
				}
				failed = append(failed, fmt.Errorf("%d: %w", n, err))
				continue
			}
			done = append(done, row)
		}
		if len(done) > 0 {
			if err := printHolds(std, done); err != nil {
				return err
			}
		}
		for _, a := range already {
			fmt.Fprintln(std.out, a)
		}
		if len(failed) > 0 {
			return invalid(fmt.Errorf("%d of %d not %sd:\n%w", len(failed), len(nums), verb, errors.Join(failed...)))
		}
		return nil
	}
}

// decidedAs reports the hold n when err is the server refusing a decision
// on it because it was already decided the way asked: released for a
// release; deleted or expired for a deletion.
func decidedAs(ctx context.Context, c *api.Client, err error, n uint64, release bool) (thresholds.ReportRow, bool) {
	if re, ok := errors.AsType[*api.RefusedError](err); !ok || re.Status != http.StatusConflict {
		return thresholds.ReportRow{}, false
	}
	b, err := c.Quarantine(ctx, "", "", "json")
	if err != nil {
		return thresholds.ReportRow{}, false
	}
	var l api.HoldList
	if json.Unmarshal(b, &l) != nil {
		return thresholds.ReportRow{}, false
	}
	for _, r := range l.Holds {
		if r.QuarantineEventRef != n {
			continue
		}
		if release {
			return r, r.State == string(store.HoldReleased)
		}
		return r, r.State == string(store.HoldDeleted) || r.State == string(store.HoldExpired)
	}
	return thresholds.ReportRow{}, false
}
