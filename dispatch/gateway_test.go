package dispatch_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// gateway is what the pipeline asks of one (pipeline.Gateway).
type gateway interface {
	Send(ctx context.Context, frame []byte) (*dispatch.Reply, error)
	Alerts(ctx context.Context) ([][]byte, error)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a PKI, a fleet and a gateway to it; tick runs due commands.
type world struct {
	pki   *testpki.PKI
	fleet *device.Fleet
	gw    gateway
	tick  func(time.Time) error
	mu    sync.Mutex
	now   time.Time
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func newWorld(t *testing.T, overHTTP bool) *world {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{Now: t0.Add(-24 * time.Hour), Suppliers: 2, Devices: 2})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{pki: p, now: t0}
	w.fleet, err = device.NewFleet(device.FleetConfig{PKI: p, Now: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	if !overHTTP {
		g := devicesim.NewInProcess(w.fleet)
		w.gw, w.tick = g, g.Tick
		return w
	}
	srv := devicesim.New(w.fleet, w.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	w.gw, w.tick = dispatch.NewHTTP(ts.URL, nil), srv.Tick
	return w
}

// command is supplier 2's change of supplier for device 1, signed with TCoS.
func (w *world) command(t *testing.T, counter uint64, at *time.Time) []byte {
	t.Helper()
	s := w.pki.Suppliers[1]
	payload, err := cosbuild.SupplierByTransCoS(&duis.UpdateSecurityCredentialsCoS{
		ExecutionDateTime: at, DigitalSigningCertificate: s.DS.Cert, KeyAgreementCertificate: s.KA.Cert,
		CertificationPath: [][]byte{w.pki.OrgCA.Cert}, ApplyTimeBasedCPVChecks: true, ImportMPxN: "1200023305967",
	}, counter)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cosbuild.Command(w.pki.TCoS.EUI, w.pki.Devices[0].EUI, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sign(nil, w.pki.TCoS.Key); err != nil {
		t.Fatal(err)
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *world) verify(t *testing.T, frame []byte, cra gbcs.CRA) *gbcs.Message {
	t.Helper()
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := w.fleet.PublicKey(m.Originator)
	if !ok || m.CRA != cra {
		t.Fatalf("frame from %s, CRA %v", m.Originator, m.CRA)
	}
	if err := m.Verify(pub); err != nil {
		t.Fatalf("device signature: %v", err)
	}
	return m
}

func bothGateways(t *testing.T, f func(t *testing.T, w *world)) {
	for _, overHTTP := range []bool{false, true} {
		name := "in-process"
		if overHTTP {
			name = "http"
		}
		t.Run(name, func(t *testing.T) { f(t, newWorld(t, overHTTP)) })
	}
}

func TestSendAcceptedAndReplay(t *testing.T) {
	bothGateways(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		cmd := w.command(t, 1, nil)
		r, err := w.gw.Send(ctx, cmd)
		if err != nil || r.Response == nil {
			t.Fatalf("Send = %+v, %v", r, err)
		}
		m := w.verify(t, r.Response, gbcs.CRAResponse)
		resp, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
		if err != nil || resp.Outcome == nil || len(resp.Outcome.Outcomes) != 2 || resp.Outcome.Outcomes[0].Status != gbcs.StatusSuccess {
			t.Fatalf("outcome %+v, %v", resp, err)
		}
		// The same frame again: the device stays silent and says nothing why.
		r, err = w.gw.Send(ctx, cmd)
		if err != nil || r.Response != nil || !strings.Contains(r.NoResponseReason, "replay") {
			t.Fatalf("replay: %+v, %v", r, err)
		}
		// Garbage is refused as malformed, not an error of the gateway.
		r, err = w.gw.Send(ctx, []byte{0xDF, 0x01})
		if err != nil || r.Response != nil || !strings.Contains(r.NoResponseReason, "malformed") {
			t.Fatalf("garbage: %+v, %v", r, err)
		}
	})
}

func TestFutureDatedAlert(t *testing.T) {
	bothGateways(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		at := t0.Add(time.Hour)
		r, err := w.gw.Send(ctx, w.command(t, 1, &at))
		if err != nil || r.Response == nil {
			t.Fatalf("Send = %+v, %v", r, err)
		}
		if err := w.tick(t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if a, _ := w.gw.Alerts(ctx); len(a) != 0 {
			t.Fatalf("%d alerts before the execution time", len(a))
		}
		w.mu.Lock()
		w.now = at
		w.mu.Unlock()
		if err := w.tick(at); err != nil {
			t.Fatal(err)
		}
		alerts, err := w.gw.Alerts(ctx)
		if err != nil || len(alerts) != 1 {
			t.Fatalf("Alerts = %d, %v", len(alerts), err)
		}
		m := w.verify(t, alerts[0], gbcs.CRAAlert)
		if m.Code != gbcs.CodeFutureDatedAlert {
			t.Errorf("alert code %v", m.Code)
		}
		if again, _ := w.gw.Alerts(ctx); len(again) != 0 {
			t.Errorf("alerts not drained: %d", len(again))
		}
	})
}

func TestFaults(t *testing.T) {
	bothGateways(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		w.fleet.SetFaults(device.Faults{Fixed: device.Fault{Kind: device.FaultDropResponse}})
		r, err := w.gw.Send(ctx, w.command(t, 1, nil))
		if err != nil || r.Response != nil || r.NoResponseReason != "drop-response" {
			t.Fatalf("drop-response: %+v, %v", r, err)
		}
		// The device did act: the supplier DS cell now holds supplier 2.
		d, _ := w.fleet.Device(w.pki.Devices[0].EUI)
		c, ok := d.Anchor(gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageDigitalSignature})
		if !ok || c.EUI != w.pki.Suppliers[1].EUI {
			t.Errorf("lost response, but the device should have changed: %v", c)
		}
		// A slow device meets the caller's deadline. Only a Send that
		// waited out the device's delay is slower than that delay: a busy
		// machine is not.
		const delay = 5 * time.Second
		w.fleet.SetFaults(device.Faults{Fixed: device.Fault{Kind: device.FaultNone, Delay: delay}})
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := w.gw.Send(ctx, w.command(t, 2, nil)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("delayed: %v", err)
		}
		if took := time.Since(start); took >= delay {
			t.Errorf("Send took %v: it waited for the device, not its deadline", took)
		}
	})
}

func TestHTTPUnreachable(t *testing.T) {
	ts := httptest.NewServer(nil)
	url := ts.URL
	ts.Close()
	_, err := dispatch.NewHTTP(url, nil).Send(context.Background(), []byte{0xDF})
	if !errors.Is(err, dispatch.ErrUnreachable) {
		t.Errorf("closed server: %v", err)
	}
	if _, err := dispatch.NewHTTP(url, nil).Alerts(context.Background()); !errors.Is(err, dispatch.ErrUnreachable) {
		t.Errorf("alerts from closed server: %v", err)
	}
}

// TestHTTPDelivery: the gateway says "not sent" only when the frame
// certainly went no further, and "unreadable" whenever the device service
// may have passed it on.
func TestHTTPDelivery(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    error
	}{
		{"refused as too large", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}, dispatch.ErrUnreachable},
		{"no device network", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}, dispatch.ErrUnreachable},
		{"device failure", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Error(w, "device failure", http.StatusInternalServerError)
		}, dispatch.ErrUnreadable},
		{"connection dropped after the frame", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, dispatch.ErrUnreadable},
		{"reply cut short", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "100")
			w.Write([]byte{0xDF, 0x09})
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err == nil {
				buf.Flush()
				conn.Close()
			}
		}, dispatch.ErrUnreadable},
		{"empty reply", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
		}, dispatch.ErrUnreadable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := httptest.NewServer(c.handler)
			defer ts.Close()
			_, err := dispatch.NewHTTP(ts.URL, nil).Send(context.Background(), []byte{0xDF, 0x01})
			if !errors.Is(err, c.want) {
				t.Fatalf("Send: %v, want %v", err, c.want)
			}
			other := dispatch.ErrUnreadable
			if c.want == dispatch.ErrUnreadable {
				other = dispatch.ErrUnreachable
			}
			if errors.Is(err, other) {
				t.Errorf("Send: %v is also %v", err, other)
			}
		})
	}
}
