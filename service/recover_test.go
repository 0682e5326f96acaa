package service_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/store"
)

// TestNothingServedBeforeRecovery: a request a previous run left
// unfinished is recovered before the listener answers anything. While
// recovery has the command at the meter, a request to the listener gets
// no answer; once it has ended, it does.
func TestNothingServedBeforeRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := installDemo(t, dir, demoworld.InstallOptions{Devices: 2})
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := w.Sign(demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 100})
	if err != nil {
		t.Fatal(err)
	}

	// A run that accepts the request and stops before working on it.
	first, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: simulator(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := first.Pipeline().Submit(ctx, doc)
	if err != nil || !ack.Accepted {
		t.Fatalf("Submit: %+v, %v", ack, err)
	}
	first.Close()

	sim := simulator(t, cfg)
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: sim})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	health := "http://" + ln.Addr().String() + "/healthz"
	// The meter, given the recovered command, asks the listener first: any
	// HTTP answer (a 400 from a TLS listener included) means it serves.
	duringRecovery := make(chan error, 1)
	sim.Fleet().SetFaults(device.Faults{Choose: func(*gbcs.Message) device.Fault {
		c := &http.Client{Timeout: 300 * time.Millisecond}
		resp, err := c.Get(health)
		if err == nil {
			resp.Body.Close()
		}
		select {
		case duringRecovery <- err:
		default:
		}
		return device.Fault{}
	}})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, ln, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	req, err := svc.Pipeline().WaitFinal(wctx, store.RequestID(*ack.RequestID))
	if err != nil || req.State != store.RequestResponded {
		t.Fatalf("recovered request %s (%s), %v; want responded", req.State, req.Reason, err)
	}
	if err := <-duringRecovery; err == nil {
		t.Error("the listener answered while recovery was under way")
	}
	// Any answer will do (the listener may want TLS): it answers now.
	resp, err := http.Get(health)
	if err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	resp.Body.Close()
}
