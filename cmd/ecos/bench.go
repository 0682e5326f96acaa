package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ecos-cos/ecos/bench"
	"github.com/ecos-cos/ecos/hsm"
)

func benchCommand() *command {
	return &command{name: "bench", summary: "measure the ECoS Party", subs: []*command{
		{name: "cos", summary: "end-to-end SR 6.23 throughput and latency against the crypto floor", run: runBenchCoS},
		{name: "migrate", summary: "migrate N simulated meters end to end: devices/s, latency, peak RSS against the crypto floor", run: runBenchMigrate},
		{name: "mpid", summary: "generate months of 6.23 traffic and time the monthly MPID report over each: seconds and memory by month size", run: runBenchMPID},
	}}
}

func runBenchCoS(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos bench cos", "")
	n := fs.Int("n", 1000, "timed requests")
	conc := fs.Int("concurrency", 64, "concurrent submitters, each waiting for its request's final response; at most --devices")
	devices := fs.Int("devices", 1000, "simulated meters the requests are spread over, round robin")
	workers := fs.Int("workers", 0, "pipeline sign-and-send workers (0: the configuration's default)")
	adtUsers := fs.Int("adt-users", 10_000, "made-up Users whose thresholds (50 SRVs each) are loaded beside the demo's, so the threshold check runs at size; 0: none")
	format := formatFlag(fs, "text", "json")
	cpuprofile := fs.String("cpuprofile", "", "write a pprof CPU profile of the timed section to `FILE`")
	db := benchStoreFlag(fs)
	onToken := benchHSMFlags(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	token, err := onToken()
	if err != nil {
		return err
	}
	switch {
	case !benchStoreOK(*db):
		return usagef("--db %q: want sqlite or a postgres:// URL", *db)
	case *n < 1 || *n > 10_000_000:
		return usagef("--n %d: want 1..10000000", *n)
	case *devices < 1 || *devices > 10_000_000:
		return usagef("--devices %d: want 1..10000000", *devices)
	case *conc < 1 || *conc > *devices:
		return usagef("--concurrency %d: want 1..--devices (%d), so no two requests for one meter are in flight at once", *conc, *devices)
	case *workers < 0:
		return usagef("--workers %d: want 0 or more", *workers)
	}
	if *adtUsers < 0 {
		return usagef("--adt-users %d: want 0 or more", *adtUsers)
	}
	o := bench.Options{N: *n, Concurrency: *conc, Devices: *devices, Workers: *workers, ADTUsers: *adtUsers, HSM: token}
	if *adtUsers == 0 {
		o.ADTUsers = -1
	}
	if *db != "sqlite" {
		o.Postgres = *db
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return malformed(err)
		}
		defer f.Close()
		o.CPUProfile = f
	}
	res, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if format.value == "json" {
		if err := printJSON(std, res); err != nil {
			return err
		}
	} else {
		printBench(std, res)
	}
	if res.Failures > 0 {
		return invalid(fmt.Errorf("%d of %d requests did not end responded with I0; first: %s", res.Failures, res.N, res.FirstFailure))
	}
	return nil
}

func printBench(std stdio, r *bench.Result) {
	w := std.out
	fmt.Fprintf(w, "ecos bench cos: %d SR 6.23 over %d simulated meters, %s store, %d submitters, %d workers, GOMAXPROCS %d\n",
		r.N, r.Devices, r.Store, r.Concurrency, r.Workers, r.GOMAXPROCS)
	fmt.Fprintf(w, "  throughput    %10.1f requests/s   (%.2f s)\n", r.RequestsPerSec, r.WallSeconds)
	fmt.Fprintf(w, "  latency       p50 %.2f ms   p99 %.2f ms   max %.2f ms   (submit to final response)\n", r.P50ms, r.P99ms, r.MaxMs)
	onToken := ""
	if r.TokenSignsPerRequest > 0 {
		onToken = fmt.Sprintf(", %d of them on the token at its rate below", r.TokenSignsPerRequest)
	}
	fmt.Fprintf(w, "  crypto floor  %10.1f requests/s   (%d signs%s + %d verifies per request, bare P-256, %.2f s)\n",
		r.CryptoFloorPerSec, r.SignsPerRequest, onToken, r.VerifiesPerRequest, r.CryptoFloorSeconds)
	fmt.Fprintf(w, "  ratio         %10.2f\n", r.Ratio)
	fmt.Fprintf(w, "  failures      %10d\n", r.Failures)
	fmt.Fprintf(w, "  ADT check     %10.0f ns/request   (%.3f%% of the time per request; %d Users, %d threshold rows loaded)\n",
		r.AnomalyCheckNs, 100*r.AnomalyShare, r.ADTUsers+2, r.ADTRows)
	if h := r.HSM; h != nil {
		kind := "the operator's token"
		if h.SoftHSM {
			kind = "a throwaway SoftHSM2 token"
		}
		fmt.Fprintf(w, "  keys          on %s %q (%s), each imported wrapped (RFC 5649) under a random KEK and unwrapped inside it with %s:\n", kind, h.Token, h.Module, h.Mechanism)
		for _, k := range h.Keys {
			fmt.Fprintf(w, "    %-18s %-32s %s\n", k.Config, k.Private.Label, keyAttributes(k.Private))
		}
		fmt.Fprintf(w, "  token signs   %10.1f signs/s   against software %.1f signs/s in the same run: ratio %.2f (%d each, %d at once through %d sessions)\n",
			h.TokenSignsPerSec, h.SoftwareSignsPerSec, h.Ratio, h.Signs, h.Concurrency, h.Concurrency)
		if len(h.LeftOnToken) > 0 {
			fmt.Fprintf(w, "  left on the token: %s\n", strings.Join(h.LeftOnToken, ", "))
		}
	}
	fmt.Fprintf(w, "  per request:\n")
	for _, s := range r.Crypto {
		fmt.Fprintf(w, "    %-46s %d sign, %2d verify\n", s.Who, s.Signs, s.Verifies)
	}
}

// keyAttributes says what a custodian checks of a private key on a token.
func keyAttributes(o hsm.Object) string {
	yes := func(b bool, s string) string {
		if b {
			return s
		}
		return "NOT " + s
	}
	// CKA_NEVER_EXTRACTABLE is false for any unwrapped key (it was once
	// outside the token), so it says nothing here.
	out := []string{yes(o.Sensitive, "sensitive"), yes(!o.Extractable, "non-extractable")}
	if o.Sign && !o.Decrypt && !o.Unwrap && !o.Derive && !o.Wrap && !o.Encrypt {
		out = append(out, "sign only")
	} else {
		out = append(out, "NOT sign only")
	}
	return strings.Join(out, ", ")
}

// benchHSMFlags are --hsm and the token's flags; the function returned,
// called once the flags are parsed, says which token the keys go on (nil:
// none, the keys stay in their files).
func benchHSMFlags(fs *flag.FlagSet) func() (*bench.HSM, error) {
	kind := fs.String("hsm", "", "put the CoS keys and the DUIS signing key on a PKCS#11 token first, imported wrapped: `softhsm` (a throwaway SoftHSM2 token in the run's directory) or pkcs11 (the token --pkcs11-module, --token-label and --pin-file name)")
	module := fs.String("pkcs11-module", "", "the PKCS#11 module (`LIBRARY`) of the token; with --hsm softhsm, where SoftHSM2's is when it is not where distributions put it")
	token := fs.String("token-label", "", "the operator's token (with --pkcs11-module and --pin-file); the run adds a KEK and three keys under labels of their own and leaves them there")
	pinFile := fs.String("pin-file", "", "a file holding the token's user PIN (`FILE`)")
	mech := fs.String("wrap-mechanism", "", "the token's RFC 5649 unwrap mechanism (`MECH`): CKM_AES_KEY_WRAP_PAD (0x210A, SoftHSM2's, the default), CKM_AES_KEY_WRAP_KWP (0x210B), luna-CKM_AES_KWP (0x80000171)")
	return func() (*bench.HSM, error) {
		h := &bench.HSM{Token: hsm.PKCS11{Module: *module, TokenLabel: *token, PINFile: *pinFile}}
		if *kind == "" && (*module != "" || *token != "" || *pinFile != "") {
			*kind = "pkcs11"
		}
		switch *kind {
		case "":
			if *mech != "" {
				return nil, usagef("--wrap-mechanism goes with --hsm")
			}
			return nil, nil
		case "softhsm":
			if *token != "" || *pinFile != "" {
				return nil, usagef("--hsm softhsm makes its own token: no --token-label or --pin-file")
			}
			h.SoftHSM = true
		case "pkcs11":
			if *module == "" || *token == "" || *pinFile == "" {
				return nil, usagef("an operator's token needs all of --pkcs11-module, --token-label and --pin-file")
			}
		default:
			return nil, usagef("--hsm %q: want softhsm or pkcs11", *kind)
		}
		if *mech != "" {
			m, err := hsm.ParseMechanism(*mech)
			if err != nil {
				return nil, usagef("--wrap-mechanism: %v", err)
			}
			h.Mechanism = m
		}
		return h, nil
	}
}

func runBenchMigrate(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos bench migrate", "")
	devices := fs.Int("devices", 100_000, "simulated meters to migrate, one wave")
	conc := fs.Int("concurrency", 1024, "the wave's meters in flight at once")
	format := formatFlag(fs, "text", "json")
	cpuprofile := fs.String("cpuprofile", "", "write a pprof CPU profile of the timed section to `FILE`")
	memprofile := fs.String("memprofile", "", "write a pprof heap profile at the end of the timed section to `FILE`")
	db := benchStoreFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	switch {
	case !benchStoreOK(*db):
		return usagef("--db %q: want sqlite or a postgres:// URL", *db)
	case *devices < 1 || *devices > 10_000_000:
		return usagef("--devices %d: want 1..10000000", *devices)
	case *conc < 1 || *conc > 100_000:
		return usagef("--concurrency %d: want 1..100000", *conc)
	}
	o := bench.MigrateOptions{Devices: *devices, Concurrency: *conc}
	if *db != "sqlite" {
		o.Postgres = *db
	}
	for _, p := range []struct {
		path string
		w    *io.Writer
	}{{*cpuprofile, &o.CPUProfile}, {*memprofile, &o.MemProfile}} {
		if p.path == "" {
			continue
		}
		f, err := os.Create(p.path)
		if err != nil {
			return malformed(err)
		}
		defer f.Close()
		*p.w = f
	}
	o.Progress = func(done, total int64) {
		fmt.Fprintf(std.err, "migrated %d of %d\n", done, total)
	}
	res, err := bench.Migrate(ctx, o)
	if err != nil {
		return err
	}
	if format.value == "json" {
		if err := printJSON(std, res); err != nil {
			return err
		}
	} else {
		w := std.out
		fmt.Fprintf(w, "ecos bench migrate: %d simulated meters, %s store, %d in flight, GOMAXPROCS %d (setup %.1f s)\n",
			res.Devices, res.Store, res.Concurrency, res.GOMAXPROCS, res.SetupSeconds)
		fmt.Fprintf(w, "  throughput    %10.1f devices/s   (%.2f s)\n", res.DevicesPerSec, res.WallSeconds)
		fmt.Fprintf(w, "  latency       p50 %.2f ms   p99 %.2f ms   max %.2f ms   (command to confirmed ecos)\n", res.P50ms, res.P99ms, res.MaxMs)
		fmt.Fprintf(w, "  crypto floor  %10.1f devices/s   (2 signs + 2 verifies per device, bare P-256)\n", res.CryptoFloorPerSec)
		fmt.Fprintf(w, "  ratio         %10.2f\n", res.Ratio)
		fmt.Fprintf(w, "  peak RSS      %10.1f MiB   (this process: the party, the fleet and the benchmark; the simulated meters' state is %.1f MiB of it)\n", res.PeakRSSMB, res.FleetMB)
		fmt.Fprintf(w, "  party heap    %10.1f MiB   (live once the wave is done, less the simulated meters' state)\n", res.PartyHeapMB)
		fmt.Fprintf(w, "  not migrated  %10d\n", res.NotMigrated)
	}
	if res.NotMigrated > 0 {
		return invalid(fmt.Errorf("%d of %d meters did not end ecos", res.NotMigrated, res.Devices))
	}
	return nil
}

// benchStoreFlag is --db of the benchmarks.
func benchStoreFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "sqlite", "the store, `sqlite|postgres://…`: "+`"sqlite" (a fresh durable SQLite database in a temporary directory), or a postgres:// URL of a server whose user may create databases (the run gets a fresh database there, dropped afterwards)`)
}

func benchStoreOK(db string) bool {
	return db == "sqlite" || strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
