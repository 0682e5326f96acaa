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

// Migration 0005 widens the requests state CHECK; on SQLite that rebuilds
// the table under commands and responses. A database filled by version 4
// must come out with every row as it was and every reference still
// enforced, and go back down the same way.
func TestMigration0005KeepsRequests(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "v4.db")
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(30000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		testMigration0005(t, store.Config{Driver: store.DriverSQLite, DSN: path}, raw)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := freshPostgres(t)
		raw, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		testMigration0005(t, cfg, raw)
	})
}

func testMigration0005(t *testing.T, cfg store.Config, raw *sql.DB) {
	ctx := t.Context()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	fillVersion4(t, db)
	before := dumpRequestTables(t, raw)
	indexesBefore := requestIndexes(t, db.Driver(), raw)

	if err := db.MigrateTo(ctx, 5); err != nil {
		t.Fatalf("migrate 4 -> 5: %v", err)
	}
	if d := cmp.Diff(before, dumpRequestTables(t, raw)); d != "" {
		t.Fatalf("rows changed by migration 0005 (-before +after):\n%s", d)
	}
	indexesAfter := requestIndexes(t, db.Driver(), raw)
	if _, ok := indexesAfter["requests_received"]; !ok {
		t.Errorf("no requests_received index after 0005: %v", indexesAfter)
	}
	delete(indexesAfter, "requests_received")
	if d := cmp.Diff(indexesBefore, indexesAfter); d != "" {
		t.Errorf("indexes on requests after 0005 (-before +after):\n%s", d)
	}
	checkReferences(t, db, raw)

	// The new state is accepted, and only it.
	if _, err := raw.ExecContext(ctx, `UPDATE requests SET state = 'quarantined' WHERE state = 'received'`); err != nil {
		t.Fatalf("quarantined refused: %v", err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE requests SET state = 'held' WHERE state = 'quarantined'`); err == nil {
		t.Fatal("a state outside the CHECK was accepted")
	}
	// A held request keeps the database from going back to a schema with
	// no word for it; once it is not held, down keeps every row too.
	if err := db.MigrateDownTo(ctx, 4); err == nil {
		t.Fatal("migrated down with a quarantined request")
	}
	if _, err := raw.ExecContext(ctx, `UPDATE requests SET state = 'received' WHERE state = 'quarantined'`); err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateDownTo(ctx, 4); err != nil {
		t.Fatalf("migrate 5 -> 4: %v", err)
	}
	if d := cmp.Diff(before, dumpRequestTables(t, raw)); d != "" {
		t.Fatalf("rows changed by migrating down (-before +after):\n%s", d)
	}
	if d := cmp.Diff(indexesBefore, requestIndexes(t, db.Driver(), raw)); d != "" {
		t.Errorf("indexes on requests after down (-want +got):\n%s", d)
	}
	checkReferences(t, db, raw)
}

// fillVersion4 writes, through the API as version 4 has it, requests in
// most states with the responses and commands that refer to them.
func fillVersion4(t *testing.T, db *store.DB) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	user := eui.EUI{0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x01}
	id := func(n uint64) store.RequestID {
		return store.RequestID{Originator: user, Target: eui.EUI{0x00, 0xB3, 0xD5, 0x1F, 0, 0, 0, byte(n)}, Counter: 1<<63 + n}
	}
	ack := func(code string) *store.Response {
		return &store.Response{Kind: store.ResponseAcknowledgement, Code: code, Document: []byte("<Ack " + code + "/>")}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for n, state := range []store.RequestState{store.RequestReceived, store.RequestAuthorised, store.RequestRejected} {
		must(db.RecordRequest(ctx, store.Received{
			ID: id(uint64(n + 1)), At: t0.Add(time.Duration(n) * time.Second), Document: []byte("<Request/>"),
			Party: "SUP1", ExecuteAt: t0.Add(48 * time.Hour), State: state, Reason: "r" + string(state),
			ResponseCode: "I0", Response: ack("I0"),
			MPID: &store.MPIDRecord{Outcome: "S", Presented: "MP01", Expected: "MP01", SignerSerial: "0a"},
		}))
	}
	for n := uint64(4); n <= 6; n++ {
		must(db.RecordRequest(ctx, store.Received{ID: id(n), At: t0, State: store.RequestAuthorised, Response: ack("I0")}))
		c, err := db.ReserveCounter(ctx, "cos")
		must(err)
		cmd, err := db.RecordIntent(ctx, store.Intent{RequestID: id(n), Device: id(n).Target, Counter: c, KeyID: "ecos", TBS: []byte{byte(n)}, CreatedAt: t0})
		must(err)
		must(db.MarkSigned(ctx, cmd, []byte("frame"), t0))
		if n >= 5 {
			must(db.MarkSent(ctx, cmd, t0))
		}
		if n == 6 {
			_, err := db.RecordResponse(ctx, id(n).Target, c, []byte("answer"), "ok", t0)
			must(err)
			_, err = db.AddResponse(ctx, store.Response{RequestID: id(n), Kind: store.ResponseService, Code: "I0", Document: []byte("<Response/>"), CreatedAt: t0})
			must(err)
		}
	}
	// The party's own command (migration) refers to no request.
	c, err := db.ReserveCounter(ctx, "tcos")
	must(err)
	_, err = db.RecordIntent(ctx, store.Intent{Device: id(9).Target, Counter: c, KeyID: "tcos", TBS: []byte{9}, CreatedAt: t0})
	must(err)
}

// dumpRequestTables renders every row of requests and of the two tables
// that refer to it.
func dumpRequestTables(t *testing.T, raw *sql.DB) map[string][]string {
	out := map[string][]string{}
	for table, order := range map[string]string{
		"requests":  "originator_eui, target_eui, counter",
		"commands":  "command_id",
		"responses": "response_id",
	} {
		rows, err := raw.QueryContext(t.Context(), "SELECT * FROM "+table+" ORDER BY "+order)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				fmt.Fprintf(&b, "%s=%#v ", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if len(out["requests"]) != 6 || len(out["commands"]) != 4 || len(out["responses"]) != 7 {
		t.Fatalf("dump: %d requests, %d commands, %d responses", len(out["requests"]), len(out["commands"]), len(out["responses"]))
	}
	return out
}

// requestIndexes maps each named index on requests to its definition.
func requestIndexes(t *testing.T, driver string, raw *sql.DB) map[string]string {
	q := `SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests'
		AND name NOT LIKE 'sqlite_autoindex_%'`
	if driver == store.DriverPostgres {
		q = `SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE tablename = 'requests' AND indexname <> 'requests_pkey'`
	}
	out := map[string]string{}
	for _, s := range queryStrings(t, raw, q) {
		name, def, _ := strings.Cut(s, ": ")
		out[name] = def
	}
	if len(out) < 2 {
		t.Fatalf("indexes on requests: %v", out)
	}
	return out
}

// checkReferences checks that commands and responses still refer to
// requests, and that the references are enforced.
func checkReferences(t *testing.T, db *store.DB, raw *sql.DB) {
	t.Helper()
	ctx := t.Context()
	if db.Driver() == store.DriverSQLite {
		if bad := queryStrings(t, raw, `SELECT "table" || ':' || parent FROM pragma_foreign_key_check`); len(bad) != 0 {
			t.Fatalf("foreign_key_check: %v", bad)
		}
		sqlText := queryStrings(t, raw, `SELECT sql FROM sqlite_master WHERE name = 'requests'`)
		if len(sqlText) != 1 || !strings.Contains(sqlText[0], "WITHOUT ROWID") {
			t.Fatalf("requests table: %v", sqlText)
		}
	}
	missing := store.RequestID{Originator: eui.EUI{0x90, 9}, Target: eui.EUI{0x00, 9}, Counter: 9}
	_, err := db.AddResponse(ctx, store.Response{RequestID: missing, Kind: store.ResponseAlert, Code: "I0", Document: []byte("x"), CreatedAt: time.Unix(1, 0)})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("response to a missing request: %v, want ErrNotFound", err)
	}
	_, err = db.RecordIntent(ctx, store.Intent{RequestID: missing, Device: missing.Target, Counter: 1 << 40, KeyID: "ecos", TBS: []byte{1}, CreatedAt: time.Unix(1, 0)})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("command for a missing request: %v, want ErrNotFound", err)
	}
}
