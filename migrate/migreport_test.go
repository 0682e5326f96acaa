package migrate_test

import (
	"context"
	"testing"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/migreport"
	"github.com/ecos-cos/ecos/store"
)

// The migration report reads what a wave under faults wrote: the causes
// the runner gives group into the reasons docs/migration-reports.md
// names, and the counts agree with the devices' states.
func TestReportOfAWaveUnderFaults(t *testing.T) {
	busy := device.Fault{Kind: device.FaultBusy}
	badCert := device.Fault{Kind: device.FaultPartial, Status: gbcs.StatusBadCertificate,
		Cell: gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}}
	scripts := [][]device.Fault{nil, nil, nil, {busy}, {device.Fault{Kind: device.FaultDropResponse}}, {badCert}, {badCert}, nil}
	f := newFixture(t, fixtureOptions{devices: len(scripts)})
	plan := &faultPlan{script: map[eui.EUI][]device.Fault{}, seen: map[eui.EUI]int{}, always: map[eui.EUI]device.Fault{}}
	for i, s := range scripts {
		plan.script[f.world.Devices[i].EUI] = s
	}
	plan.always[f.world.Devices[len(scripts)-1].EUI] = busy
	f.fleet.SetFaults(device.Faults{Choose: plan.choose})
	id := f.wave(t, store.WaveFilter{}, 4)
	if p := f.runUntilSettled(t, id, 40); p.Wave.State != store.WaveDone {
		t.Fatalf("wave %s (%s)", p.Wave.State, p.Wave.Reason)
	}
	r, err := migreport.Make(context.Background(), f.db, migreport.Options{Now: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	if r.States[store.MigrationECoS] != 5 || r.States[store.MigrationException] != 3 || r.Devices != int64(len(scripts)) {
		t.Errorf("states %v", r.States)
	}
	if last := r.Daily[len(r.Daily)-1]; last.ECoS != 5 {
		t.Errorf("devices on ECoS at the end: %d, want 5", last.ECoS)
	}
	in := map[string]int64{}
	for _, e := range r.Failures.InException {
		in[e.Reason] = e.Devices
	}
	if len(in) != 2 || in["badCertificate"] != 2 || in["attempts used up"] != 1 {
		t.Errorf("devices in exception by reason: %v", in)
	}
	moves := map[store.MigrationState]map[string]int64{store.MigrationException: {}, store.MigrationRetryWait: {}}
	for _, m := range r.Failures.Moves {
		moves[m.To][m.Reason] += m.Moves
	}
	// The device always busy waits four times and fails on its fifth
	// attempt; the one busy once waits once.
	if moves[store.MigrationRetryWait]["resourcesBusy"] != 5 || moves[store.MigrationException]["badCertificate"] != 2 ||
		moves[store.MigrationException]["attempts used up"] != 1 {
		t.Errorf("failure moves by reason: %v", moves)
	}
}
