package demoworld

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/config"
)

// TestInstallOperatorToken: a new demo has a random operator token its
// configuration names; a demo made before tokens gets one on its next
// start, its configuration otherwise unchanged, and keeps it after.
func TestInstallOperatorToken(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	cfgPath, err := Install(ctx, dir, InstallOptions{Devices: 3, PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	token := func() string {
		t.Helper()
		c, err := config.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.OperatorToken()
		if err != nil || len(tok) != 43 {
			t.Fatalf("operator token %q, %v", tok, err)
		}
		if got, err := OperatorToken(dir); err != nil || got != string(tok) {
			t.Fatalf("OperatorToken(dir) = %q, %v; the configuration's is %q", got, err, tok)
		}
		return string(tok)
	}
	first := token()
	other := filepath.Join(t.TempDir(), "demo")
	if _, err := Install(ctx, other, InstallOptions{Devices: 3, PlainHTTP: true}); err != nil {
		t.Fatal(err)
	}
	if tok, _ := OperatorToken(other); tok == first {
		t.Fatal("two demos have the same operator token")
	}

	// An older demo: no token file, no operator section.
	var c map[string]json.RawMessage
	b, err := os.ReadFile(cfgPath)
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatal(err)
	}
	delete(c, "operator")
	old, _ := json.Marshal(c)
	if err := os.WriteFile(cfgPath, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, OperatorTokenFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(ctx, dir, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	upgraded := token()
	if upgraded == first {
		t.Error("the upgraded demo reuses the old token")
	}
	var after map[string]json.RawMessage
	b, _ = os.ReadFile(cfgPath)
	if err := json.Unmarshal(b, &after); err != nil || len(after) != len(c)+1 || string(after["database"]) == "" {
		t.Errorf("upgraded configuration: %s", b)
	}
	if _, err := Install(ctx, dir, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if again := token(); again != upgraded {
		t.Error("a restart changed the operator token")
	}
	// A removed token file is made again.
	if err := os.Remove(filepath.Join(dir, OperatorTokenFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(ctx, dir, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if again := token(); again == upgraded {
		t.Error("a removed token came back the same")
	}
}
