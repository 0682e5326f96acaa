package migrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/store"
)

// A wave paused while it waits for its rate limit sends nothing more: the
// devices it was about to send stay queued.
func TestPauseDuringRateWait(t *testing.T) {
	var f *fixture
	var id store.WaveID
	waits := 0
	f = newFixture(t, fixtureOptions{devices: 4, config: func(c *migrate.Config) {
		c.Wait = func(_ context.Context, d time.Duration) error {
			if d > 0 {
				waits++
				if _, err := f.db.SetWaveState(context.Background(), id, store.WavePaused, "operator", f.clock()); err != nil {
					t.Error(err)
				}
			}
			return nil
		}
	}})
	wid, err := f.db.CreateWave(context.Background(), store.Wave{Name: "slow", Rate: 1, Concurrency: 1, CreatedAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	id = wid
	p, err := f.runner.RunWave(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Wave.State != store.WavePaused || waits != 1 {
		t.Fatalf("wave %s after %d waits, want paused after 1", p.Wave.State, waits)
	}
	sent := 0
	for _, d := range f.world.Devices {
		sent += len(f.gw.frames(d.EUI))
	}
	if sent != 1 || p.Migrated != 1 {
		t.Errorf("%d frames sent (%d migrated) by a wave paused after its first, want 1", sent, p.Migrated)
	}
	f.checkInvariants(t)
}
