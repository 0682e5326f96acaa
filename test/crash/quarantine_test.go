package crash_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/store"
)

// quarantineKills is how many SIGKILLs each phase of TestKill9Quarantine
// takes.
const quarantineKills = 3

// TestKill9Quarantine: with supplier 2 held to a zero threshold, the
// server is killed while it holds requests and again while an operator
// releases them. Every acknowledged request must be held exactly once,
// with its alert, and reach no meter while held; every released one must
// then be sent once and end; no counter is used twice.
func TestKill9Quarantine(t *testing.T) { eachBackend(t, kill9Quarantine) }

func kill9Quarantine(t *testing.T, bin string, database store.Config) {
	ctx := t.Context()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "demo")
	cfgPath, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: devices, ADTRows: []string{"6.23,0,0,1440"}, Database: database, PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	world, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sim := start(t, filepath.Join(tmp, "devicesim.log"), bin, devicesimReady,
		"devicesim", "--listen", "127.0.0.1:0", "--pki", filepath.Join(dir, demoworld.PKIDir), "--devices", fmt.Sprint(devices))
	t.Cleanup(func() { sim.stop(t) })
	simURL := "http://" + waitReady(t, sim).listen
	rewriteConfig(t, cfgPath, simURL)

	ld := &load{world: world, supplier: world.PKI.Suppliers[1].EUI, counters: make([]uint64, devices+1),
		acked: map[store.RequestID]bool{}, tried: map[store.RequestID]bool{}, refused: map[string]int{}, ackedMore: make(chan struct{})}
	var operator *api.Client
	rng := rand.New(rand.NewPCG(5, 623))
	runs := 0
	// serve starts the server and points the clients at it; nothing uses
	// them while it runs.
	serve := func() *proc {
		runs++
		srv := start(t, filepath.Join(tmp, fmt.Sprintf("serve-%d.log", runs)), bin, serveReady, "serve", "--config", cfgPath)
		r := waitReady(t, srv)
		ld.client = usersClient(r)
		operator = operatorClient(t, r, dir)
		return srv
	}
	kill := func(srv *proc, upTo int) {
		// sleep-ok: chooses when to kill; nothing is waited for
		time.Sleep(time.Duration(2+rng.IntN(upTo)) * time.Millisecond)
		if err := srv.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-srv.exited
	}

	// Phase 1: every request is held; the server dies while holding.
	for range quarantineKills {
		srv := serve()
		var wg sync.WaitGroup
		for n := 1; n <= devices; n++ {
			wg.Go(func() {
				for ld.submitOne(ctx, n) {
				}
			})
		}
		kill(srv, 120)
		wg.Wait()
	}
	interrupted := len(ld.tried) - len(ld.acked) - ld.refusedCount()
	srv := serve()
	for n := 1; n <= devices; n++ {
		ld.submitOne(ctx, n) // and one that surely lands whole
	}
	dbCfg := demoStore(dir, database)
	held := checkHeld(t, dbCfg, ld)
	var stats devicesim.Stats
	getJSON(t, simURL+"/v1/stats", &stats)
	if stats.Frames != 0 {
		t.Fatalf("devicesim received %d frames while every request was held", stats.Frames)
	}
	t.Logf("phase 1: %d requests tried, %d acknowledged, %d held, %d cut off by a kill, %d refused %v",
		len(ld.tried), len(ld.acked), len(held), interrupted, ld.refusedCount(), ld.refused)
	if interrupted == 0 {
		t.Error("no kill cut a submission off: phase 1 exercised nothing")
	}

	// Phase 2: an operator releases them all; the server dies meanwhile.
	recovered := 0
	for k := 0; ; k++ {
		left := stillHeld(t, operator)
		if len(left) == 0 {
			break
		}
		if k > quarantineKills+3 {
			t.Fatalf("%d requests still held after %d release rounds", len(left), k)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, ref := range left {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				operator.DecideHold(ctx, ref, true, "crash-test") // an error is the kill, or already decided
			})
		}
		if k < quarantineKills {
			kill(srv, 30)
			wg.Wait()
			for _, n := range unfinished(t, dbCfg) {
				recovered += n
			}
			srv = serve()
			continue
		}
		wg.Wait()
	}
	if recovered == 0 {
		t.Error("no released request was in flight at a kill: phase 2 exercised no recovery")
	}
	ids := make([]store.RequestID, 0, len(held))
	for _, id := range held {
		ids = append(ids, id)
	}
	waitFinal(t, srv, ld.client, ids)
	t.Logf("phase 2: %d released, %d in flight at a kill and recovered", len(held), recovered)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	check(t, dbCfg, ld, simURL)
	if len(held) < devices {
		t.Errorf("only %d requests were held: too little to say anything", len(held))
	}
}

// submitOne sends meter n's next request and notes whether it was
// acknowledged; false when the server could not be reached.
func (l *load) submitOne(ctx context.Context, n int) bool {
	l.mu.Lock()
	l.counters[n]++
	r := demoworld.Request{Supplier: 2, Device: demoworld.Device(n), Counter: l.counters[n]}
	id := store.RequestID{Originator: l.supplier, Target: r.Device, Counter: r.Counter}
	l.tried[id] = true
	l.mu.Unlock()
	doc, err := l.world.Sign(r)
	if err != nil {
		panic(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ack, accepted, err := l.client.Submit(sctx, doc)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil: // the server died: not acknowledged
		return false
	case !accepted:
		l.refused[clip(string(ack), 120)]++
	default:
		l.ack(id)
	}
	return true
}

// checkHeld reads the database under the running server: every
// acknowledged request is quarantined with one held row and its
// acknowledgement and alert, every quarantined request has exactly one
// held row, and nothing is held that was never sent (a kill between the
// commit and the reply holds a request its sender never heard about).
func checkHeld(t *testing.T, dbCfg store.Config, ld *load) map[uint64]store.RequestID {
	t.Helper()
	db := openRaw(t, dbCfg)
	defer db.Close()
	var quarantined, holds int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM requests WHERE state = 'quarantined'`).Scan(&quarantined); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM quarantine WHERE state = 'held'`).Scan(&holds); err != nil {
		t.Fatal(err)
	}
	if quarantined != holds || holds < len(ld.acked) {
		t.Fatalf("%d acknowledged, %d requests quarantined, %d held rows: want as many held rows as held requests, and every acknowledged one among them", len(ld.acked), quarantined, holds)
	}
	var missing int
	err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM requests r WHERE state = 'quarantined' AND
		(SELECT count(*) FROM responses s WHERE s.originator_eui = r.originator_eui AND s.target_eui = r.target_eui
			AND s.counter = r.counter AND s.kind IN ('acknowledgement', 'alert')) != 2`).Scan(&missing)
	if err != nil {
		t.Fatal(err)
	}
	if missing != 0 {
		t.Errorf("%d held requests lack their acknowledgement or alert", missing)
	}
	st, err := store.Open(t.Context(), dbCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hs, err := st.Holds(t.Context(), store.HoldQuery{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]store.RequestID{}
	for _, h := range hs {
		if !ld.tried[h.Request] {
			t.Errorf("hold %d is for %s, which was never sent", h.Ref, h.Request)
		}
		out[h.Ref] = h.Request
	}
	for id := range ld.acked {
		if !slices.Contains(slices.Collect(maps.Values(out)), id) {
			t.Errorf("acknowledged request %s is not held", id)
		}
	}
	return out
}

func stillHeld(t *testing.T, operator *api.Client) []uint64 {
	t.Helper()
	b, err := operator.Quarantine(t.Context(), "", "held", "json")
	if err != nil {
		t.Fatal(err)
	}
	var l api.HoldList
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	refs := make([]uint64, len(l.Holds))
	for i, h := range l.Holds {
		refs[i] = h.QuarantineEventRef
	}
	return refs
}
