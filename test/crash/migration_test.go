package crash_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/store"
)

const (
	// migrationDevices leaves every kill devices to be killed among: the
	// read-back kill waits for a lost answer's read-back to be open, which
	// on 2 cores has taken up to 2 s, some 1,700 devices into its run.
	migrationDevices = 5000
	// migrationKills is len(killAt). A kill costs the devices in flight
	// one attempt at most, and each run migrates some hundreds before the
	// next kill, so no device meets more kills than the default five
	// attempts allow: every one must end ecos.
	migrationKills = 6
	// stageRetries bounds the kills added when one missed its stage: a
	// read-back is open for one round trip and a batch in intent only
	// while it is signed, so polling may see the stage a moment before the
	// kill lands, or a loaded machine may not see it within the run's
	// share of the wave.
	stageRetries = 3
	// migrationDrop is the fraction of responses devicesim loses (the
	// meters carry the commands out): mode 6 answers and read-backs alike,
	// so devices go unknown and are read back between the kills too.
	migrationDrop        = 0.03
	migrationConcurrency = 64
	// migrationSettle bounds each wait: a run reaching its kill point, the
	// last run finishing the wave.
	migrationSettle = 3 * time.Minute
)

// TestMigrationKill9MidWave is the migration's crash-safety test. A wave
// over a few thousand demo meters is started with `ecos migrate run
// --execute`; the server is killed with SIGKILL while devices are in
// flight (some already ecos, some sent), restarted, found to have paused
// the wave as interrupted with no device left in sent, and resumed with
// `ecos migrate resume`, again and again. After the last resume the wave
// must finish with every device ecos in the store and on the meter; every
// attempt (a move into sent) is one mode 6 command with its own counter;
// no counter is used twice in either command log; every unknown device
// was resolved by a read-back; and what devicesim received agrees with
// what the store says was sent, with no frame twice and none refused.
func TestMigrationKill9MidWave(t *testing.T) { eachBackend(t, migrationKill9) }

// killAt is, kill by kill, the stage the server is killed at: the
// party's own commands of a kind open in a state. A mode 6 command in
// intent never left (recovery makes its device retry); one marked sent
// may have reached the meter (its device goes unknown, to be read back);
// an open read-back is abandoned. The read-back kill follows a kill with
// mode 6 commands sent, whose devices the next run reads back first.
//
// The last kills come a seeded random moment up to jitter after the
// stage is seen, wherever the batch then is: a command handed to the
// gateway before it is marked sent would be caught there (recovery would
// retry a meter that already carried it out, which refuses the TCoS key).
type killStage struct {
	kind, state string
	jitter      time.Duration
}

var killAt = []killStage{
	{"migrate", "sent", 0}, {"readback", "sent", 0}, {"migrate", "intent", 0}, {"migrate", "sent", 0},
	{"migrate", "intent", 40 * time.Millisecond}, {"migrate", "intent", 40 * time.Millisecond},
}

// killPoint is what one kill interrupted, read from the store after it.
type killPoint struct {
	stage   string         // the commands that were to be open: "kind/state"
	jitter  time.Duration  // the most the kill came after them
	after   time.Duration  // from the start of that run
	ecos    int            // devices ecos at the kill
	sent    int            // devices in sent: commands in flight
	open    map[string]int // the party's open commands, by "kind/state"
	byState map[string]int // every device by migration state
}

func migrationKill9(t *testing.T, bin string, database store.Config) {
	ctx := t.Context()
	began := time.Now()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "demo")
	cfgPath, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: migrationDevices, Database: database, PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	dbCfg := demoStore(dir, database)
	world, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sim := start(t, filepath.Join(tmp, "devicesim.log"), bin, devicesimReady,
		"devicesim", "--listen", "127.0.0.1:0", "--pki", filepath.Join(dir, demoworld.PKIDir), "--devices", fmt.Sprint(migrationDevices),
		"--drop-responses", fmt.Sprint(migrationDrop), "--fault-seed", "12")
	t.Cleanup(func() { sim.stop(t) })
	simURL := "http://" + waitReady(t, sim).listen
	rewriteConfig(t, cfgPath, simURL)
	tokenFile := filepath.Join(dir, demoworld.OperatorTokenFile)
	// Retries and read-backs of unanswered devices come round in
	// milliseconds, not the production minutes.
	editConfig(t, cfgPath, func(cfg map[string]any) {
		cfg["migration"] = map[string]any{"retry_base": "50ms", "retry_max": "500ms"}
	})

	raw := openRaw(t, dbCfg)
	defer raw.Close()
	var (
		wave  int64
		kills []killPoint
		// A run migrates at least step devices before its kill, and at most
		// twice that while waiting for its stage: every run, retries too,
		// then leaves the wave unfinished for the next.
		step  = migrationDevices / (3 * (migrationKills + stageRetries + 1))
		plan  = append([]killStage(nil), killAt...)
		retry = 0
		rng   = rand.New(rand.NewPCG(12, 6))
	)
	for k := 0; k < len(plan); k++ {
		srv := start(t, filepath.Join(tmp, fmt.Sprintf("serve-%d.log", k)), bin, serveReady, "serve", "--config", cfgPath)
		r := waitReady(t, srv)
		opURL := "http://" + r.operator
		if k == 0 {
			wave = startWave(t, bin, opURL, tokenFile)
		} else {
			checkInterrupted(t, raw, operatorClient(t, r, dir), wave)
			migrateCLI(t, bin, "resume", fmt.Sprint(wave), "--operator", opURL, "--operator-token-file", tokenFile, "--note", "crash test: after kill")
		}
		base := migrationStates(t, raw)[string(store.MigrationECoS)]
		runStart := time.Now()
		// Kill while the wave is at work, with commands open at the stage
		// this kill is for.
		at := plan[k]
		pollUntil(t, migrationSettle, srv, func() (bool, error) {
			st := migrationStates(t, raw)
			if st[string(store.MigrationECoS)] == migrationDevices {
				return false, fmt.Errorf("the wave finished before kill %d: too few devices to kill it mid-wave", k)
			}
			// A read-back is caught best at once: the devices the last
			// kill left in sent are read back as the wave resumes.
			ecos, least := st[string(store.MigrationECoS)], base+step
			if at.kind == "readback" {
				least = base
			}
			open := openOwnCommands(t, raw)[at.kind+"/"+at.state] > 0
			return ecos >= least && open || ecos >= base+2*step, nil
		})
		if at.jitter > 0 {
			// sleep-ok: chooses when to kill; nothing is waited for
			time.Sleep(time.Duration(rng.Int64N(int64(at.jitter))))
		}
		if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatalf("kill %d: %v", k, err)
		}
		<-srv.exited
		kp := killPoint{stage: at.kind + "/" + at.state, jitter: at.jitter, after: time.Since(runStart), byState: migrationStates(t, raw), open: openOwnCommands(t, raw)}
		kp.ecos, kp.sent = kp.byState[string(store.MigrationECoS)], kp.byState[string(store.MigrationSent)]
		kills = append(kills, kp)
		if kp.open[kp.stage] == 0 && kp.stage != "migrate/intent" && retry < stageRetries {
			retry++
			plan = slices.Insert(plan, k+1, at) // the kill missed its stage: again
		}
		t.Logf("kill %d (%s) after %v: %d ecos, %d devices in sent; open commands %v; devices %v",
			k, kp.stage, kp.after.Round(time.Millisecond), kp.ecos, kp.sent, kp.open, kp.byState)
	}

	// The last run: recovery, resume, and the wave must finish.
	srv := start(t, filepath.Join(tmp, "serve-final.log"), bin, serveReady, "serve", "--config", cfgPath)
	r := waitReady(t, srv)
	operator := operatorClient(t, r, dir)
	checkInterrupted(t, raw, operator, wave)
	finalStart := time.Now()
	migrateCLI(t, bin, "resume", fmt.Sprint(wave), "--operator", "http://"+r.operator, "--operator-token-file", tokenFile, "--note", "crash test: last run")
	var done api.WaveView
	pollUntil(t, migrationSettle, srv, func() (bool, error) {
		v, err := operator.Wave(ctx, wave)
		if err != nil {
			return false, err
		}
		done = v
		switch v.State {
		case string(store.WaveDone):
			return true, nil
		case string(store.WaveRunning):
			return false, nil
		}
		return false, fmt.Errorf("wave %d is %s (%s) after the last resume", wave, v.State, v.Reason)
	})
	t.Logf("last run: wave %s (%s) %v after the resume; devices %v", done.State, done.Reason, time.Since(finalStart).Round(time.Millisecond), done.Devices)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(15 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.exited
		t.Fatalf("the server did not stop within 15s of SIGTERM\n%s", srv.tail())
	}

	inFlight := 0
	hit := map[string]bool{}
	for _, kp := range kills {
		hit[kp.stage] = hit[kp.stage] || kp.open[kp.stage] > 0
	}
	for _, kp := range kills {
		inFlight += kp.sent
		switch {
		case kp.jitter != 0 || kp.open[kp.stage] > 0:
		case hit[kp.stage]:
			t.Logf("kill after %v found no %s command open; another kill caught one", kp.after, kp.stage)
		case kp.stage == "migrate/intent", kp.stage == "readback/sent":
			// A batch is in intent only while it is signed, and a
			// read-back is open only for its round trip: on a loaded
			// machine every kill may land after them. migrate's
			// TestRecoverSettlesWhatACrashLeft recovers both for sure.
			t.Logf("kill after %v found no %s command open (it was already settled)", kp.after, kp.stage)
		default:
			t.Errorf("kill after %v found no %s command open: it tested no recovery of that stage", kp.after, kp.stage)
		}
	}
	checkMigration(t, raw, world, simURL)
	t.Logf("%d devices, %d kills, %d devices in sent at a kill in all, %v in all", migrationDevices, len(kills), inFlight, time.Since(began).Round(time.Millisecond))
}

// startWave starts a wave over every device with `ecos migrate run
// --execute --detach` and returns its number.
func startWave(t *testing.T, bin, opURL, tokenFile string) int64 {
	t.Helper()
	out := migrateCLI(t, bin, "run", "--execute", "--detach", "--format", "json", "--name", "crash test",
		"--concurrency", fmt.Sprint(migrationConcurrency), "--operator", opURL, "--operator-token-file", tokenFile)
	var v api.WaveView
	if err := json.Unmarshal(out, &v); err != nil || v.ID == 0 {
		t.Fatalf("ecos migrate run printed %q: %v", out, err)
	}
	return v.ID
}

// migrateCLI runs `ecos migrate ARGS` and returns its standard output.
func migrateCLI(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"migrate"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ecos migrate %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// checkInterrupted: after a kill, the restarted server's recovery has
// paused the wave as interrupted and settled every open command, so no
// device is left in sent.
func checkInterrupted(t *testing.T, raw *sql.DB, operator *api.Client, wave int64) {
	t.Helper()
	v, err := operator.Wave(t.Context(), wave)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != string(store.WavePaused) || !strings.HasPrefix(v.Reason, "interrupted") {
		t.Fatalf("after a kill the wave is %s (%q), want paused as interrupted", v.State, v.Reason)
	}
	if n := migrationStates(t, raw)[string(store.MigrationSent)]; n != 0 {
		t.Fatalf("after recovery %d devices are still in sent", n)
	}
	if open := openOwnCommands(t, raw); len(open) != 0 {
		t.Fatalf("after recovery the party's own commands are still open: %v", open)
	}
}

// pollUntil calls cond every few milliseconds until it is true, fails
// the test when it errs or when within has passed.
func pollUntil(t *testing.T, within time.Duration, srv *proc, cond func() (bool, error)) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%v\n%s", err, srv.tail())
		}
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-srv.exited:
			t.Fatalf("the server exited: %v\n%s", srv.err, srv.tail())
		case <-deadline.C:
			t.Fatalf("not reached within %v\n%s", within, srv.tail())
		}
	}
}
