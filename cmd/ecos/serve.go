package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
)

func serveCommand() *command {
	return &command{name: "serve", summary: "run the ECoS Party (--demo: with a generated PKI, parties and simulated meters)", run: runServe}
}

func runServe(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos serve", "")
	cfgPath := fs.String("config", "", "the configuration `FILE` (docs/config.md)")
	demo := fs.Bool("demo", false, "serve a demo world: a test PKI, parties, registrations and simulated meters, kept in --dir")
	dir := fs.String("dir", defaultDemoDir, "with --demo: where the demo's PKI, database and configuration live (reused when present)")
	devices := fs.Int("devices", 1000, "with --demo: simulated meters, when the demo directory is first made")
	listen := fs.String("listen", "", "the `ADDR` to serve on (overrides the configuration)")
	operatorListen := fs.String("operator-listen", "", "the operator API's address, `ADDR|off` (overrides the configuration; off turns it off)")
	selfCheck := fs.Bool("self-check", true, "with --demo: send one 6.23 through the running service at start and show what happened")
	initOnly := fs.Bool("init-only", false, "with --demo: write the demo directory, then exit")
	faults := fs.String("faults", "", "with --demo: make simulated meters misbehave, `EUI=FAULT[,EUI=FAULT]` (docs/config.md, devices.faults)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *faults != "" && !*demo {
		return usagef("--faults goes with --demo (a configuration sets devices.faults)")
	}
	faultSpec := map[string]string{}
	for _, kv := range list(*faults) {
		id, kind, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--faults %q: want EUI=FAULT", kv)
		}
		faultSpec[strings.TrimSpace(id)] = strings.TrimSpace(kind)
	}
	switch {
	case *demo && *cfgPath != "":
		return usagef("--demo and --config exclude each other")
	case !*demo && *cfgPath == "":
		return usagef("give --config FILE, or --demo to try ecos with a generated world")
	case *devices < 1 || *devices > 10_000_000:
		return usagef("--devices %d: want 1..10000000", *devices)
	}
	if *demo {
		var err error
		if *cfgPath, err = demoworld.Install(ctx, *dir, demoworld.InstallOptions{Devices: *devices, Listen: *listen, OperatorListen: demoOperatorListen(*operatorListen)}); err != nil {
			return err
		}
		if *initOnly {
			fmt.Fprintf(std.out, "demo ready in %s: `ecos serve --config %s` runs it\n", *dir, *cfgPath)
			return nil
		}
	} else if *initOnly {
		return usagef("--init-only goes with --demo")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return malformed(err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if len(faultSpec) > 0 {
		cfg.Devices.Faults = faultSpec
		if err := cfg.Validate(); err != nil {
			return malformed(err)
		}
	}
	switch *operatorListen {
	case "":
	case "off":
		cfg.OperatorListen = ""
	default:
		cfg.OperatorListen = *operatorListen
	}
	log, err := obs.NewLogger(std.err, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}
	// SIGHUP reopens the audit log, after logrotate moved it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// A demo or test configuration names simulated meters; the service
	// holds none of its own, so they are plugged in here.
	sim, err := devicesim.ForConfig(cfg.Devices, nil)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: log, Migrate: *demo, Reopen: hup, Simulator: sim})
	if err != nil {
		return err
	}
	started := false
	defer func() {
		if started {
			svc.Close()
		} else {
			svc.Abort()
		}
	}()
	// Both listeners are bound before anything says the service serves:
	// an address in use is a start error, not a half-announced service.
	ln, err := bindListener("listen", "--listen", cfg.Listen)
	if err != nil {
		return err
	}
	var opLn net.Listener
	if cfg.OperatorListen != "" {
		if opLn, err = bindListener("operator_listen", "--operator-listen", cfg.OperatorListen); err != nil {
			ln.Close()
			return err
		}
	}
	base, users := "https://"+ln.Addr().String(), "Users authenticate with TLS client certificates (tls.users)"
	if cfg.TLS.InsecurePlainHTTP {
		base, users = "http://"+ln.Addr().String(), "plain HTTP: Users are NOT authenticated (tls.insecure_plain_http)"
	}
	fmt.Fprintf(std.out, "ecos: the ECoS Party is serving on %s; %s\n", base, users)
	fmt.Fprintf(std.out, "  POST %s/api/v1/serviceS   signed DUIS requests (SR 6.23)\n", base)
	fmt.Fprintf(std.out, "  GET  %s/api/v1/responses/{RequestID}?wait=30s   the signed response\n", base)
	fmt.Fprintf(std.out, "  POST %s/api/v1/adt, %s/api/v1/quarantine/actions   signed ADT and action files\n", base, base)
	fmt.Fprintf(std.out, "  GET  %s/healthz   (audit log: %s)\n", base, cfg.Log.Audit)
	if opLn != nil {
		fmt.Fprintf(std.out, "ecos: the operator API is on http://%s/operator/v1/ (ADT settings, quarantine, migration), metrics on http://%s/metrics\n", opLn.Addr(), opLn.Addr())
		if err := printDashboard(std, cfg, opLn.Addr().String(), *demo); err != nil {
			ln.Close()
			opLn.Close()
			return err
		}
	}
	if *demo {
		d := filepath.Dir(*cfgPath)
		fmt.Fprintf(std.out, "demo world in %s: suppliers 1 and 2, meters trusting supplier 1, every MPAN registered to supplier 2\n", d)
		fmt.Fprintf(std.out, "try: ecos send 6.23 --demo %s --url %s --supplier 2 --device 3\n", d, base)
		if *selfCheck {
			go demoSelfCheck(ctx, std, d, base)
		}
	}
	started = true
	return svc.Run(ctx, ln, opLn)
}

// bindListener binds addr for the configuration key; an address another process
// holds (often a running demo, on the same default ports) is said so, with
// the two ways to choose another.
func bindListener(key, flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: %s is already in use by another process (another ecos serve, or the demo?): choose another address with %s in the configuration or %s", key, addr, key, flag)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return ln, nil
}

// demoOperatorListen is the operator address a new demo is written with:
// "off" is applied after loading, like any override.
func demoOperatorListen(flag string) string {
	if flag == "off" {
		return ""
	}
	return flag
}

// demoSelfCheck sends one change of supplier through the running demo, as
// a supplier would over HTTP, and prints what came back.
func demoSelfCheck(ctx context.Context, std stdio, dir, base string) {
	say := func(format string, a ...any) { fmt.Fprintf(std.out, "self-check: "+format+"\n", a...) }
	w, err := demoworld.Load(dir)
	var c *api.Client
	if err == nil {
		c, err = demoworld.Client(dir, w.PKI.Suppliers[1].EUI, base)
	}
	if err == nil {
		err = sendAndReport(ctx, say, c, w, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: uint64(time.Now().UnixMilli())})
	}
	if err != nil {
		say("FAILED: %v", err)
	}
}

// sendAndReport submits a request built from w and r, waits for the
// response and says what each signed document said.
func sendAndReport(ctx context.Context, say func(string, ...any), c *api.Client, w *demoworld.World, r demoworld.Request) error {
	doc, err := w.Sign(r)
	if err != nil {
		return err
	}
	id := duis.RequestID{Originator: w.PKI.Suppliers[r.Supplier-1].EUI, Target: r.Device, Counter: r.Counter}
	return submitAndWait(ctx, say, c, doc, id.String(), w.PKI.DSPXMLSign.Cert, 30*time.Second)
}

// printDashboard says where the dashboard is. A demo's link carries its
// operator token, as Jupyter's does, so that it opens with a click; a
// real service's never does (the output ends up in logs): its operators
// add ?token= from operator.token_file themselves.
func printDashboard(std stdio, cfg *config.Config, addr string, demo bool) error {
	token, err := cfg.OperatorToken()
	switch {
	case err != nil:
		return err
	case token == nil:
		fmt.Fprintf(std.out, "ecos: the operator API and the dashboard refuse every request: the configuration sets no operator.token_file (/metrics and /healthz stay open)\n")
	case demo:
		fmt.Fprintf(std.out, "dashboard: http://%s/dashboard/?token=%s\n", addr, token)
	default:
		fmt.Fprintf(std.out, "ecos: the dashboard is on http://%s/dashboard/ (open it once with ?token= and the token in operator.token_file; the API takes it as a bearer token)\n", addr)
	}
	return nil
}
