package demoworld

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// OperatorTokenFile is the demo's operator token, which the operator API
// and the dashboard require (operator.token_file).
const OperatorTokenFile = "operator.token"

// writeOperatorToken writes a new random operator token into dir.
func writeOperatorToken(dir string, r io.Reader) error {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("demo operator token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return os.WriteFile(filepath.Join(dir, OperatorTokenFile), []byte(tok+"\n"), 0o600)
}

// OperatorToken is the operator token of the demo in dir.
func OperatorToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, OperatorTokenFile))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// upgradeOperatorToken gives a demo made before the operator listener
// required a token one, and names it in its configuration, so that the
// demo still opens (the rest of the configuration is kept as it was); a
// demo whose token file was removed gets a new one.
func upgradeOperatorToken(dir, cfgPath string, r io.Reader) error {
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("%s: %w", cfgPath, err)
	}
	var op struct {
		TokenFile string `json:"token_file"`
	}
	if raw, ok := c["operator"]; ok && (json.Unmarshal(raw, &op) != nil || op.TokenFile != OperatorTokenFile) {
		return nil // the operator's own choice: left alone
	}
	if _, err := os.Stat(filepath.Join(dir, OperatorTokenFile)); errors.Is(err, fs.ErrNotExist) {
		if err := writeOperatorToken(dir, r); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if op.TokenFile != "" {
		return nil
	}
	c["operator"] = json.RawMessage(`{"token_file":"` + OperatorTokenFile + `"}`)
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := cfgPath + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, cfgPath)
}
