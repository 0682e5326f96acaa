package devicesim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

func newServer(t *testing.T) (*httptest.Server, *testpki.PKI) {
	t.Helper()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p, err := testpki.Generate(testpki.Options{Now: now.Add(-time.Hour), Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := device.NewFleet(device.FleetConfig{PKI: p, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(fleet, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(ts.Close)
	return ts, p
}

func TestDeviceState(t *testing.T) {
	ts, p := newServer(t)
	resp, err := http.Get(ts.URL + "/v1/devices/" + p.Devices[0].EUI.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st DeviceState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	found := false
	for _, a := range st.Anchors {
		if a.Role == "transitionalCoS" && a.KeyUsage == "digitalSignature" {
			found = a.Subject == p.TCoS.EUI
		}
	}
	if !found || st.EUI != p.Devices[0].EUI || len(st.DSPublicKey) != 130 {
		t.Errorf("state %+v", st)
	}
	for path, want := range map[string]int{
		"/v1/devices/EE-C0-5E-DE-00-00-99-99": http.StatusNotFound,
		"/v1/devices/not-an-eui":              http.StatusBadRequest,
		"/healthz":                            http.StatusOK,
	} {
		r, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, r.StatusCode, want)
		}
	}
}

func TestFrameLimits(t *testing.T) {
	ts, _ := newServer(t)
	r, err := http.Post(ts.URL+"/v1/frames", "application/octet-stream", bytes.NewReader(make([]byte, MaxFrameBytes+1)))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized frame: %d", r.StatusCode)
	}
	r, err = http.Get(ts.URL + "/v1/frames")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/frames: %d", r.StatusCode)
	}
}

func TestStatsCountsDuplicateFrames(t *testing.T) {
	ts, p := newServer(t)
	frame := func(counter uint64) []byte {
		b, err := gbcs.NewCommand(p.TCoS.EUI, p.Devices[0].EUI, counter, gbcs.CodeRootBySupplier, []byte{0x30, 0x00}).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, f := range [][]byte{frame(7), frame(8), frame(7), []byte("not a frame")} {
		r, err := http.Post(ts.URL+"/v1/frames", "application/octet-stream", bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	st := stats(t, ts)
	// The frames carry no CS02b: the device refuses each, which the stats
	// say per message code and reason.
	want := Stats{Frames: 3, DuplicateFrames: 1, ByCode: map[string]CodeStats{
		gbcs.CodeRootBySupplier.String(): {Frames: 3, Duplicates: 1, Refused: map[string]int{"malformed": 3}},
	}}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func stats(t *testing.T, ts *httptest.Server) Stats {
	t.Helper()
	r, err := http.Get(ts.URL + "/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var st Stats
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
