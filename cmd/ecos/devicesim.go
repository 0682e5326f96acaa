package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/testpki"
)

func devicesimCommand() *command {
	return &command{name: "devicesim", summary: "serve simulated GBCS meters over HTTP", run: runDevicesim}
}

func runDevicesim(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos devicesim", "")
	listen := fs.String("listen", "127.0.0.1:8090", "the `ADDR` to serve on")
	pkiDir := fs.String("pki", "", "a test PKI `DIR` from \"ecos pki init\" (default: generate one in memory)")
	devices := fs.Int("devices", 1000, "simulated meters (the PKI's devices first, then derived ones)")
	supplier := fs.Int("supplier", 1, "the supplier every meter starts out trusting")
	tick := fs.Duration("tick", time.Second, "how often held future-dated commands are run")
	seed := fs.String("seed", "", "with no --pki: derive the generated PKI from this seed")
	drop := fs.Float64("drop-responses", 0, "lose the response of this `FRACTION` (0..1) of commands, which the meters still carry out")
	faultSeed := fs.Uint64("fault-seed", 1, "which commands --drop-responses picks: the same seed picks the same commands")
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	if *devices < 1 || *devices > 10_000_000 {
		return usagef("--devices %d: want 1..10000000", *devices)
	}
	if *tick <= 0 {
		return usagef("--tick must be positive")
	}
	faults, err := devicesim.DropResponses(*drop, *faultSeed)
	if err != nil {
		return usagef("--drop-responses %v: want a fraction from 0 to 1", *drop)
	}
	var p *testpki.PKI
	if *pkiDir != "" {
		if p, err = testpki.LoadDir(*pkiDir); err != nil {
			return malformed(err)
		}
	} else {
		var r io.Reader = rand.Reader
		if *seed != "" {
			r = seededReader(*seed)
		}
		if p, err = testpki.Generate(testpki.Options{Now: time.Now().Add(-24 * time.Hour), Rand: r, Suppliers: 2, Devices: 4}); err != nil {
			return err
		}
	}
	if *supplier < 1 || *supplier > len(p.Suppliers) {
		return usagef("--supplier %d: the PKI has suppliers 1..%d", *supplier, len(p.Suppliers))
	}
	fleet, err := device.NewFleet(device.FleetConfig{PKI: p, Devices: *devices, Supplier: *supplier, Now: time.Now, Faults: faults})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(std.err, nil))
	sim := devicesim.New(fleet, time.Now, log)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go sim.Run(ctx, *tick)
	go func() {
		<-ctx.Done()
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		srv.Shutdown(shutdown)
	}()
	first, _ := fleet.Device(fleet.EUIs()[0])
	var lossy string
	if *drop > 0 {
		lossy = fmt.Sprintf(", losing %g of responses (seed %d)", *drop, *faultSeed)
	}
	fmt.Fprintf(std.out, "devicesim: %d meters on http://%s (first %s), trusting supplier %d and TCoS %s%s\n",
		fleet.Len(), ln.Addr(), first.EUI(), *supplier, p.TCoS.EUI, lossy)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
