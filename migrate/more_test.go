package migrate_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/store"
)

// A DCC-wide threshold the migration would cross pauses the wave, with the
// reason; no device fails, and the devices not yet sent stay queued.
func TestDCCHoldPausesTheWave(t *testing.T) {
	counter := anomaly.New(anomaly.Options{})
	counter.SetDCC([]adt.Threshold{{SRV: "6.23", Warning: 3, Quarantine: 5, Interval: 1440}})
	f := newFixture(t, fixtureOptions{devices: 12, config: func(c *migrate.Config) { c.Thresholds = counter; c.Batch = 4 }})
	id := f.wave(t, store.WaveFilter{}, 4)
	p, err := f.runner.RunWave(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Wave.State != store.WavePaused || !strings.Contains(p.Wave.Reason, "DCC-wide anomaly threshold for SRV 6.23") {
		t.Fatalf("wave %s %q, want paused by the DCC-wide threshold", p.Wave.State, p.Wave.Reason)
	}
	counts, err := f.db.MigrationCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.MigrationECoS] != 5 || counts[store.MigrationException] != 0 || counts[store.MigrationSent] != 0 {
		t.Errorf("after the hold: %v; want 5 ecos, nothing failed or in flight", counts)
	}
	// Resumed without room under the threshold, it pauses again at once.
	if _, err := f.db.SetWaveState(context.Background(), id, store.WaveRunning, "", f.clock()); err != nil {
		t.Fatal(err)
	}
	if p, _ = f.runner.RunWave(context.Background(), id); p.Wave.State != store.WavePaused || p.Migrated != 0 {
		t.Errorf("resumed at the threshold: %s, %d sent", p.Wave.State, p.Migrated)
	}
	f.checkInvariants(t)
}

// The rate limit asks to wait in proportion to the devices sent.
func TestRateLimit(t *testing.T) {
	var waited time.Duration
	f := newFixture(t, fixtureOptions{devices: 20, config: func(c *migrate.Config) {
		c.Batch = 5
		c.Wait = func(_ context.Context, d time.Duration) error { waited += d; return nil }
	}})
	id, err := f.db.CreateWave(context.Background(), store.Wave{Name: "slow", Concurrency: 5, Rate: 10, CreatedAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	p := f.runUntilSettled(t, id, 2)
	if p.Wave.State != store.WaveDone {
		t.Fatalf("wave %s", p.Wave.State)
	}
	// 20 devices at 10/s with a burst of 10 on a stopped clock: the last
	// 10 wait 1 s in all, in batches of 5 (0.5 s, then 1 s).
	if waited < time.Second {
		t.Errorf("waited %v for 20 devices at 10/s, want at least 1s", waited)
	}
}

// Devices imported as unknown are read back before anything is sent:
// those that hold TCoS are then migrated, those that hold ECoS are ecos
// without a command.
func TestImportedUnknownIsReadBackFirst(t *testing.T) {
	f := newFixture(t, fixtureOptions{devices: 4})
	ctx := context.Background()
	// Device 0 already holds ECoS (migrated by someone else); the store
	// knows neither device's credential.
	res, err := f.gw.next.Send(ctx, f.migrationFrame(t, 0, 1000))
	if err != nil || res.Response == nil {
		t.Fatalf("setting up device 0: %v %+v", err, res)
	}
	// The party continues above the counters used before it (as after a
	// key transfer).
	if err := f.db.RaiseCounter(ctx, "cos", 1000); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1} {
		d := f.world.Devices[i]
		d.Credential, d.CredentialSKI = store.CredentialUnknown, nil
		if err := f.db.ImportDevices(ctx, []store.Device{d}); err != nil {
			t.Fatal(err)
		}
	}
	id := f.wave(t, store.WaveFilter{}, 4)
	p := f.runUntilSettled(t, id, 3)
	if p.Wave.State != store.WaveDone {
		f.dump(t)
		t.Fatalf("wave %s", p.Wave.State)
	}
	for i, want := range []string{"read-back: the cell holds the ECoS certificate", "ECoS certificate installed"} {
		h, _ := f.db.MigrationHistory(ctx, f.world.Devices[i].EUI)
		if len(h) == 0 || h[len(h)-1].Cause != want || h[len(h)-1].To != store.MigrationECoS {
			t.Errorf("device %d: history %+v, want last %q", i, h, want)
		}
	}
	if p.ReadBacks < 2 {
		t.Errorf("%d read-backs, want at least the two unknown devices'", p.ReadBacks)
	}
}

// After a crash: a command still in intent never left (retry-wait, due at
// once), a sent one may have (unknown), a read-back in flight is abandoned
// (its device stays unknown), and a running wave is paused.
func TestRecoverSettlesWhatACrashLeft(t *testing.T) {
	f := newFixture(t, fixtureOptions{devices: 3})
	ctx := context.Background()
	id := f.wave(t, store.WaveFilter{}, 3)
	w, err := f.db.WaveByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.TakeForWave(ctx, w, [8]byte{}, 3, f.clock()); err != nil {
		t.Fatal(err)
	}
	var claims []store.Claim
	for _, d := range f.world.Devices[:2] {
		claims = append(claims, store.Claim{Device: d.EUI, Kind: store.OwnMigrate, Wave: id, Cause: "wave 1"})
	}
	got, err := f.db.ClaimCommands(ctx, "cos", claims, f.clock(), func(c store.Claim, n uint64) (store.Built, error) {
		return store.Built{KeyID: "tcos", TBS: []byte{1}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sent := got[1].Command
	if err := f.db.MarkOwnSent(ctx, []store.OwnKey{{Device: sent.Device, Counter: sent.Counter}}, f.clock()); err != nil {
		t.Fatal(err)
	}
	n, err := f.runner.Recover(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Recover settled %d, %v; want 2", n, err)
	}
	for i, want := range []store.MigrationState{store.MigrationRetryWait, store.MigrationUnknown, store.MigrationQueued} {
		st, _ := f.db.MigrationStatusOf(ctx, f.world.Devices[i].EUI)
		if st.State != want {
			t.Errorf("device %d: %s, want %s", i, st.State, want)
		}
	}
	if w, _ = f.db.WaveByID(ctx, id); w.State != store.WavePaused || !strings.HasPrefix(w.Reason, "interrupted") {
		t.Errorf("wave %s %q, want paused as interrupted", w.State, w.Reason)
	}
	if open, _ := f.db.OpenCommands(ctx, 10); len(open) != 0 {
		t.Errorf("%d commands still open", len(open))
	}
	// A crash with a read-back of the unknown device in flight, and one
	// in intent: both are abandoned, the device stays unknown, to be read
	// back again.
	unknown := f.world.Devices[1].EUI
	for _, markSent := range []bool{true, false} {
		rb, err := f.db.ClaimCommands(ctx, "cos", []store.Claim{{Device: unknown, Kind: store.OwnReadBack, Wave: id, Cause: "read-back"}}, f.clock(),
			func(c store.Claim, n uint64) (store.Built, error) {
				return store.Built{KeyID: "ecos", TBS: []byte{2}}, nil
			})
		if err != nil || rb[0].Err != nil {
			t.Fatalf("read-back claim: %v, %v", err, rb)
		}
		if markSent {
			c := rb[0].Command
			if err := f.db.MarkOwnSent(ctx, []store.OwnKey{{Device: c.Device, Counter: c.Counter}}, f.clock()); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := f.runner.Recover(ctx); err != nil || n != 1 {
			t.Fatalf("Recover settled %d read-backs (sent %v), %v; want 1", n, markSent, err)
		}
		if st, _ := f.db.MigrationStatusOf(ctx, unknown); st.State != store.MigrationUnknown {
			t.Errorf("after an interrupted read-back (sent %v) the device is %s, want unknown", markSent, st.State)
		}
		if open, _ := f.db.OpenCommands(ctx, 10); len(open) != 0 {
			t.Errorf("%d commands still open after the read-back's recovery", len(open))
		}
	}
	// Resumed, the wave finishes every device.
	if _, err := f.db.SetWaveState(ctx, id, store.WaveRunning, "", f.clock()); err != nil {
		t.Fatal(err)
	}
	if p := f.runUntilSettled(t, id, 3); p.Wave.State != store.WaveDone {
		t.Fatalf("after resume: %s", p.Wave.State)
	}
	// The two commands the "crash" cut off never reached a device, so
	// the frame counts differ from the attempts here; the cells must not.
	for _, d := range f.world.Devices {
		dev, _ := f.fleet.Device(d.EUI)
		if cert, _ := dev.TransitionalCoS(); !bytes.Equal(cert.Raw, f.world.PKI.ECoS.Cert) {
			t.Errorf("%s does not hold ECoS", d.EUI)
		}
	}
}

// Cancelling puts the queued devices back in tcos, free for another wave.
func TestCancelUnqueues(t *testing.T) {
	f := newFixture(t, fixtureOptions{devices: 4})
	ctx := context.Background()
	op := &migrate.Operator{Store: f.db, Devices: f.db, Runner: f.runner, Now: f.clock}
	w, err := op.Start(ctx, store.Wave{Name: "w", Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.TakeForWave(ctx, w, [8]byte{}, 4, f.clock()); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Act(ctx, w.ID, migrate.ActionCancel, "wrong filter"); err != nil {
		t.Fatal(err)
	}
	counts, _ := f.db.MigrationCounts(ctx)
	if counts[store.MigrationTCoS] != 4 {
		t.Fatalf("after cancel: %v", counts)
	}
	w2, err := op.Start(ctx, store.Wave{Name: "again", Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p := f.runUntilSettled(t, w2.ID, 2); p.Wave.State != store.WaveDone || p.Migrated != 4 {
		t.Fatalf("second wave: %+v", p)
	}
	if _, err := op.Act(ctx, w.ID, migrate.ActionResume, ""); err == nil {
		t.Error("a cancelled wave resumed")
	}
}

func (f *fixture) dump(t *testing.T) {
	for _, d := range f.world.Devices {
		h, _ := f.db.MigrationHistory(context.Background(), d.EUI)
		st, _ := f.db.MigrationStatusOf(context.Background(), d.EUI)
		t.Logf("%s %s %+v", d.EUI, st.State, h)
	}
}

// A restart counts the last day's migration commands again: the DCC-wide
// window does not start empty.
func TestRestoreCounts(t *testing.T) {
	f := newFixture(t, fixtureOptions{devices: 6})
	id := f.wave(t, store.WaveFilter{}, 6)
	if p := f.runUntilSettled(t, id, 2); p.Wave.State != store.WaveDone {
		t.Fatalf("wave %s", p.Wave.State)
	}
	counter := anomaly.New(anomaly.Options{})
	counter.SetDCC([]adt.Threshold{{SRV: "6.23", Warning: 6, Quarantine: 7, Interval: 1440}})
	restarted := f.runnerWith(t, func(c *migrate.Config) { c.Thresholds = counter })
	n, err := restarted.RestoreCounts(context.Background())
	if err != nil || n != 6 {
		t.Fatalf("restored %d, %v; want the 6 commands", n, err)
	}
	srv, _ := anomaly.SRVOf("6.23")
	if d := counter.CheckOwn(srv, f.clock()); d.Outcome != anomaly.Warn {
		t.Errorf("the 7th command: %v, want the warning above 6", d.Outcome)
	}
	if d := counter.CheckOwn(srv, f.clock()); d.Outcome != anomaly.Quarantine {
		t.Errorf("the 8th command: %v, want quarantine above 7", d.Outcome)
	}
	// Commands older than a day are not counted.
	f.advance(25 * time.Hour)
	if n, _ := restarted.RestoreCounts(context.Background()); n != 0 {
		t.Errorf("a day later %d were counted", n)
	}
}

// A running wave's counts are kept for a while (a display polls them);
// an operator's action, or the wave ending, counts again.
func TestProgressCountsKeptWhileRunning(t *testing.T) {
	f := newFixture(t, fixtureOptions{devices: 4})
	ctx := context.Background()
	op := &migrate.Operator{Store: f.db, Devices: f.db, Runner: f.runner, Now: f.clock}
	w, err := op.Start(ctx, store.Wave{Name: "w", Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := op.Progress(ctx, w.ID)
	if err != nil || p.Untaken != 4 {
		t.Fatalf("progress %+v, %v", p, err)
	}
	if _, _, err := f.db.TakeForWave(ctx, w, [8]byte{}, 2, f.clock()); err != nil {
		t.Fatal(err)
	}
	if p, _ = op.Progress(ctx, w.ID); p.Untaken != 4 || p.Counts[store.MigrationQueued] != 0 {
		t.Errorf("within the second: %+v, want the kept counts", p)
	}
	f.advance(2 * time.Second)
	if p, _ = op.Progress(ctx, w.ID); p.Untaken != 2 || p.Counts[store.MigrationQueued] != 2 {
		t.Errorf("two seconds on: %+v, want counted again", p)
	}
	if _, _, err := f.db.TakeForWave(ctx, w, f.world.Devices[1].EUI, 2, f.clock()); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Act(ctx, w.ID, migrate.ActionPause, "look"); err != nil {
		t.Fatal(err)
	}
	if p, _ = op.Progress(ctx, w.ID); p.Untaken != 0 || p.Counts[store.MigrationQueued] != 4 {
		t.Errorf("after a pause: %+v, want counted again", p)
	}
}

// A slow wave holds no other back: each running wave has its own worker.
func TestWavesRunSideBySide(t *testing.T) {
	release := make(chan struct{})
	f := newFixture(t, fixtureOptions{devices: 6, config: func(c *migrate.Config) {
		// Only a rate-limited wave waits: it waits until the test is done.
		c.Wait = func(ctx context.Context, _ time.Duration) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	defer func() {
		close(release)
		cancel()
		<-done
	}()
	wake := make(chan struct{}, 1)
	go func() { done <- f.runner.Run(ctx, wake, 10*time.Millisecond) }()
	ds := func(from, to int) []eui.EUI {
		var out []eui.EUI
		for _, d := range f.world.Devices[from:to] {
			out = append(out, d.EUI)
		}
		return out
	}
	slow, err := f.db.CreateWave(ctx, store.Wave{Name: "slow", Filter: store.WaveFilter{Devices: ds(0, 3)}, Rate: 0.001, Concurrency: 1, CreatedAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := f.db.CreateWave(ctx, store.Wave{Name: "fast", Filter: store.WaveFilter{Devices: ds(3, 6)}, Concurrency: 3, CreatedAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	wake <- struct{}{}
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		w, err := f.db.WaveByID(ctx, fast)
		if err != nil {
			t.Fatal(err)
		}
		if w.State == store.WaveDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fast wave is %s after 20s beside a slow one", w.State)
		}
		<-tick.C
	}
	if w, _ := f.db.WaveByID(ctx, slow); w.State != store.WaveRunning {
		t.Errorf("the slow wave is %s, want still running", w.State)
	}
}
