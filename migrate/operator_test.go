package migrate

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// The store's refusals of a plan or a wave reach the operator as bad
// requests or not found (the API's 400 and 404), never as internal errors.
func TestOperatorRefusals(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "ecos.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &Operator{Store: db, Devices: db, Now: func() time.Time { return day }}
	_, err = o.Plan(ctx, store.WaveFilter{InstalledFrom: day, InstalledTo: day})
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedBadRequest {
		t.Errorf("plan with an empty install range: %v, want a bad-request refusal", err)
	}
	_, err = o.Plan(ctx, store.WaveFilter{Suppliers: []string{""}})
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedBadRequest {
		t.Errorf("plan with an empty supplier: %v, want a bad-request refusal", err)
	}
	_, err = o.Progress(ctx, 7)
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedNotFound {
		t.Errorf("progress of no wave: %v, want not found", err)
	}
	_, err = o.Act(ctx, 7, ActionPause, "")
	if rf, ok := errors.AsType[*Refusal](err); !ok || rf.Kind != RefusedNotFound {
		t.Errorf("pause of no wave: %v, want not found", err)
	}

	// A wave's actions: each from the states it names, refused otherwise
	// with a sentence naming the wave's state; a done wave is not resumed.
	id, err := db.CreateWave(ctx, store.Wave{Name: "w", Concurrency: 1, CreatedAt: day})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		action, want string
	}{
		{ActionResume, "wave 1 is running: only a paused wave can be resumed"},
		{ActionPause, ""},
		{ActionPause, "wave 1 is paused: only a running wave can be paused"},
		{ActionResume, ""},
		{"done", ""},
		{ActionResume, "wave 1 is done: only a paused wave can be resumed"},
		{ActionPause, "wave 1 is done: only a running wave can be paused"},
		{ActionCancel, "wave 1 is done: only a running or paused wave can be cancelled"},
		{"explode", `no wave action "explode" (pause, resume or cancel)`},
	} {
		if step.action == "done" {
			if _, err := db.SetWaveState(ctx, id, store.WaveDone, "finished", day); err != nil {
				t.Fatal(err)
			}
			continue
		}
		_, err := o.Act(ctx, id, step.action, "")
		rf, _ := errors.AsType[*Refusal](err)
		if step.want == "" && err != nil || step.want != "" && (rf == nil || rf.Kind != RefusedBadRequest || rf.Msg != step.want) {
			t.Errorf("%s: %v, want %q", step.action, err, step.want)
		}
	}
	if _, err := o.Act(ctx, 7, ActionPause, ""); err == nil || err.Error() != "there is no wave 7 (ecos migrate waves lists them)" {
		t.Errorf("pause of no wave: %v", err)
	}

	// A device named twice: the second is refused in a sentence for the
	// operator, without the store's prefixes.
	d := eui.EUI{0, 1, 2, 3, 4, 5, 6, 7}
	if err := db.ImportDevices(ctx, []store.Device{{EUI: d, Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range [][2]store.MigrationState{{store.MigrationTCoS, store.MigrationQueued}, {store.MigrationQueued, store.MigrationSent},
		{store.MigrationSent, store.MigrationException}} {
		if _, err := db.MoveDevice(ctx, store.Move{Device: d, From: m[0], To: m[1], At: day, Cause: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := o.ActOnDevices(ctx, ActionRetry, "fixed", []eui.EUI{d, d})
	if err != nil || len(res) != 2 || res[0].To != store.MigrationQueued || res[1].Err == "" || strings.Contains(res[1].Err, "store:") {
		t.Errorf("retry twice: %+v, %v", res, err)
	}
}
