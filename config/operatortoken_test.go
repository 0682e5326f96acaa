package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOperatorToken: the token file's content, trimmed, is the token; a
// short one, one with a character a URL or header would mangle, or a
// missing file is refused naming the key; no key, no token.
func TestOperatorToken(t *testing.T) {
	dir := t.TempDir()
	good := "jE_4DRY4NT5cku591psddqWh9p4YJj0AW1ADmxjx81o"
	for name, tc := range map[string]struct {
		content string // "-": no file
		want    string
		err     string
	}{
		"ok":           {good + "\n", good, ""},
		"short":        {"abc\n", "", "fewer than 32"},
		"space inside": {good[:20] + " " + good[20:], "", "character 21"},
		"non-ascii":    {good + "é", "", "character 44"},
		"missing":      {"-", "", "no such file"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if tc.content != "-" {
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := &Config{Operator: Operator{TokenFile: path}}
		tok, err := c.OperatorToken()
		if string(tok) != tc.want || (tc.err == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "operator.token_file: "))) {
			t.Errorf("%s: %q, %v", name, tok, err)
		}
		if err != nil && strings.Contains(err.Error(), good[:10]) {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
	if tok, err := (&Config{}).OperatorToken(); tok != nil || err != nil {
		t.Errorf("no key: %q, %v", tok, err)
	}
}
