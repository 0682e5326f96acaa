package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/strictjson"
)

const docPath = "../docs/config.md"

// docExample is the first ```json block of docs/config.md.
func docExample(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n```json\n")
	if !ok {
		t.Fatalf("%s has no ```json block", docPath)
	}
	block, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		t.Fatalf("%s: unterminated ```json block", docPath)
	}
	return []byte(block)
}

// TestDocExample: the complete example in docs/config.md is a valid
// configuration once the files it names exist.
func TestDocExample(t *testing.T) {
	data := docExample(t)
	dir := t.TempDir()
	c, derr := decode(data)
	if derr != nil {
		t.Fatalf("%s example: %v", docPath, derr)
	}
	c.resolve(dir)
	for _, f := range c.pathFields() {
		if *f.p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(*f.p), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.kind == fileOrDir || f.kind == directory {
			if err := os.MkdirAll(*f.p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(*f.p, []byte("postgres://ecos@db/ecos\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.Log.Audit), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ecos.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("%s example: %v", docPath, err)
	}
	if dsn, err := c.DatabaseDSN(); err != nil || dsn != "postgres://ecos@db/ecos" {
		t.Errorf("DatabaseDSN = %q, %v", dsn, err)
	}
	// "Complete" means every key: the example sets each one explicitly,
	// except database.dsn, which cannot be given beside dsn_file, and
	// devices.simulated, devices.faults and devices.tcos_anchor, which only the sim gateway
	// takes; and a key pair's key and pkcs11 exclude each other, so each
	// of their keys must be set for one of the pairs.
	present, _ := strictjson.Check(data, configType, decodeOptions)
	anyPair := func(key string) bool {
		for _, pair := range []string{"keys.tcos", "keys.ecos", "keys.dsp_xml_sign"} {
			if rest, ok := strings.CutPrefix(key, pair+"."); ok {
				for _, other := range []string{"keys.tcos", "keys.ecos", "keys.dsp_xml_sign"} {
					if present[other+"."+rest] {
						return true
					}
				}
			}
		}
		return false
	}
	for _, key := range keyPaths(configType, "") {
		if !present[key] && !anyPair(key) && key != "database.dsn" && key != "devices.simulated" && key != "devices.faults" && key != "devices.tcos_anchor" {
			t.Errorf("%s example does not set %s", docPath, key)
		}
	}
}

// TestDocKeys: every key has a row (or, for a section, a heading) in
// docs/config.md, and the row's default column shows the default Parse
// applies.
func TestDocKeys(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // key → cells of its table row
	for line := range strings.Lines(string(doc)) {
		if section, ok := strings.CutPrefix(strings.TrimSpace(line), "### `"); ok {
			rows[strings.TrimSuffix(section, "`")] = nil
			continue
		}
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = cells[1:]
	}
	for _, key := range keyPaths(configType, "") {
		if _, ok := rows[key]; !ok {
			t.Errorf("%s has no row for %s", docPath, key)
		}
	}
	defaults, derr := decode([]byte("{}"))
	if derr != nil {
		t.Fatal(derr)
	}
	leaves(reflect.ValueOf(defaults).Elem(), "", func(key string, v reflect.Value) {
		if v.IsZero() {
			return
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatal(err)
		}
		if row := rows[key]; len(row) < 2 || !strings.Contains(row[1], "`"+string(b)+"`") {
			t.Errorf("%s: the default of %s is %s, the table says %q", docPath, key, b, row)
		}
	})
}

// keyPaths lists every key a configuration can hold, parents included.
func keyPaths(t reflect.Type, prefix string) []string {
	var keys []string
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == durationType {
		return nil
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		keys = append(keys, key)
		keys = append(keys, keyPaths(f.Type, key)...)
	}
	return keys
}

// leaves calls fn for every non-struct value under v, by key path.
func leaves(v reflect.Value, prefix string, fn func(key string, v reflect.Value)) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && f.Type != durationType {
			leaves(fv, key, fn)
		} else {
			fn(key, fv)
		}
	}
}
