package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/demoworld"
)

// TestOperatorToken: the operator commands send the token from
// --operator-token-file or from the configuration's operator.token_file;
// without it, or with a wrong one, the service refuses and the command
// says how to give it.
func TestOperatorToken(t *testing.T) {
	dir := t.TempDir()
	_, opURL := demoServer(t, dir)
	tokenFile := filepath.Join(dir, demoworld.OperatorTokenFile)

	code, _, errs := ecos(t, "", "quarantine", "list", "--operator", opURL)
	if code != 1 || !strings.Contains(errs, "401") || !strings.Contains(errs, "--operator-token-file FILE") {
		t.Errorf("without a token: exit %d\n%s", code, errs)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.token")
	if err := os.WriteFile(wrong, []byte(strings.Repeat("x", 43)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = ecos(t, "", "adt", "show", "dcc", "--operator", opURL, "--operator-token-file", wrong)
	if code != 1 || !strings.Contains(errs, "not the operator token") {
		t.Errorf("with a wrong token: exit %d\n%s", code, errs)
	}
	short := filepath.Join(t.TempDir(), "short.token")
	if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = ecos(t, "", "migrate", "waves", "--operator", opURL, "--operator-token-file", short)
	if code != 2 || !strings.Contains(errs, "--operator-token-file: ") || !strings.Contains(errs, "fewer than 32") {
		t.Errorf("with a short token file: exit %d\n%s", code, errs)
	}
	if code, out, errs := ecos(t, "", "migrate", "waves", "--operator", opURL, "--operator-token-file", tokenFile); code != 0 || !strings.Contains(out, "no waves yet") {
		t.Errorf("with the token file: exit %d\n%s%s", code, out, errs)
	}

	// --config: the service's address and token from its configuration.
	var cfg map[string]any
	b, err := os.ReadFile(filepath.Join(dir, demoworld.ConfigFile))
	if err != nil || json.Unmarshal(b, &cfg) != nil {
		t.Fatal(err)
	}
	cfg["operator_listen"] = strings.TrimPrefix(opURL, "http://")
	b, _ = json.Marshal(cfg)
	running := filepath.Join(dir, "running.json")
	if err := os.WriteFile(running, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := ecos(t, "", "adt", "show", "dcc", "--config", running); code != 0 || !strings.Contains(out, "6.23") {
		t.Errorf("with --config: exit %d\n%s%s", code, out, errs)
	}
}
