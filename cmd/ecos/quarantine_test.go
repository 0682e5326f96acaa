package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/demoworld"
)

// TestQuarantineRelease: `quarantine release` exits 0 when the request
// ends released, whether by this command or already; 1 when it cannot be.
func TestQuarantineRelease(t *testing.T) {
	dir := t.TempDir()
	apiURL, opURL := demoServer(t, dir)
	_, signed := signedADTFile(t, dir)
	if code, out, errs := ecos(t, "", "adt", "submit", "--demo", dir, "--url", apiURL, signed); code != 0 {
		t.Fatalf("submit: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := ecos(t, "", "send", "6.23", "--demo", dir, "--url", apiURL, "--device", "1", "--wait", "10s"); code != 0 {
		t.Fatalf("first send: exit %d\n%s%s", code, out, errs)
	}
	_, out, errs := ecos(t, "", "send", "6.23", "--demo", dir, "--url", apiURL, "--device", "2", "--wait", "10s")
	held := regexp.MustCompile(`QuarantineEventRef (\d+)`).FindStringSubmatch(out)
	if held == nil {
		t.Fatalf("second send not held:\n%s%s", out, errs)
	}
	code, out, errs := ecos(t, "", "quarantine", "release", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--as", "alice", held[1])
	if code != 0 || errs != "" || !regexp.MustCompile(`(?m)^`+held[1]+`\s+released\s.*operator:alice\s*$`).MatchString(out) {
		t.Fatalf("release: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	// Again: released it is, as asked.
	code, out, errs = ecos(t, "", "quarantine", "release", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), held[1])
	if code != 0 || errs != "" || !strings.Contains(out, held[1]+" was already released (by operator:alice)") {
		t.Errorf("second release: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	// A released request cannot be deleted, nor an unknown one released.
	for _, args := range [][]string{{"delete", held[1]}, {"release", "999"}} {
		code, out, errs = ecos(t, "", "quarantine", args[0], "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), args[1])
		if code != 1 || strings.Count(errs, "error:") != 1 || !strings.Contains(errs, "1 of 1 not "+args[0]+"d") {
			t.Errorf("%v: exit %d\nstdout %s\nstderr %s", args, code, out, errs)
		}
	}
}

// TestOperatorCommandsTakeConfig: adt show and quarantine list, release
// and delete reach the operator API a configuration names (its
// operator_listen), not the default port a running demo holds; an API
// that is off or does not answer is said so.
func TestOperatorCommandsTakeConfig(t *testing.T) {
	dir := t.TempDir()
	_, opURL := demoServer(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, demoworld.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	withOperator := func(name, addr string) string {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m["operator_listen"] = addr
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name) // beside the demo's files, which its paths name
		if err := os.WriteFile(p, out, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := withOperator("op.json", strings.TrimPrefix(opURL, "http://"))
	if code, out, errs := ecos(t, "", "quarantine", "list", "--config", cfg); code != 0 || !strings.HasPrefix(out, "REF") {
		t.Errorf("quarantine list --config: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if code, out, errs := ecos(t, "", "adt", "show", "--config", cfg, "EE-C0-5E-00-01-00-00-02"); code != 0 || !strings.Contains(out, "User EE-C0-5E-00-01-00-00-02: 0 request(s) held") {
		t.Errorf("adt show --config: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if code, _, errs := ecos(t, "", "quarantine", "release", "--config", cfg, "7"); code != 1 || !strings.Contains(errs, "QuarantineEventRef 7 not found") {
		t.Errorf("quarantine release --config: exit %d\nstderr %s", code, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"quarantine", "list", "--config", withOperator("off.json", "")}, exitMalformed, "operator_listen is off, so its service has no operator API"},
		{[]string{"quarantine", "list", "--config", withOperator("down.json", "127.0.0.1:1")}, 1, "no ecos serve answers at http://127.0.0.1:1: start it, or name its operator API with --operator URL or --config FILE"},
		{[]string{"quarantine", "delete", "--operator", "http://127.0.0.1:1", "3"}, 1, "no ecos serve answers at http://127.0.0.1:1"},
		{[]string{"adt", "show", "--config", cfg, "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "dcc"}, exitMalformed, "--operator and --config exclude each other"},
	} {
		code, _, errs := ecos(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) || strings.Count(errs, "error:") != 1 {
			t.Errorf("%v: exit %d, want %d and %q\nstderr %s", tc.args, code, tc.code, tc.want, errs)
		}
	}
}
