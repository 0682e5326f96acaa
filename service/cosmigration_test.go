package service_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

const (
	raceDevices = 40 // meters the 6.23s and the wave both work on
	// lostDevice is a further meter whose mode 6 answer is held back,
	// then lost: it is unknown when the 6.23s sent for it are signed.
	lostDevice = raceDevices + 1
	raceWait   = time.Minute // bounds every wait
)

// TestCoSDuringMigration drives SR 6.23s and a migration wave at once on
// the same meters, in one service sharing one set of device leases:
//   - every 6.23 is answered by its meter: none is refused for a replayed
//     counter or a key the meter no longer trusts;
//   - each is signed with the key the meter trusted when it was signed:
//     TCoS below the counter of the mode 6 command that migrated it, ECoS
//     above (counters come from one namespace and reach a meter in
//     order), and the frame's signature verifies with that key;
//   - every meter ends ecos, having had 6.23s signed with both keys;
//   - a 6.23 accepted while its meter's mode 6 was in flight, whose answer
//     is then lost, fails with device-state before anything is signed;
//     one sent once the meter's credential is unknown is refused at once,
//     with device-state and a message saying why.
//
// On SQLite and on PostgreSQL.
func TestCoSDuringMigration(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCoSDuringMigration(t, store.Config{}) })
	t.Run("postgres", func(t *testing.T) { testCoSDuringMigration(t, testkit.FreshPostgres(t)) })
}

func testCoSDuringMigration(t *testing.T, db store.Config) {
	ctx := t.Context()
	dir := t.TempDir()
	installDemo(t, dir, demoworld.InstallOptions{Devices: lostDevice, Database: db})
	s := serveDir(t, dir, func(c *config.Config) {
		c.Migration.RetryBase = config.Duration(10 * time.Millisecond)
		c.Migration.RetryMax = config.Duration(50 * time.Millisecond)
	})
	ld := &cosLoad{s: s, counters: map[eui.EUI]uint64{}, sent: map[eui.EUI][]store.RequestID{}}

	// Every meter gets 6.23 after 6.23, each once the last is final, from
	// before the wave starts until after it ends.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var first sync.WaitGroup
	for n := 1; n <= raceDevices; n++ {
		first.Add(1)
		wg.Go(func() {
			d := demoworld.Device(n)
			ld.one(t, d)
			first.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ld.one(t, d)
			}
		})
	}
	first.Wait() // every meter has had one signed with TCoS

	// The lost meter carries its mode 6 out, but the answer comes late and
	// is then lost, as are its read-backs' answers.
	lost := demoworld.Device(lostDevice)
	meter, ok := s.sim.Fleet().Device(lost)
	if !ok {
		t.Fatal("no lost meter")
	}
	meter.SetFaults(device.Faults{Fixed: device.Fault{Kind: device.FaultDropResponse, Delay: 500 * time.Millisecond}})

	w, err := s.operator.StartWave(ctx, api.WaveRequest{Name: "6.23 race", Concurrency: 4, Rate: 12})
	if err != nil {
		t.Fatal(err)
	}

	// While the lost meter's mode 6 is in flight its credential is still
	// TCoS: a 6.23 for it is accepted, waits for the lease, and must fail
	// when the credential turns unknown, unsigned.
	waitFor(t, "the lost meter's mode 6 in flight", func() (bool, error) {
		st, err := s.svc.Store().MigrationStatusOf(ctx, lost)
		return st.State == store.MigrationSent, err
	})
	inFlight := ld.submit(t, lost)
	if inFlight.ack.Accepted {
		req, err := s.svc.Pipeline().WaitFinal(ctx, inFlight.id)
		if err != nil {
			t.Fatal(err)
		}
		if req.State != store.RequestFailed || req.Reason != ecoserr.DeviceState.Name() {
			t.Errorf("a 6.23 accepted while its meter's mode 6 was in flight ended %s (%s), want failed (device-state)", req.State, req.Reason)
		}
	} else {
		t.Errorf("a 6.23 for a meter whose mode 6 is in flight (credential still TCoS) was refused: %v", inFlight.ack.Err)
	}

	waitFor(t, "the wave done", func() (bool, error) {
		v, err := s.operator.Wave(ctx, w.ID)
		if v.State != "" && v.State != string(store.WaveRunning) && v.State != string(store.WaveDone) {
			return false, fmt.Errorf("wave %s (%s)", v.State, v.Reason)
		}
		return v.State == string(store.WaveDone), err
	})
	close(stop)
	wg.Wait()
	for n := 1; n <= raceDevices; n++ {
		ld.one(t, demoworld.Device(n)) // and one surely signed with ECoS
	}

	// Now the lost meter's credential is unknown: refused at once.
	dev, err := s.svc.Store().Device(ctx, lost)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Credential != store.CredentialUnknown {
		t.Fatalf("the lost meter's credential is %s, want unknown", dev.Credential)
	}
	refused := ld.submit(t, lost)
	if refused.ack.Accepted || ecoserr.ReasonOf(refused.ack.Err) != ecoserr.DeviceState ||
		!strings.Contains(ecoserr.PublicMessage(refused.ack.Err), "credential is unknown until it is read back") {
		t.Errorf("a 6.23 for a meter whose credential is unknown: accepted=%v, %v; want refused, device-state, saying the credential is unknown",
			refused.ack.Accepted, refused.ack.Err)
	}

	ld.check(t, lost)
}

// cosLoad submits 6.23s as supplier 2 and remembers them.
type cosLoad struct {
	s *serving

	mu       sync.Mutex
	counters map[eui.EUI]uint64
	sent     map[eui.EUI][]store.RequestID // accepted, by meter
	failures []string
}

type submitted struct {
	id  store.RequestID
	ack *pipeline.Ack
}

// submit posts the meter's next 6.23 to the pipeline.
func (l *cosLoad) submit(t *testing.T, d eui.EUI) submitted {
	l.mu.Lock()
	l.counters[d]++
	r := demoworld.Request{Supplier: 2, Device: d, Counter: l.counters[d]}
	l.mu.Unlock()
	doc, err := l.s.world.Sign(r)
	if err != nil {
		panic(err) // a broken fixture
	}
	ack, err := l.s.svc.Pipeline().Submit(context.Background(), doc)
	if err != nil {
		panic(err)
	}
	id := store.RequestID{Originator: l.s.world.PKI.Suppliers[1].EUI, Target: d, Counter: r.Counter}
	if ack.Accepted {
		l.mu.Lock()
		l.sent[d] = append(l.sent[d], id)
		l.mu.Unlock()
	}
	return submitted{id: id, ack: ack}
}

// one submits the meter's next 6.23 and waits until it is final; a
// refusal or failure is noted.
func (l *cosLoad) one(t *testing.T, d eui.EUI) {
	s := l.submit(t, d)
	if !s.ack.Accepted {
		l.fail("%s refused: %v", duis.RequestID(s.id), s.ack.Err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), raceWait)
	defer cancel()
	req, err := l.s.svc.Pipeline().WaitFinal(ctx, s.id)
	switch {
	case err != nil:
		l.fail("%s: %v", duis.RequestID(s.id), err)
	case req.State != store.RequestResponded:
		l.fail("%s ended %s (%s)", duis.RequestID(s.id), req.State, req.Reason)
	}
}

func (l *cosLoad) fail(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf(format, a...))
}

// check reads what was signed for each meter against its migration.
func (l *cosLoad) check(t *testing.T, lost eui.EUI) {
	t.Helper()
	ctx := t.Context()
	db := l.s.svc.Store()
	if len(l.failures) > 0 {
		t.Errorf("%d 6.23s were not answered by their meter, e.g. %s", len(l.failures), l.failures[0])
	}
	pki := l.s.world.PKI
	keys := map[string]struct {
		eui eui.EUI
		pub *ecdsa.PublicKey
	}{}
	for id, cert := range map[string][]byte{"tcos": pki.TCoS.Cert, "ecos": pki.ECoS.Cert} {
		c, err := smki.Parse(cert)
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = struct {
			eui eui.EUI
			pub *ecdsa.PublicKey
		}{c.EUI, c.PublicKey}
	}
	total, byKey, rekeyed := 0, map[string]int{}, 0
	for n := 1; n <= raceDevices; n++ {
		d := demoworld.Device(n)
		h, err := db.MigrationHistory(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		var migrated store.Transition // the move into ecos, by its mode 6 command's answer
		for _, x := range h {
			if x.To == store.MigrationECoS {
				migrated = x
			}
		}
		if migrated.From != store.MigrationSent || migrated.Counter == 0 {
			t.Errorf("%s: no move from sent into ecos with a counter: %+v", d, h)
			continue
		}
		mine := map[string]int{}
		for _, id := range l.sent[d] {
			cs, err := db.CommandsForRequest(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 {
				t.Errorf("%s: %d commands, want 1", duis.RequestID(id), len(cs))
				continue
			}
			c := cs[0]
			want := "tcos"
			if c.Counter > migrated.Counter {
				want = "ecos"
			}
			total++
			byKey[c.KeyID]++
			mine[c.KeyID]++
			if c.Counter == migrated.Counter {
				t.Errorf("%s: 6.23 command and mode 6 command share counter %d", d, c.Counter)
			}
			if c.KeyID != want {
				t.Errorf("%s: 6.23 counter %d signed with %s; the mode 6 that migrated the meter had counter %d, so it trusted %s",
					d, c.Counter, c.KeyID, migrated.Counter, want)
			}
			k := keys[c.KeyID]
			f, err := gbcs.ParseFrame(c.Frame)
			if err != nil {
				t.Fatalf("%s: frame: %v", duis.RequestID(id), err)
			}
			if f.Message.Originator != k.eui || f.Message.Counter != c.Counter || f.Message.Verify(k.pub) != nil {
				t.Errorf("%s: the frame is not signed by the %s key with counter %d", duis.RequestID(id), c.KeyID, c.Counter)
			}
			req, err := db.Request(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if want == "ecos" && req.ReceivedAt.Before(migrated.At) {
				rekeyed++ // authorised against TCoS, signed after the migration
			}
		}
		if mine["tcos"] == 0 || mine["ecos"] == 0 {
			t.Errorf("%s: 6.23s signed %v: want some with each key", d, mine)
		}
		st, err := db.MigrationStatusOf(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != store.MigrationECoS {
			t.Errorf("%s ends %s, want ecos", d, st.State)
		}
	}
	t.Logf("%d 6.23s answered while %d meters migrated: %v; %d received before their meter migrated and signed after it with ECoS",
		total, raceDevices, byKey, rekeyed)
	if rekeyed == 0 {
		t.Error("no 6.23 was received before its meter migrated and signed after: the test did not race them")
	}

	// Nothing was signed for the lost meter once its mode 6 was sent: the
	// 6.23 that waited for it failed unsigned.
	for _, id := range l.sent[lost] {
		cs, err := db.CommandsForRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 0 {
			t.Errorf("a 6.23 for the lost meter was signed (counter %d, %s key) while its credential was unknown", cs[0].Counter, cs[0].KeyID)
		}
	}
	st, err := db.MigrationStatusOf(ctx, lost)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != store.MigrationException {
		t.Errorf("the lost meter ends %s, want exception (read-back unanswered)", st.State)
	}
}

// waitFor polls cond until it holds, or fails the test after raceWait.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.NewTimer(raceWait)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: not within %v", what, raceWait)
		}
	}
}
