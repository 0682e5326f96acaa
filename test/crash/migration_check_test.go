package crash_test

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// checkMigration opens the stopped server's database and the simulator
// and checks the migration's promises after the kills.
func checkMigration(t *testing.T, raw *sql.DB, world *demoworld.World, simURL string) {
	t.Helper()
	ecosCert, err := smki.Parse(world.PKI.ECoS.Cert)
	if err != nil {
		t.Fatal(err)
	}
	ecosSKI := hex.EncodeToString(ecosCert.SubjectKeyID)

	// Every device is ecos in the store, credential and state alike.
	states := migrationStates(t, raw)
	if states[string(store.MigrationECoS)] != migrationDevices {
		t.Errorf("devices by state %v, want all %d ecos", states, migrationDevices)
	}
	var credECoS int
	if err := raw.QueryRowContext(t.Context(), `SELECT count(*) FROM devices WHERE cos_credential = 'ecos'`).Scan(&credECoS); err != nil {
		t.Fatal(err)
	}
	if credECoS != migrationDevices {
		t.Errorf("%d devices have the ECoS credential, want %d", credECoS, migrationDevices)
	}

	// And on the meter: the transitionalCoS cell holds the ECoS certificate.
	checkCells(t, simURL, ecosSKI)

	own := readOwnCommands(t, raw)
	history := readHistory(t, raw)

	// Every attempt is one mode 6 command, signed with the TCoS key, with
	// a counter no other attempt has; every command is an attempt.
	type key struct {
		d eui.EUI
		c uint64
	}
	ownBy := map[key]ownCommand{}
	for _, c := range own {
		ownBy[key{c.device, c.counter}] = c
		switch {
		case c.state != string(store.OwnAnswered) && c.state != string(store.OwnFailed):
			t.Errorf("%s command %s/%d left %s", c.kind, c.device, c.counter, c.state)
		case c.kind == string(store.OwnMigrate) && c.keyID != "tcos":
			t.Errorf("mode 6 command %s/%d signed with the %s key", c.device, c.counter, c.keyID)
		case c.kind == string(store.OwnReadBack) && c.keyID != "tcos" && c.keyID != "ecos":
			t.Errorf("read-back %s/%d signed with the %s key", c.device, c.counter, c.keyID)
		}
	}
	attempts, readBackMoves, killUnknowns, dropUnknowns := 0, 0, 0, 0
	attemptCounters := map[key]bool{}
	for _, h := range history {
		if h.to == string(store.MigrationSent) {
			attempts++
			k := key{h.device, h.counter}
			if h.counter == 0 {
				t.Errorf("%s: move into sent (seq %d) without a counter", h.device, h.seq)
			} else if attemptCounters[k] {
				t.Errorf("%s: two moves into sent with counter %d", h.device, h.counter)
			}
			attemptCounters[k] = true
			if c, ok := ownBy[k]; !ok || c.kind != string(store.OwnMigrate) {
				t.Errorf("%s: attempt with counter %d has no mode 6 command in migration_commands (%+v)", h.device, h.counter, c)
			}
		}
		if h.from == string(store.MigrationUnknown) {
			readBackMoves++
			if !strings.HasPrefix(h.cause, "read-back") {
				t.Errorf("%s: left unknown for %s without a read-back (%q)", h.device, h.to, h.cause)
			}
		}
		if h.to == string(store.MigrationUnknown) {
			if strings.Contains(h.cause, "interrupted") {
				killUnknowns++
			} else {
				dropUnknowns++
			}
		}
	}
	counts := map[string]int{}
	for _, c := range own {
		counts[c.kind+"/"+c.state]++
	}
	if n := counts["migrate/answered"] + counts["migrate/failed"]; n != attempts {
		t.Errorf("%d mode 6 commands recorded, %d attempts in the devices' histories", n, attempts)
	}
	t.Logf("party's own commands %v; %d attempts; unknown %d times after a kill and %d after a lost answer; %d moves out of unknown, each by a read-back",
		counts, attempts, killUnknowns, dropUnknowns, readBackMoves)
	if dropUnknowns == 0 || readBackMoves == 0 {
		t.Errorf("no lost answer was read back (%d unknown after a lost answer, %d read-back moves): devicesim dropped nothing?", dropUnknowns, readBackMoves)
	}

	// No counter is used twice across both command logs (one namespace),
	// and the counter row is ahead of all of them.
	var cos uint64
	if err := raw.QueryRowContext(t.Context(), `SELECT value FROM counters WHERE name = 'cos'`).Scan(&cos); err != nil {
		t.Fatalf("reading the cos counter: %v", err)
	}
	used := map[uint64]string{}
	for _, c := range readCommands(t, raw) {
		used[c.counter] = "6.23 command " + c.device.String()
	}
	for _, c := range own {
		if prev, dup := used[c.counter]; dup {
			t.Errorf("counter %d used by %s and by %s %s", c.counter, prev, c.kind, c.device)
		}
		used[c.counter] = c.kind + " " + c.device.String()
		if c.counter > cos {
			t.Errorf("%s %s has counter %d, beyond the cos counter %d", c.kind, c.device, c.counter, cos)
		}
	}

	// devicesim agrees: nothing reached a meter twice, no meter refused a
	// mode 6 command (a wrong key or a replayed counter), and the frames
	// of each kind are those marked sent, less at most the ones a kill
	// cut off between marking and posting.
	var st devicesim.Stats
	getJSON(t, simURL+"/v1/stats", &st)
	t.Logf("devicesim: %d frames, %d duplicates, by code %+v", st.Frames, st.DuplicateFrames, st.ByCode)
	if st.DuplicateFrames != 0 {
		t.Errorf("devicesim received %d duplicate frames: a command was sent twice", st.DuplicateFrames)
	}
	for _, kind := range []struct {
		kind string
		code gbcs.MessageCode
		// refusals a meter may give: a read-back signed with the key
		// the cell no longer (or does not yet) hold.
		mayRefuse string
	}{{string(store.OwnMigrate), gbcs.CodeTransCoSByTransCoS, ""}, {string(store.OwnReadBack), gbcs.CodeProvideSecurityCredentials, "bad-signature"}} {
		got := st.ByCode[kind.code.String()]
		for reason, n := range got.Refused {
			if reason != kind.mayRefuse {
				t.Errorf("meters refused %d %s commands for %s", n, kind.kind, reason)
			}
		}
		sent, answered, cut := 0, 0, 0
		for _, c := range own {
			if c.kind != kind.kind || !c.sent {
				continue
			}
			sent++
			if c.state == string(store.OwnAnswered) {
				answered++
			}
			if strings.HasPrefix(c.outcome, "interrupted") {
				cut++
			}
		}
		if got.Frames > sent || got.Frames < sent-cut || got.Frames < answered {
			t.Errorf("%s: devicesim received %d frames; the store has %d marked sent (%d of them cut off by a kill), %d answered",
				kind.kind, got.Frames, sent, cut, answered)
		}
	}
	// A meter carries out the first mode 6 it receives (no fault here
	// makes it refuse or put one off), after which its cell no longer
	// trusts another: each must have received exactly one.
	if n := st.ByCode[gbcs.CodeTransCoSByTransCoS.String()].Frames; n != migrationDevices {
		t.Errorf("devicesim received %d mode 6 commands for %d meters, want one each", n, migrationDevices)
	}
	if st.ByCode[gbcs.CodeTransCoSByTransCoS.String()].Dropped == 0 {
		t.Error("devicesim dropped no mode 6 response: the test exercised no lost answer")
	}
}

// checkCells asks devicesim what every meter's transitionalCoS
// digital-signing cell holds.
func checkCells(t *testing.T, simURL, wantSKI string) {
	t.Helper()
	var mu sync.Mutex
	var wrong []string
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for n := range next {
				d := demoworld.Device(n)
				var st devicesim.DeviceState
				holds := ""
				if err := fetchJSON(simURL+"/v1/devices/"+d.String(), &st); err != nil {
					holds = err.Error()
				}
				for _, a := range st.Anchors {
					if a.Role == "transitionalCoS" && a.KeyUsage == "digitalSignature" {
						holds = a.SKI
					}
				}
				if holds != wantSKI {
					mu.Lock()
					wrong = append(wrong, d.String()+": "+holds)
					mu.Unlock()
				}
			}
		})
	}
	for n := 1; n <= migrationDevices; n++ {
		next <- n
	}
	close(next)
	wg.Wait()
	if len(wrong) > 0 {
		t.Errorf("%d meters' transitionalCoS cells do not hold the ECoS certificate (SKI %s), e.g. %s", len(wrong), wantSKI, wrong[0])
	}
}

// fetchJSON is getJSON for a goroutine other than the test's.
func fetchJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// migrationStates counts devices by migration state.
func migrationStates(t *testing.T, raw *sql.DB) map[string]int {
	t.Helper()
	return countBy(t, raw, `SELECT migration_state, count(*) FROM devices GROUP BY migration_state`)
}

// openOwnCommands counts the party's unsettled commands by "kind/state".
func openOwnCommands(t *testing.T, raw *sql.DB) map[string]int {
	t.Helper()
	return countBy(t, raw, `SELECT kind || '/' || state, count(*) FROM migration_commands WHERE state IN ('intent', 'sent') GROUP BY kind, state`)
}

func countBy(t *testing.T, raw *sql.DB, query string) map[string]int {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		m[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

type ownCommand struct {
	device                      eui.EUI
	counter                     uint64
	kind, keyID, state, outcome string
	sent                        bool
}

func readOwnCommands(t *testing.T, raw *sql.DB) []ownCommand {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), `SELECT device_eui, counter, kind, key_id, state, outcome, sent_at_us IS NOT NULL FROM migration_commands`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []ownCommand
	for rows.Next() {
		var c ownCommand
		var dev []byte
		var counter int64
		if err := rows.Scan(&dev, &counter, &c.kind, &c.keyID, &c.state, &c.outcome, &c.sent); err != nil {
			t.Fatal(err)
		}
		c.device, c.counter = toEUI(t, dev), uint64(counter)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type move struct {
	device          eui.EUI
	seq             int64
	from, to, cause string
	counter         uint64
}

func readHistory(t *testing.T, raw *sql.DB) []move {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), `SELECT device_eui, seq, from_state, to_state, cause, counter FROM migration_history ORDER BY device_eui, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []move
	for rows.Next() {
		var m move
		var dev []byte
		var counter sql.NullInt64
		if err := rows.Scan(&dev, &m.seq, &m.from, &m.to, &m.cause, &counter); err != nil {
			t.Fatal(err)
		}
		m.device, m.counter = toEUI(t, dev), uint64(counter.Int64)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func toEUI(t *testing.T, b []byte) eui.EUI {
	t.Helper()
	var d eui.EUI
	if len(b) != len(d) {
		t.Fatalf("device EUI of %d bytes", len(b))
	}
	copy(d[:], b)
	return d
}

// editConfig changes the JSON configuration at path with edit.
func editConfig(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
