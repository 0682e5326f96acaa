package peers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/store"
)

// TestPeersReadTheService: what a running demo service really emits, not
// what a test built with the same encoders, passes both peers: the CS02b
// commands it signs (captured as its simulated meters receive them), the
// migration's mode 6 commands and CS02a read-back, and the meters'
// responses to all of them through gbcs-parser, signatures verified; the
// acknowledgements (accepted, refused, unreadable) and service responses
// it signs through duis-parser, every field equal to ours.
func TestPeersReadTheService(t *testing.T) {
	peersAvailable(t)
	ctx := context.Background()
	dir := t.TempDir()
	cfgPath, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: 3})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := devicesim.ForConfig(cfg.Devices, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: sim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}

	// The meters see every command the service sends.
	var mu sync.Mutex
	var commands [][]byte
	// Meter 3 loses its answer to its first migration command, so the
	// migration reads it back.
	lost := false
	sim.Fleet().SetFaults(device.Faults{Choose: func(m *gbcs.Message) device.Fault {
		b, err := m.Bytes()
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			commands = append(commands, b)
		}
		if m.Code == gbcs.CodeTransCoSByTransCoS && m.Recipient == demoworld.Device(3) && !lost {
			lost = true
			return device.Fault{Kind: device.FaultDropResponse}
		}
		return device.Fault{}
	}})

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, nil, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	j := &job{Keys: demoKeys(t, w)}
	var docs []docWant
	add := func(name string, doc []byte) {
		t.Helper()
		r, err := duis.DecodeResponse(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		kind := "ResponseMessage/NoBody"
		switch {
		case r.DCCAlertMessage != nil:
			kind = "DCCAlertMessage"
		case r.ResponseMessage.FutureDatedDeviceAlert != nil:
			kind = "ResponseMessage/FutureDatedDeviceAlertMessage"
		case r.ResponseMessage.GBCSPayload != nil:
			kind = "ResponseMessage/GBCSPayload"
		}
		docs = append(docs, docWant{name: name, kind: kind, doc: doc})
		j.document(t, name, doc)
	}
	submit := func(name string, r demoworld.Request) {
		t.Helper()
		doc, err := w.Sign(r)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := svc.Pipeline().Submit(ctx, doc)
		if err != nil || !ack.Accepted {
			t.Fatalf("%s: not accepted (%v): %+v", name, err, ack)
		}
		add(name+"/acknowledgement", ack.Document)
		wait, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		id := store.RequestID(*ack.RequestID)
		if _, err := svc.Pipeline().WaitFinal(wait, id); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, responses, err := svc.Pipeline().Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for i, resp := range responses {
			if resp.Kind == store.ResponseAcknowledgement {
				continue
			}
			add(fmt.Sprintf("%s/response-%d", name, i), resp.Document)
		}
		// A replay is refused, and says so in a signed acknowledgement.
		again, err := svc.Pipeline().Submit(ctx, doc)
		if err != nil || again.Accepted {
			t.Fatalf("%s replayed: accepted %v, %v", name, again != nil && again.Accepted, err)
		}
		add(name+"/refused-replay", again.Document)
	}
	counter := uint64(time.Now().UnixMilli())
	submit("immediate", demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: counter})
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	submit("future-dated", demoworld.Request{Supplier: 2, Device: demoworld.Device(2), Counter: counter + 1, ExecuteAt: &future})
	unreadable, err := svc.Pipeline().Submit(ctx, []byte("<sr:Request"))
	if err != nil {
		t.Fatal(err)
	}
	add("unreadable/refused", unreadable.Document)

	// The migration of the three meters: its mode 6 commands and read-back
	// (captured above) and the meters' answers, from its command log.
	<-svc.Recovered()
	wave, err := svc.Migration().Start(ctx, store.Wave{Name: "peers", Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p, err := svc.Migration().Progress(ctx, wave.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Wave.State != store.WaveRunning {
			if p.Counts[store.MigrationECoS] != 3 {
				t.Fatalf("the wave ended %s with %v", p.Wave.State, p.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wave is still running after 30s: %v", p.Counts)
		}
		<-tick.C
	}
	answers := migrationAnswers(t, cfg)
	readBacks := 0
	for name := range answers {
		if strings.Contains(name, "readback") {
			readBacks++
		}
	}
	if len(answers) != 3 || readBacks != 1 {
		t.Fatalf("migration answers %d (%d read-backs), want 3: two mode 6 and meter 3's read-back", len(answers), readBacks)
	}

	frames := map[string][]byte{}
	for name, a := range answers {
		frames[name] = a
	}
	mu.Lock()
	for i, c := range commands {
		frames[fmt.Sprintf("command-%d", i)] = c
	}
	mu.Unlock()
	for _, d := range docs {
		if r, _ := duis.DecodeResponse(d.doc); r.ResponseMessage != nil && r.ResponseMessage.GBCSPayload != nil {
			frames[d.name+"/payload"] = r.ResponseMessage.GBCSPayload
		}
	}
	if len(frames) < 4 {
		t.Fatalf("%d frames (commands and meter responses), want 4", len(frames))
	}
	for name, f := range frames {
		j.frame(t, name, f)
	}
	r := run(t, j)

	for name, b := range frames {
		c := newChecker(t, name, r.GBCS[name])
		if c == nil {
			continue
		}
		f, err := gbcs.ParseFrame(b)
		if err != nil {
			t.Fatalf("%s: our decoder: %v", name, err)
		}
		c.frame(f)
		c.payload(&f.Message)
	}
	for _, d := range docs {
		if c := newDocCheck(t, d.name, r.DUIS[d.name], d.kind); c != nil {
			resp, err := duis.DecodeResponse(d.doc)
			if err != nil {
				t.Fatal(err)
			}
			c.response(resp)
		}
	}
}

// demoKeys is the peers' key store for a demo: its PKI's CoS keys and the
// simulated meters' keys (the PKI's device keys, derived keys beyond them,
// as device.NewFleet gives them).
func demoKeys(tb testing.TB, w *demoworld.World) []peerKey {
	tb.Helper()
	p := w.PKI
	ks := []peerKey{newPeerKey(tb, p.TCoS.EUI, "DS", p.TCoS.Key), newPeerKey(tb, p.ECoS.EUI, "DS", p.ECoS.Key)}
	for _, s := range p.Suppliers {
		ks = append(ks, newPeerKey(tb, s.EUI, "DS", s.DS.Key))
	}
	for _, d := range p.Devices {
		ks = append(ks, newPeerKey(tb, d.EUI, "DS", d.DS.Key))
	}
	for n := len(p.Devices) + 1; n <= 3; n++ {
		k, err := device.DeriveKey([]byte(device.DefaultKeySeed), demoworld.Device(n))
		if err != nil {
			tb.Fatal(err)
		}
		ks = append(ks, newPeerKey(tb, demoworld.Device(n), "DS", k))
	}
	return ks
}

// migrationAnswers are the meters' answers the migration recorded, by
// device, counter and kind.
func migrationAnswers(tb testing.TB, cfg *config.Config) map[string][]byte {
	tb.Helper()
	dsn, err := cfg.DatabaseDSN()
	if err != nil {
		tb.Fatal(err)
	}
	db, err := store.Open(context.Background(), store.Config{Driver: cfg.Database.Driver, DSN: dsn})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	out := map[string][]byte{}
	for n := 1; n <= 3; n++ {
		cs, err := db.CommandsOf(context.Background(), demoworld.Device(n))
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range cs {
			if c.Response != nil {
				out[fmt.Sprintf("migration/%d/%s-%d/answer", n, c.Kind, c.Counter)] = c.Response
			}
		}
	}
	return out
}
