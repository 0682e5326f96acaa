package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Off a terminal the import's progress is a plain line at each tenth of
// the file, with the count and the rate; on one, a bar redrawn in place at
// most ten times a second, ended with a newline.
func TestInventoryProgress(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	var out bytes.Buffer
	in := &countingReader{}
	p := newProgress(&out, "inv.csv", 1000, in, now)
	for i := 1; i <= 20; i++ {
		clock = clock.Add(time.Second)
		in.n = int64(i * 50)
		p.update(i * 100)
	}
	p.done()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 9 || lines[0] != "inv.csv: 10%, 200 lines, 100 lines/s" || lines[8] != "inv.csv: 90%, 1800 lines, 100 lines/s" {
		t.Fatalf("plain progress:\n%s", out.String())
	}

	out.Reset()
	clock = time.Unix(0, 0)
	in.n = 0
	p = newProgress(&out, "inv.csv", 1000, in, now)
	p.tty = true
	for i := 1; i <= 20; i++ {
		clock = clock.Add(50 * time.Millisecond)
		in.n = int64(i * 50)
		p.update(i * 100)
	}
	p.done()
	p.done()
	s := out.String()
	if n := strings.Count(s, "\r"); n != 11 {
		t.Errorf("%d redraws in 1 s of updates every 50 ms (and the last), want 11:\n%q", n, s)
	}
	if !strings.HasSuffix(s, "\rinv.csv [##############################] 100% 2000 lines 2000 lines/s \n") {
		t.Errorf("final bar: %q", s[strings.LastIndex(s, "\r"):])
	}
}

// ecos migrate history lists every move of a device, in order, with its
// time, attempt, counter and cause; status counts it in its new state.
func TestMigrateHistory(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ecos.db")
	csv := filepath.Join(dir, "devices.csv")
	if err := os.WriteFile(csv, []byte("device_eui,type,smi_status,credential\nEEC05EDE00000001,ESME,commissioned,tcos\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"db", "migrate", "--db", db}, {"import", "devices", "--db", db, csv}} {
		if code, _, errs := ecos(t, "", args...); code != 0 {
			t.Fatalf("ecos %v: %s", args, errs)
		}
	}
	s, err := store.Open(t.Context(), store.Config{DSN: db})
	if err != nil {
		t.Fatal(err)
	}
	dev := eui.MustParse("EE-C0-5E-DE-00-00-00-01")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, m := range []store.Move{
		{From: store.MigrationTCoS, To: store.MigrationQueued, Cause: "wave 1"},
		{From: store.MigrationQueued, To: store.MigrationSent, Cause: "CS02b mode 6", Counter: 4096},
		{From: store.MigrationSent, To: store.MigrationRetryWait, Cause: "resourcesBusy (30)", Counter: 4096},
	} {
		m.Device, m.At = dev, at.Add(time.Duration(i)*time.Minute)
		if _, err := s.MoveDevice(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	code, out, errs := ecos(t, "", "migrate", "history", "--db", db, "EEC05EDE00000001")
	if code != 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{
		"state:       retry-wait (attempt 1)",
		"1    2026-12-01T10:00:00Z  tcos    queued      0        -        wave 1",
		"2    2026-12-01T10:01:00Z  queued  sent        1        4096     CS02b mode 6",
		"3    2026-12-01T10:02:00Z  sent    retry-wait  1        4096     resourcesBusy (30)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = ecos(t, "", "migrate", "history", "--db", db, "--format", "json", "EEC05EDE00000001")
	if code != 0 || !strings.Contains(out, `"to": "retry-wait"`) || !strings.Contains(out, `"counter": 4096`) {
		t.Errorf("json history:\n%s", out)
	}
	code, out, _ = ecos(t, "", "migrate", "status", "--db", db, "--format", "json")
	if code != 0 || !strings.Contains(out, `"retry-wait": 1`) || !strings.Contains(out, `"tcos": 0`) {
		t.Errorf("status:\n%s", out)
	}
}
