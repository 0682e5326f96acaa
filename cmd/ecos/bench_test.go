package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// TestBenchCoSJSON runs `ecos bench cos --n 200 --format json`, on SQLite and on
// PostgreSQL, and checks the object carries the figures the issue asks
// for, with no failures. Throughput is not asserted: it depends on the
// machine.
func TestBenchCoSJSON(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			db := "sqlite"
			if store == "postgres" {
				db = testkit.PostgresServer(t)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"bench", "cos", "--n", "200", "--devices", "100", "--concurrency", "16", "--format", "json", "--db", db},
				stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, k := range []string{"requests_per_sec", "p50_ms", "p99_ms", "crypto_floor_per_sec", "ratio", "store",
				"n", "concurrency", "gomaxprocs", "failures", "signs_per_request", "verifies_per_request"} {
				if _, ok := got[k]; !ok {
					t.Errorf("no %q in\n%s", k, out.String())
				}
			}
			if got["failures"] != 0.0 || got["store"] != store || got["n"] != 200.0 {
				t.Errorf("failures %v, store %v, n %v", got["failures"], got["store"], got["n"])
			}
			for _, k := range []string{"requests_per_sec", "crypto_floor_per_sec", "ratio", "p50_ms"} {
				if v, _ := got[k].(float64); v <= 0 {
					t.Errorf("%s = %v", k, got[k])
				}
			}
		})
	}
}

func TestBenchCoSUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--db", "mysql://localhost/ecos"},
		{"--n", "0"},
		{"--concurrency", "20", "--devices", "10"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"bench", "cos"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb}); code != exitMalformed {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitMalformed, errb.String())
		}
	}
}

// TestBenchMigrateJSON runs `ecos bench migrate --devices 300 --format
// json` on both stores: every meter migrated, and the figures the issue
// names present and sane.
func TestBenchMigrateJSON(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			db := "sqlite"
			if store == "postgres" {
				db = testkit.PostgresServer(t)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"bench", "migrate", "--devices", "300", "--concurrency", "64", "--format", "json", "--db", db},
				stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if got["store"] != store || got["devices"] != 300.0 || got["migrated"] != 300.0 || got["not_migrated"] != 0.0 {
				t.Errorf("store %v devices %v migrated %v not migrated %v", got["store"], got["devices"], got["migrated"], got["not_migrated"])
			}
			for _, k := range []string{"devices_per_sec", "p99_ms", "peak_rss_mb", "party_heap_mb", "crypto_floor_per_sec", "ratio"} {
				if v, _ := got[k].(float64); v <= 0 {
					t.Errorf("%s = %v in\n%s", k, got[k], out.String())
				}
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"bench", "migrate", "--devices", "0"}, stdio{in: strings.NewReader(""), out: &out, err: &errb}); code != exitMalformed {
		t.Errorf("--devices 0: exit %d", code)
	}
}

// TestBenchCoSNoServer: a PostgreSQL server that is not there is one
// sentence naming it, not a crash in the benchmark's cleanup.
func TestBenchCoSNoServer(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "cos", "--n", "1", "--devices", "1", "--concurrency", "1", "--db", "postgres://ecos@127.0.0.1:1/postgres?connect_timeout=5"},
		stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 1 || !strings.Contains(errb.String(), "127.0.0.1:1") {
		t.Errorf("exit %d\n%s", code, errb.String())
	}
}

// TestBenchMPIDJSON: ecos bench mpid generates each month and times its
// report, whose headline counts every generated request.
func TestBenchMPIDJSON(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			db := "sqlite"
			if store == "postgres" {
				db = testkit.PostgresServer(t)
			}
			code, out, errs := ecos(t, "", "bench", "mpid", "--sizes", "600,3000", "--format", "json", "--db", db)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			var got []map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if len(got) != 2 {
				t.Fatalf("%d results, want 2:\n%s", len(got), out)
			}
			for i, want := range []float64{600, 3000} {
				r := got[i]
				if r["store"] != store || r["requests"] != want || r["total"] != want {
					t.Errorf("result %d: %v", i, r)
				}
				for _, k := range []string{"report_seconds", "detail_rows", "alloc_mb", "generate_seconds"} {
					if v, _ := r[k].(float64); v <= 0 {
						t.Errorf("result %d: %s = %v", i, k, r[k])
					}
				}
			}
		})
	}
	if code, _, errs := ecos(t, "", "bench", "mpid", "--sizes", "0"); code != exitMalformed || !strings.Contains(errs, "--sizes") {
		t.Errorf("--sizes 0: exit %d: %s", code, errs)
	}
}
