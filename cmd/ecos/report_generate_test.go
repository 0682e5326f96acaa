package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/store"
)

// ecos report generate at a small scale: the month it says it made is the
// one recorded, progress goes to stderr, and a second run into the same
// month is refused with a sentence unless --append.
func TestReportGenerate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ecos.db")
	if code, _, errs := ecos(t, "", "db", "migrate", "--db", db); code != 0 {
		t.Fatal(errs)
	}
	args := []string{"report", "generate", "--db", db, "--month", "2022-10", "--requests", "5000", "--parties", "6",
		"--mpids", "9", "--silent-parties", "3", "--incorrect", "0.03", "--missing", "0.01", "--seed", "4"}
	code, out, errs := ecos(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"month 2022-10: 5000 6.23 requests from 6 parties over 9 MPIDs, 2022-10-",
		"outcomes: 4800 correct (S, 96.00%), 150 incorrect (I, 3.00%), 50 missing MPID (M, 1.00%)",
		"reference data: 9 parties (3 sending no 6.23), ",
		"requests/s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "requests: 5000 of 5000 (100%)") {
		t.Errorf("progress:\n%s", errs)
	}
	s, err := store.Open(t.Context(), store.Config{DSN: db})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := s.CountRequests(t.Context())
	s.Close()
	if err != nil || counts[store.RequestAuthorised] != 5000 {
		t.Fatalf("recorded: %v %v", counts, err)
	}

	code, _, errs = ecos(t, "", args...)
	if code == 0 || !strings.Contains(errs, "already holds requests received in 2022-10; add --append") || strings.Contains(errs, "goroutine") {
		t.Fatalf("second run into the month: exit %d: %s", code, errs)
	}
	if code, out, errs = ecos(t, "", append(args, "--append", "--seed", "5")...); code != 0 || !strings.Contains(out, "5000 6.23 requests") {
		t.Fatalf("--append: exit %d: %s%s", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--month", "October"}, `--month "October": want a month, YYYY-MM`},
		{[]string{"--mpids", "3"}, "--mpids 3: each of the 6 parties sends under one at least"},
	} {
		bad := append(append([]string{}, args...), c.args...)
		if code, _, errs := ecos(t, "", bad...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d: %s", c.args, code, errs)
		}
	}
}
