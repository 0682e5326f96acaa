package devicesim

import (
	"bytes"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// TestDropResponsesSeeded: the commands that lose their response are
// about the fraction asked for, the same ones for the same seed whatever
// the order, others for another seed; 0 drops none, 1 every one.
func TestDropResponsesSeeded(t *testing.T) {
	msgs := make([]*gbcs.Message, 4000)
	for i := range msgs {
		msgs[i] = &gbcs.Message{Originator: eui.EUI{0x90, 0xB3, 0xD5, 0x1F, 0x30, 0, 0, 2}, Recipient: device.FleetEUI(1 + i%100), Counter: uint64(i)}
	}
	picked := func(fraction float64, seed uint64, order []int) map[int]bool {
		t.Helper()
		f, err := DropResponses(fraction, seed)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]bool{}
		for _, i := range order {
			if f.Choose != nil && f.Choose(msgs[i]).Kind == device.FaultDropResponse {
				out[i] = true
			}
		}
		return out
	}
	forward, backward := make([]int, len(msgs)), make([]int, len(msgs))
	for i := range msgs {
		forward[i], backward[len(msgs)-1-i] = i, i
	}
	a, b, c := picked(0.1, 7, forward), picked(0.1, 7, backward), picked(0.1, 8, forward)
	if len(a) < 300 || len(a) > 500 {
		t.Errorf("fraction 0.1 of %d commands dropped %d", len(msgs), len(a))
	}
	same := 0
	for i := range a {
		if !b[i] {
			t.Fatalf("command %d dropped in one order and not in the other", i)
		}
		if c[i] {
			same++
		}
	}
	if len(a) != len(b) || same > len(a)/2 {
		t.Errorf("seed 7 dropped %d then %d; seed 8 dropped %d of the same", len(a), len(b), same)
	}
	if n := len(picked(0, 7, forward)); n != 0 {
		t.Errorf("fraction 0 dropped %d", n)
	}
	if n := len(picked(1, 7, forward)); n != len(msgs) {
		t.Errorf("fraction 1 dropped %d of %d", n, len(msgs))
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		if _, err := DropResponses(bad, 1); err == nil {
			t.Errorf("fraction %v accepted", bad)
		}
	}
}

// TestDroppedResponseCarriedOut: over HTTP a dropped response is a 204
// saying so, the device still carries the command out (its counter
// moves), and the stats count it under its message code.
func TestDroppedResponseCarriedOut(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p, err := testpki.Generate(testpki.Options{Now: now.Add(-time.Hour), Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	faults, err := DropResponses(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := device.NewFleet(device.FleetConfig{PKI: p, Now: func() time.Time { return now }, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(fleet, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(ts.Close)
	dev := p.Devices[0].EUI
	for counter := uint64(1); counter <= 3; counter++ {
		m, err := cosbuild.ReadBack(p.TCoS.EUI, dev, counter)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Sign(nil, p.TCoS.Key); err != nil {
			t.Fatal(err)
		}
		frame, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		r, err := http.Post(ts.URL+"/v1/frames", "application/octet-stream", bytes.NewReader(frame))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNoContent || r.Header.Get("Device-Outcome") != "drop-response" {
			t.Fatalf("counter %d: %s, Device-Outcome %q", counter, r.Status, r.Header.Get("Device-Outcome"))
		}
	}
	d, _ := fleet.Device(dev)
	if got := d.SeqNumber(gbcs.RoleTransitionalCoS); got != 3 {
		t.Errorf("the device's TCoS counter is %d after three read-backs whose responses were lost, want 3", got)
	}
	got := stats(t, ts).ByCode[gbcs.CodeProvideSecurityCredentials.String()]
	if got.Frames != 3 || got.Dropped != 3 || len(got.Refused) != 0 {
		t.Errorf("CS02a stats %+v, want 3 frames, 3 dropped, none refused", got)
	}
}
