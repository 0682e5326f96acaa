package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Migration 0006 adds the one-live-command-per-request index. A database
// filled by version 5 must come out with every row as it was, but an
// unsigned intent a newer command already replaced, which is marked
// failed; one where a request was already signed twice is refused whole.
func TestMigration0006SignOnce(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(t *testing.T) (store.Config, *sql.DB)
	}{
		{"sqlite", func(t *testing.T) (store.Config, *sql.DB) {
			path := filepath.Join(t.TempDir(), "v5.db")
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(30000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return store.Config{Driver: store.DriverSQLite, DSN: path}, raw
		}},
		{"postgres", func(t *testing.T) (store.Config, *sql.DB) {
			cfg := freshPostgres(t)
			raw, err := sql.Open("pgx", cfg.DSN)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return cfg, raw
		}},
	} {
		t.Run(backend.name+"/existing-rows", func(t *testing.T) {
			cfg, raw := backend.open(t)
			testMigration0006(t, cfg, raw)
		})
		t.Run(backend.name+"/signed-twice", func(t *testing.T) {
			cfg, raw := backend.open(t)
			testMigration0006SignedTwice(t, cfg, raw)
		})
	}
}

func openAt5(t *testing.T, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateTo(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
	return db
}

// v5Request records an authorised request for device n.
func v5Request(t *testing.T, db *store.DB, n byte) store.RequestID {
	t.Helper()
	id := store.RequestID{Originator: eui.EUI{0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x01}, Target: eui.EUI{0x00, 0xB3, 0xD5, 0x1F, 0, 0, 1, n}, Counter: uint64(n)}
	if err := db.RecordRequest(t.Context(), store.Received{ID: id, At: time.Unix(1, 0), State: store.RequestAuthorised,
		Response: &store.Response{Kind: store.ResponseAcknowledgement, Code: "I99", Document: []byte("<Ack/>")}}); err != nil {
		t.Fatal(err)
	}
	return id
}

// v5Intent records an intent for req with the next counter, as version 5
// allows whatever else the request has.
func v5Intent(t *testing.T, db *store.DB, req store.RequestID) (store.CommandID, store.Intent) {
	t.Helper()
	c, err := db.ReserveCounter(t.Context(), "cos")
	if err != nil {
		t.Fatal(err)
	}
	in := store.Intent{RequestID: req, Device: req.Target, Counter: c, KeyID: "ecos", TBS: []byte{byte(c)}, CreatedAt: time.Unix(2, 0)}
	id, err := db.RecordIntent(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return id, in
}

func testMigration0006(t *testing.T, cfg store.Config, raw *sql.DB) {
	ctx := t.Context()
	db := openAt5(t, cfg)
	fillVersion4(t, db) // a command in each state, and the party's own
	at := time.Unix(3, 0)
	// A crash between two steps of an older recovery: an intent left as
	// it was while a newer command took over its request.
	stale := v5Request(t, db, 7)
	staleID, _ := v5Intent(t, db, stale)
	newer, _ := v5Intent(t, db, stale)
	if err := db.MarkSigned(ctx, newer, []byte("frame"), at); err != nil {
		t.Fatal(err)
	}
	// What recovery leaves today: an intent abandoned, then a new one.
	retried := v5Request(t, db, 8)
	abandoned, _ := v5Intent(t, db, retried)
	if err := db.MarkFailed(ctx, abandoned, "never sent", at); err != nil {
		t.Fatal(err)
	}
	v5Intent(t, db, retried)
	before := dumpCommands(t, raw)

	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate 5 -> 6: %v", err)
	}
	after := dumpCommands(t, raw)
	want := map[string]string{}
	for id, row := range before {
		want[id] = row
	}
	key := fmt.Sprint(staleID)
	want[key] = strings.Replace(want[key], "state=intent", "state=failed", 1)
	want[key] = strings.Replace(want[key], `outcome=""`, `outcome="abandoned unsigned: a later command serves its request (migration 0006)"`, 1)
	if d := cmp.Diff(want, after); d != "" {
		t.Fatalf("commands after migration 0006 (-want +got):\n%s", d)
	}

	// Every request with a live command refuses a second; the party's own
	// commands stay free.
	cmds, err := db.PendingUnsent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, c := range cmds {
		if c.RequestID.IsZero() {
			continue
		}
		live++
		_, err := db.RecordIntent(ctx, store.Intent{RequestID: c.RequestID, Device: c.Device, Counter: c.Counter + 1000, KeyID: "ecos", TBS: []byte{1}, CreatedAt: at})
		if !errors.Is(err, store.ErrLiveCommand) {
			t.Errorf("second command for %s (first %s): %v, want ErrLiveCommand", c.RequestID, c.State, err)
		}
	}
	if live < 3 {
		t.Fatalf("only %d unsent commands for requests after the migration", live)
	}
	if _, err := db.RecordIntent(ctx, store.Intent{Device: eui.EUI{0x00, 9}, Counter: 1 << 41, KeyID: "tcos", TBS: []byte{1}, CreatedAt: at}); err != nil {
		t.Errorf("own command after 0006: %v", err)
	}

	// Down drops the index and nothing else.
	if err := db.MigrateDownTo(ctx, 5); err != nil {
		t.Fatalf("migrate 6 -> 5: %v", err)
	}
	if _, err := db.RecordIntent(ctx, store.Intent{RequestID: stale, Device: stale.Target, Counter: 1 << 42, KeyID: "ecos", TBS: []byte{1}, CreatedAt: at}); err != nil {
		t.Errorf("version 5 refused a second command: %v", err)
	}
}

// A request signed twice under version 5 is a double signing to look into:
// the migration stops, changes nothing, and the schema stays at 5.
func testMigration0006SignedTwice(t *testing.T, cfg store.Config, raw *sql.DB) {
	ctx := t.Context()
	db := openAt5(t, cfg)
	req := v5Request(t, db, 1)
	other := v5Request(t, db, 2)
	old, _ := v5Intent(t, db, other) // replaced by the next: the migration's UPDATE would fail it
	v5Intent(t, db, other)
	for range 2 {
		id, _ := v5Intent(t, db, req)
		if err := db.MarkSigned(ctx, id, []byte("frame"), time.Unix(3, 0)); err != nil {
			t.Fatal(err)
		}
	}
	before := dumpCommands(t, raw)
	if err := db.Migrate(ctx); err == nil {
		t.Fatal("migrated a database where one request has two signed commands")
	}
	if cur, _, err := db.SchemaVersion(ctx); err != nil || cur != 5 {
		t.Fatalf("schema version %d after the refused migration (%v), want 5", cur, err)
	}
	if d := cmp.Diff(before, dumpCommands(t, raw)); d != "" {
		t.Fatalf("the refused migration changed commands (-before +after):\n%s", d)
	}
	if c, err := db.Command(ctx, old); err != nil || c.State != store.CommandIntent {
		t.Fatalf("intent %d after the refused migration: %+v %v", old, c, err)
	}
}

// dumpCommands renders every row of commands by command_id.
func dumpCommands(t *testing.T, raw *sql.DB) map[string]string {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), `SELECT command_id, state, outcome, req_counter, counter, frame, signed_at_us, sent_at_us,
		responded_at_us, updated_at_us FROM commands ORDER BY command_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id int64
		var state, outcome string
		var reqCounter, frame []byte
		var counter int64
		var signed, sent, responded sql.NullInt64
		var updated int64
		if err := rows.Scan(&id, &state, &outcome, &reqCounter, &counter, &frame, &signed, &sent, &responded, &updated); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(id)] = fmt.Sprintf("state=%s outcome=%q req=%x counter=%d frame=%q signed=%v sent=%v responded=%v updated=%d",
			state, outcome, reqCounter, counter, frame, signed, sent, responded, updated)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
