package migrate_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/store"
)

func TestWaveMigratesEveryDevice(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, fixtureOptions{devices: 12, config: func(c *migrate.Config) { c.Metrics = reg }})
	id := f.wave(t, store.WaveFilter{}, 5)
	p := f.runUntilSettled(t, id, 2)
	if p.Wave.State != store.WaveDone {
		t.Fatalf("wave %s (%s), want done", p.Wave.State, p.Wave.Reason)
	}
	if p.Migrated != 12 {
		t.Errorf("%d commands sent, want 12", p.Migrated)
	}
	if n, err := testutil.GatherAndCount(reg, "ecos_migration_commands_total"); err != nil || n != 1 {
		t.Errorf("metrics: %d series, %v", n, err)
	}
	want := "# HELP ecos_migration_commands_total Migration commands settled, by kind (migrate, readback) and the state their device went to (none: it stayed).\n# TYPE ecos_migration_commands_total counter\necos_migration_commands_total{kind=\"migrate\",to=\"ecos\"} 12\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ecos_migration_commands_total"); err != nil {
		t.Error(err)
	}
	f.checkInvariants(t)
	for _, d := range f.world.Devices {
		st, err := f.db.MigrationStatusOf(context.Background(), d.EUI)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != store.MigrationECoS || st.Attempt != 1 {
			t.Errorf("%s: %s attempt %d, want ecos attempt 1", d.EUI, st.State, st.Attempt)
		}
		h, _ := f.db.MigrationHistory(context.Background(), d.EUI)
		var path []string
		for _, x := range h {
			path = append(path, string(x.To))
		}
		if got := strings.Join(path, ","); got != "queued,sent,ecos" {
			t.Errorf("%s: history %s", d.EUI, got)
		}
	}
	// Done is final for this run: running it again sends nothing.
	p, err := f.runner.RunWave(context.Background(), id)
	if err != nil || p.Migrated != 0 {
		t.Fatalf("a done wave ran again: %+v %v", p, err)
	}
}

func TestWaveFilterTakesOnlyMatching(t *testing.T) {
	f := newFixture(t, fixtureOptions{devices: 6})
	pick := []eui.EUI{f.world.Devices[1].EUI, f.world.Devices[4].EUI}
	id := f.wave(t, store.WaveFilter{Devices: pick}, 4)
	p := f.runUntilSettled(t, id, 2)
	if p.Wave.State != store.WaveDone || p.Migrated != 2 {
		t.Fatalf("wave %+v", p)
	}
	counts, err := f.db.MigrationCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.MigrationECoS] != 2 || counts[store.MigrationTCoS] != 4 {
		t.Errorf("counts %v", counts)
	}
}

// faultPlan injects a scripted fault per device and command number.
type faultPlan struct {
	mu     sync.Mutex
	script map[eui.EUI][]device.Fault // the nth command the device sees meets script[n], then none
	seen   map[eui.EUI]int
	always map[eui.EUI]device.Fault
}

func (p *faultPlan) choose(m *gbcs.Message) device.Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.always[m.Recipient]; ok {
		return f
	}
	n := p.seen[m.Recipient]
	p.seen[m.Recipient]++
	if s := p.script[m.Recipient]; n < len(s) {
		return s[n]
	}
	return device.Fault{}
}

func TestFaultsEndInTheRightState(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { faultsEndInTheRightState(t, store.Config{}) })
	t.Run("postgres", func(t *testing.T) { faultsEndInTheRightState(t, testkit.FreshPostgres(t)) })
}

func faultsEndInTheRightState(t *testing.T, database store.Config) {
	busy := device.Fault{Kind: device.FaultBusy}
	dropResp := device.Fault{Kind: device.FaultDropResponse}
	dropCmd := device.Fault{Kind: device.FaultDropCommand}
	reject := device.Fault{Kind: device.FaultReject}
	cell := gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}
	partial := func(s gbcs.Status) device.Fault {
		return device.Fault{Kind: device.FaultPartial, Cell: cell, Status: s}
	}
	cases := []struct {
		name   string
		script []device.Fault
		always *device.Fault
		want   store.MigrationState
		cause  string // of the last move
	}{
		{name: "clean", want: store.MigrationECoS},
		{name: "busy-then-ok", script: []device.Fault{busy}, want: store.MigrationECoS},
		{name: "response-lost-after-applying", script: []device.Fault{dropResp}, want: store.MigrationECoS, cause: "read-back: the cell holds the ECoS certificate"},
		{name: "command-lost", script: []device.Fault{dropCmd}, want: store.MigrationECoS},
		{name: "refused-once", script: []device.Fault{reject}, want: store.MigrationECoS},
		{name: "read-back-lost-too", script: []device.Fault{dropResp, dropResp}, want: store.MigrationECoS},
		{name: "bad-certificate", script: []device.Fault{partial(gbcs.StatusBadCertificate)}, want: store.MigrationException, cause: "badCertificate (5)"},
		{name: "no-trust-anchor", script: []device.Fault{partial(gbcs.StatusNoTrustAnchor)}, want: store.MigrationException, cause: "noTrustAnchor (10)"},
		{name: "insufficient-memory", script: []device.Fault{partial(gbcs.StatusInsufficientMemory)}, want: store.MigrationException, cause: "insufficientMemory (17)"},
		{name: "other", script: []device.Fault{partial(gbcs.StatusOther)}, want: store.MigrationException, cause: "other (127)"},
		{name: "always-busy", always: &busy, want: store.MigrationException, cause: "attempts used up (5): resourcesBusy (30)"},
		{name: "never-answers", always: &reject, want: store.MigrationException, cause: "read-back unanswered (5 rounds, both keys)"},
	}
	f := newFixture(t, fixtureOptions{devices: len(cases), database: database})
	plan := &faultPlan{script: map[eui.EUI][]device.Fault{}, seen: map[eui.EUI]int{}, always: map[eui.EUI]device.Fault{}}
	for i, c := range cases {
		d := f.world.Devices[i].EUI
		plan.script[d] = c.script
		if c.always != nil {
			plan.always[d] = *c.always
		}
	}
	f.fleet.SetFaults(device.Faults{Choose: plan.choose})
	id := f.wave(t, store.WaveFilter{}, 4)
	p := f.runUntilSettled(t, id, 40)
	if p.Wave.State != store.WaveDone {
		t.Fatalf("wave %s (%s) after 40 rounds", p.Wave.State, p.Wave.Reason)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := f.world.Devices[i].EUI
			st, err := f.db.MigrationStatusOf(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			h, _ := f.db.MigrationHistory(context.Background(), d)
			if st.State != c.want {
				t.Fatalf("state %s, want %s; history %+v", st.State, c.want, h)
			}
			if last := h[len(h)-1]; c.cause != "" && last.Cause != c.cause {
				t.Errorf("last move's cause %q, want %q", last.Cause, c.cause)
			}
		})
	}
	f.checkInvariants(t)
}

// checkInvariants holds after any run, whatever the faults:
//   - the store's state agrees with what the device's cell holds;
//   - no mode 6 command reached a device whose cell did not hold TCoS,
//     and every command was signed with the key of its kind;
//   - each attempt (a move into sent) is exactly one mode 6 command sent;
//   - every move out of unknown was decided by a read-back.
func (f *fixture) checkInvariants(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	tcosEUI, ecosEUI := eui.EUI(f.world.PKI.TCoS.EUI), eui.EUI(f.world.PKI.ECoS.EUI)
	for _, d := range f.world.Devices {
		st, err := f.db.MigrationStatusOf(ctx, d.EUI)
		if err != nil {
			t.Fatal(err)
		}
		dev, _ := f.fleet.Device(d.EUI)
		cert, _ := dev.TransitionalCoS()
		holdsECoS := bytes.Equal(cert.Raw, f.world.PKI.ECoS.Cert)
		switch st.State {
		case store.MigrationECoS:
			if !holdsECoS {
				t.Errorf("%s: store says ecos, the device holds TCoS", d.EUI)
			}
		case store.MigrationTCoS, store.MigrationRetryWait, store.MigrationQueued:
			if holdsECoS {
				t.Errorf("%s: store says %s, the device holds ECoS", d.EUI, st.State)
			}
		case store.MigrationSent, store.MigrationUnknown:
			t.Errorf("%s: left in %s", d.EUI, st.State)
		}
		frames := f.gw.frames(d.EUI)
		mode6 := 0
		for _, fr := range frames {
			switch fr.code {
			case gbcs.CodeTransCoSByTransCoS:
				mode6++
				if fr.wrongCell || fr.signedBy != tcosEUI {
					t.Errorf("%s: mode 6 counter %d sent while the cell held another certificate, or signed by %s", d.EUI, fr.counter, fr.signedBy)
				}
			case gbcs.CodeProvideSecurityCredentials:
				if fr.signedBy != tcosEUI && fr.signedBy != ecosEUI {
					t.Errorf("%s: read-back signed by %s", d.EUI, fr.signedBy)
				}
			default:
				t.Errorf("%s: unexpected %s", d.EUI, fr.code)
			}
		}
		h, err := f.db.MigrationHistory(ctx, d.EUI)
		if err != nil {
			t.Fatal(err)
		}
		sends := 0
		for _, x := range h {
			if x.To == store.MigrationSent {
				sends++
			}
			if x.From == store.MigrationUnknown && !strings.HasPrefix(x.Cause, "read-back") {
				t.Errorf("%s: left unknown for %s without a read-back (%q)", d.EUI, x.To, x.Cause)
			}
		}
		// A command lost on the way never reached the gateway's device
		// either, but it went through the gateway: frames count sends.
		if sends != mode6 {
			t.Errorf("%s: %d attempts recorded, %d mode 6 commands sent", d.EUI, sends, mode6)
		}
	}
}
