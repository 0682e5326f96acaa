package config

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/internal/strictjson"
	"github.com/ecos-cos/ecos/obs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMinimalDefaults: the smallest file that works gets every documented
// default, and its paths resolve against the file's directory.
func TestMinimalDefaults(t *testing.T) {
	c, err := Load("testdata/good/minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	pki := abs(t, "testdata/pki")
	want := &Config{
		Listen:         "127.0.0.1:8079",
		OperatorListen: "127.0.0.1:8078",
		TLS: TLS{Cert: pki + "/tls/server.pem", Key: pki + "/tls/server.key", ClientCAs: []string{pki + "/tls/users-ca.pem"},
			Users: []TLSUser{{User: "90-B3-D5-1F-30-01-00-00", Certificates: []string{pki + "/tls/users/supplier.pem"}}}},
		Database: Database{Driver: "sqlite", DSN: abs(t, "testdata/good/ecos.db")},
		Keys: Keys{
			TCoS:       &KeyPair{Key: pki + "/tcos.key", Cert: pki + "/tcos.pem"},
			DSPXMLSign: KeyPair{Key: pki + "/dsp.key", Cert: pki + "/dsp.pem"},
		},
		Trust: Trust{
			OrganisationCAs:    []string{pki + "/org-ca.pem"},
			UserCertificates:   []string{pki + "/users"},
			DeviceCertificates: []string{pki + "/devices"},
		},
		Devices:  Devices{Gateway: "sim", Timeout: Duration(10 * time.Second), Simulated: DefaultSimulated},
		Callback: Callback{Timeout: Duration(10 * time.Second), MaxAttempts: 10},
		Policy:   Policy{MPID: "report", MPIDAttribute: "O", MaxRequestBytes: 65536, FutureDatedHorizon: DefaultFutureDatedHorizon},
		Anomaly:  Anomaly{WithoutFile: "zero", HoldFor: DefaultHoldFor},
		Workers:  DefaultWorkers,
		Log:      Log{Level: "info", Format: "json", Audit: abs(t, "testdata/good/audit.log")},
	}
	if d := cmp.Diff(want, c, cmpopts.IgnoreUnexported(Config{})); d != "" {
		t.Errorf("minimal config (-want +got):\n%s", d)
	}
	dsn, err := c.DatabaseDSN()
	if err != nil || dsn != want.Database.DSN {
		t.Errorf("DatabaseDSN = %q, %v", dsn, err)
	}
}

func TestFull(t *testing.T) {
	c, err := Load("testdata/good/full.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:8443" || c.Workers != 32 || c.Devices.Timeout != Duration(150*time.Second) ||
		c.Callback.MaxAttempts != 3 || !c.Policy.AllowForeignReplacements || c.Policy.ResponseCodes["replay"] != "E062311" ||
		c.Log.Audit != "-" || len(c.Trust.UserCertificates) != 2 || c.Keys.ECoS == nil {
		t.Errorf("full config %+v", c)
	}
	if got, want := c.Callback.ByUser(), map[string]string{"90-B3-D5-1F-30-01-00-00": "https://dcc-user.example/duis/responses"}; !maps.Equal(got, want) {
		t.Errorf("callback.users by User = %v, want %v: keyed as RequestIDs spell Users", got, want)
	}
	dsn, err := c.DatabaseDSN()
	if err != nil || dsn != "postgres://ecos:s3cret@db.example:5432/ecos?sslmode=verify-full" {
		t.Errorf("DatabaseDSN = %q, %v; want the file's content, trimmed", dsn, err)
	}
	oid, err := c.Policy.MPIDAttributeOID()
	if err != nil || oid.String() != "2.5.4.97" {
		t.Errorf("MPIDAttributeOID = %v, %v", oid, err)
	}
}

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.json")
	if len(files) < 3 {
		t.Fatalf("only %d good files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// badFiles lists what each bad file must produce: one entry per problem,
// in order, each a substring of that problem's text ($TD is the absolute
// testdata directory). Decoding problems are pinned to their line and
// column.
var badFiles = map[string][]string{
	"unknown_key_top.json":          {"line 2, column 3: listn: unknown key"},
	"unknown_key_nested.json":       {"line 3, column 40: keys.tcos.certificate: unknown key"},
	"unknown_key_case.json":         {`line 2, column 3: Workers: unknown key (did you mean "workers"?)`},
	"duplicate_key.json":            {"line 3, column 3: workers: duplicate key"},
	"callback_users_duplicate.json": {"line 5, column 5: callback.users.90-B3-D5-1F-30-01-00-00: duplicate key"},
	"callback_url_renamed.json":     {"line 3, column 16: callback.url: unknown key: renamed callback.relay_url, an operator relay that receives every User's documents; a User's own endpoint, which receives only its documents, goes in callback.users"},
	"trailing_object.json":          {"line 12, column 1: unexpected data after the configuration object"},
	"trailing_garbage.json":         {"line 11, column 2: unexpected data after the configuration object"},
	"wrong_type.json":               {"line 2, column 14: workers: must be an integer, not a string"},
	"not_integer.json":              {"line 2, column 35: policy.max_request_bytes: must be an integer, not 65536.5"},
	"null_string.json":              {"line 2, column 13: listen: must be a string, not null"},
	"syntax_missing_comma.json":     {"line 4, column 5: invalid JSON: invalid character"},
	"truncated.json":                {"line 4, column 1: invalid JSON: unexpected end of file"},
	"not_object.json":               {"line 1, column 1: the configuration must be a JSON object, not an array"},
	"empty.json":                    {"line 1, column 1: the file is empty"},
	"negative_duration.json":        {`line 2, column 26: devices.timeout: "-5s" is negative`},
	"duration_number.json":          {`line 2, column 27: callback.timeout: must be a duration string such as "10s", not a number`},
	"duration_no_unit.json":         {`line 2, column 26: devices.timeout: "10" is not a duration`},
	"zero_duration.json":            {"devices.timeout: must be more than 0s"},
	"bad_enum_driver.json":          {`database.driver: "mysql" is not one of sqlite, postgres`},
	"bad_log.json": {
		`log.level: "verbose" is not one of debug, info, warn, error`,
		`log.format: "xml" is not one of json, text`,
		"log.audit: directory $TD/no-such-dir does not exist",
	},
	"bad_listen.json": {`listen: "8079" is not host:port`},
	"bad_anomaly.json": {
		"operator_listen: is the same address as listen",
		`anomaly.without_file: "sometimes" is not one of zero, none`,
		"anomaly.hold_for: ",
		"anomaly: give both file_signing_cas and file_signing_certificates",
		"anomaly.dcc_thresholds[0]: warning threshold 10 is above the quarantine threshold 5",
		`anomaly.dcc_thresholds[1]: SRV "9.99" is not a DUIS V5.4`,
		"anomaly.dcc_thresholds[2]: row has 3 fields",
	},
	"listen_named_port.json": {`listen: port "http" is not a number`},
	"bad_pkcs11.json": {
		"keys.tcos: give key (a file) or pkcs11 (a token), not both",
		`keys.tcos.pkcs11.key_id: "7g" is not hexadecimal bytes`,
		"keys.ecos.pkcs11.module: required",
		"keys.ecos.pkcs11.token_label: required",
		"keys.ecos.pkcs11.key_label: required (or key_id)",
		"keys.ecos.pkcs11.sessions: 1 is out of range 2–1024",
	},
	"bad_migration.json": {
		`devices.faults: EE-C0-5E-DE-00-00-00-01: "explode" is not a fault (want one of drop-command, drop-response, reject, busy, bad-certificate, no-trust-anchor, insufficient-memory, trust-anchor-not-found, other, optionally with -once)`,
		`devices.faults: "meter-2" is not an EUI-64: `,
		`migration.go_live: "2023-6-1": want a day, YYYY-MM-DD`,
		"migration.attempts: -1: want 1 to 100 (0: the default, 5)",
		"migration.retry_max: want retry_base ≥ 0 and retry_max ≥ retry_base",
	},
	"bad_plan.json": {
		"migration.plan[1].by: 2023-09-30 is not after migration.plan[0].by (2023-09-30): the days must increase",
		"migration.plan[2].ecos: 1500000 is below migration.plan[1].ecos (2000000): the targets are cumulative and never fall",
		`migration.plan[3].by: "2024-2-1": want a day, YYYY-MM-DD`,
		"migration.plan[4].ecos: -1 is negative",
	},
	"missing_required.json": {
		"keys.tcos.cert: required",
		"keys.dsp_xml_sign.key: required",
		"keys.dsp_xml_sign.cert: required",
		"trust.organisation_cas: required: at least one entry",
		"trust.user_certificates: required: at least one entry",
		"trust.device_certificates: required: at least one entry",
	},
	"no_cos_key.json":    {"keys: need tcos, ecos or both"},
	"no_tls.json":        {`tls: required: add "tls": {"cert", "key", "client_cas", "users"} for mutual TLS`},
	"tls_and_plain.json": {"tls: insecure_plain_http excludes cert, key, client_cas and users"},
	"bad_tls.json": {
		"tls.key: required: the server certificate's private key",
		"tls.client_cas: required: at least one CA",
		`tls.users[0].user: "supplier-a" is not an EUI-64`,
		"tls.users[1].certificates: required: at least one certificate",
		"tls.users[2].user: 90-B3-D5-1F-30-02-00-00 is already listed as tls.users[1]",
		"tls.cert: file $TD/pki/tls/no-such.pem does not exist",
		"tls.users[2].certificates[0]: file $TD/pki/tls/users/no-such.pem does not exist",
	},
	"missing_files.json": {
		"keys.tcos.cert: file $TD/pki/no-such-cert.pem does not exist",
		"trust.organisation_cas[0]: $TD/pki/users is a directory, not a file",
		"trust.user_certificates[1]: required",
		"trust.device_certificates[0]: file $TD/pki/no-such-dir does not exist",
	},
	"postgres_both.json":     {"database: give dsn or dsn_file, not both"},
	"postgres_neither.json":  {`database: driver "postgres" needs dsn or dsn_file`},
	"postgres_password.json": {"database.dsn: contains a password; put the DSN in dsn_file"},
	"postgres_not_url.json":  {"database.dsn: must be a postgres:// URL"},
	"sqlite_dsn_file.json": {
		`database.dsn_file: only used with driver "postgres"`,
		"database.dsn: required: the SQLite file",
	},
	"out_of_range.json": {
		"callback.max_attempts: 1000 is out of range 1–100",
		"policy.max_request_bytes: 100 is out of range 1024–16777216",
		"policy.future_dated_horizon: must be more than 0s",
		"workers: 0 is out of range 1–256",
	},
	"http_gateway_no_url.json": {`devices.url: required with gateway "http"`},
	"sim_with_url.json":        {`devices.url: only used with gateway "http"`},
	"bad_urls.json": {
		`devices.url: "ftp://devicesim.example/" is not an http:// or https:// URL`,
		"callback.users.90-B3-D5-1F-30-01-00-00: must not carry credentials",
	},
	"bad_callback.json": {
		"callback.relay_url: excludes callback.users",
		`callback.users.90-B3-D5-1F-30-01-00-00: "ftp://supplier.example/" is not an http:// or https:// URL`,
		"callback.users.90-B3-D5-1F-30-09-00-00: User 90-B3-D5-1F-30-09-00-00 is not in tls.users",
		`callback.users.90b3d51f30010000: is User 90-B3-D5-1F-30-01-00-00 again, already given as "90-B3-D5-1F-30-01-00-00"`,
		`callback.users.supplier-b: "supplier-b" is not an EUI-64`,
	},
	"response_codes.json": {
		`policy.response_codes.no-such-reason: unknown reason "no-such-reason"`,
		`policy.response_codes.replay: "E99" is not a 6.23-specific code`,
		"policy.response_codes.unknown-user: unknown-user uses the generic code E1",
	},
	"bad_policy.json": {
		`policy.mpid: "strict" is not one of report, enforce`,
		`policy.mpid_attribute: "Organisation" is neither an RFC 2253 attribute name`,
	},
}

func TestBadFiles(t *testing.T) {
	td := filepath.ToSlash(abs(t, "testdata"))
	files, _ := filepath.Glob("testdata/bad/*.json")
	for _, f := range files {
		if _, ok := badFiles[filepath.Base(f)]; !ok {
			t.Errorf("%s has no entry in badFiles", f)
		}
	}
	for name, want := range badFiles {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", name)
			c, err := Load(path)
			if c != nil {
				t.Error("config returned with an error")
			}
			ce, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ce.File != path || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("error does not name the file %s: %v", path, err)
			}
			if len(ce.Problems) != len(want) {
				t.Fatalf("%d problems, want %d:\n%v", len(ce.Problems), len(want), err)
			}
			for i, w := range want {
				w = strings.ReplaceAll(w, "$TD", td)
				if got := filepath.ToSlash(ce.Problems[i].String()); !strings.Contains(got, w) {
					t.Errorf("problem %d = %q\nwant it to contain %q", i, got, w)
				}
			}
		})
	}
}

// TestExplicitZeroIsKept: a key present with a zero value is the
// operator's choice, refused by Validate, not replaced by the default.
func TestExplicitZeroIsKept(t *testing.T) {
	c, err := decode([]byte(`{"workers": 0, "listen": "", "devices": {"timeout": "0s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 0 || c.Listen != "" || c.Devices.Timeout != 0 || c.Callback.Timeout != DefaultTimeout {
		t.Errorf("defaults applied over explicit zeros: %+v", c)
	}
}

func TestDecodeUnknownKeysAllReported(t *testing.T) {
	_, err := decode([]byte("{\"a\": {\"deep\": [[[{}]]]},\n \"log\": {\"b\": 1, \"level\": 3},\n \"c\": null}"))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{"line 1, column 2: a: unknown key", "line 2, column 10: log.b: unknown key",
		"line 2, column 27: log.level: must be a string, not a number", "line 3, column 2: c: unknown key"}
	var got []string
	for _, p := range err.Problems {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
}

func TestDecodeProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `": 1`)
	}
	b.WriteString("}")
	_, err := decode([]byte(b.String()))
	if err == nil || len(err.Problems) != strictjson.MaxProblems {
		t.Fatalf("problems: %v", err)
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\n\u00e9x\ny")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 2}, {7, 3, 1}, {8, 3, 2}, {99, 3, 2}, {-1, 1, 1}} {
		if l, c := strictjson.Position(data, tc.off); l != tc.line || c != tc.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

func TestResolveSQLite(t *testing.T) {
	dir := filepath.FromSlash("/etc/ecos")
	for in, want := range map[string]string{
		"ecos.db":                   filepath.Join(dir, "ecos.db"),
		"/var/lib/ecos/ecos.db":     "/var/lib/ecos/ecos.db",
		"file:ecos.db":              "file:" + filepath.ToSlash(filepath.Join(dir, "ecos.db")),
		"file:data/e.db?_txlock=im": "file:" + filepath.ToSlash(filepath.Join(dir, "data/e.db")) + "?_txlock=im",
		"file:/var/e.db?mode=ro":    "file:/var/e.db?mode=ro",
		"file://host/e.db":          "file://host/e.db",
	} {
		c := &Config{Database: Database{Driver: DriverSQLite, DSN: in}, Log: Log{Audit: "-"}}
		c.resolve(dir)
		if c.Database.DSN != want {
			t.Errorf("resolve(%q) = %q, want %q", in, c.Database.DSN, want)
		}
	}
}

func TestParseResolvesAgainstDir(t *testing.T) {
	data, err := os.ReadFile("testdata/good/minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, "testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	if want := abs(t, "testdata/pki/tcos.key"); c.Keys.TCoS.Key != want {
		t.Errorf("tcos key %q, want %q", c.Keys.TCoS.Key, want)
	}
	if _, err := Parse(data, t.TempDir()); err == nil || !strings.HasPrefix(err.Error(), "configuration: ") {
		t.Errorf("Parse from the wrong directory: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such.json")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "testdata/no-such.json") {
		t.Errorf("err %v", err)
	}
}

func TestValidateZeroConfig(t *testing.T) {
	err := new(Config).Validate()
	ce, ok := errors.AsType[*Error](err)
	if !ok || len(ce.Problems) < 10 {
		t.Fatalf("Validate of an empty Config: %v", err)
	}
	for _, p := range ce.Problems {
		if p.Key == "" || p.Line != 0 {
			t.Errorf("problem %+v names no key or has a position", p)
		}
	}
	if !strings.HasPrefix(err.Error(), "configuration: ") {
		t.Errorf("error %q", err)
	}
}

func TestDatabaseDSNErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.dsn")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		empty:                          "is empty",
		filepath.Join(dir, "gone.dsn"): "no such file",
	} {
		c := &Config{Database: Database{Driver: DriverPostgres, DSNFile: file}}
		if _, err := c.DatabaseDSN(); err == nil || !strings.Contains(err.Error(), want) ||
			!strings.HasPrefix(err.Error(), "database.dsn_file: ") {
			t.Errorf("DatabaseDSN(%s) = %v, want %q", file, err, want)
		}
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	if err := json.Unmarshal([]byte(`"1m30s"`), &d); err != nil || d != Duration(90*time.Second) {
		t.Errorf("1m30s: %v, %v", d, err)
	}
	for _, in := range []string{`30`, `"-1s"`, `"10"`, `null`, `{}`} {
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
	b, err := json.Marshal(Duration(2500 * time.Millisecond))
	if err != nil || string(b) != `"2.5s"` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

// TestRoundTrip: a marshalled Config is a configuration file that parses
// back to the same Config, so `ecos config check` could print the
// effective configuration.
func TestRoundTrip(t *testing.T) {
	for _, f := range []string{"testdata/good/minimal.json", "testdata/good/full.json"} {
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(b, "/nonexistent")
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b)
		}
		if d := cmp.Diff(c, c2, cmpopts.IgnoreUnexported(Config{})); d != "" {
			t.Errorf("%s round trip (-first +second):\n%s", f, d)
		}
	}
}

func TestMPIDAttributeOID(t *testing.T) {
	for in, want := range map[string]string{"O": "2.5.4.10", "OU": "2.5.4.11", "UID": "0.9.2342.19200300.100.1.1", "2.5.4.97": "2.5.4.97"} {
		oid, err := Policy{MPIDAttribute: in}.MPIDAttributeOID()
		if err != nil || oid.String() != want {
			t.Errorf("%q: %v, %v", in, oid, err)
		}
	}
	for _, in := range []string{"", "o", "2", "2.", "2..5", "2.-1", "2.05", "organizationName"} {
		if oid, err := (Policy{MPIDAttribute: in}).MPIDAttributeOID(); err == nil {
			t.Errorf("%q accepted as %v", in, oid)
		}
	}
}

// TestLogSettingsMatchObs: every level and format Validate accepts is one
// obs.NewLogger builds, so a valid file cannot fail at startup.
func TestLogSettingsMatchObs(t *testing.T) {
	for _, level := range []string{"debug", "info", "warn", "error"} {
		for _, format := range []string{"json", "text"} {
			c := &Config{Log: Log{Level: level, Format: format, Audit: "-"}}
			var v validator
			v.log(&c.Log)
			if len(v.problems) != 0 {
				t.Fatalf("%s/%s refused: %v", level, format, v.problems)
			}
			if _, err := obs.NewLogger(os.Stderr, format, level); err != nil {
				t.Errorf("obs refuses %s/%s: %v", level, format, err)
			}
		}
	}
}

func TestErrorText(t *testing.T) {
	one := &Error{File: "ecos.json", Problems: []Problem{{Key: "workers", Line: 3, Column: 14, Msg: "must be an integer"}}}
	if got := one.Error(); got != "ecos.json: line 3, column 14: workers: must be an integer" {
		t.Errorf("one problem: %q", got)
	}
	two := &Error{Problems: []Problem{{Key: "listen", Msg: "required"}, {Msg: "whole document"}}}
	if got := two.Error(); got != "configuration: 2 problems\n\tlisten: required\n\twhole document" {
		t.Errorf("two problems: %q", got)
	}
}

// TestWarnings: a configuration that would quarantine every SR 6.23 (Users
// without a file held to zero, and no IKI File Signing CA to accept a
// file) starts with a warning; either fix silences it.
func TestWarnings(t *testing.T) {
	c, err := Load("testdata/good/minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "every SR 6.23 will be quarantined") ||
		!strings.Contains(w[0], "anomaly.file_signing_cas") {
		t.Fatalf("warnings %q", w)
	}
	c.Anomaly.WithoutFile = WithoutFileNone
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("without_file none: %q", w)
	}
	c.Anomaly.WithoutFile = WithoutFileZero
	c.Anomaly.FileSigningCAs = []string{"iki.pem"}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("with an IKI CA: %q", w)
	}
}

// TestLoadPending: a file a command is about to write (the ECoS
// certificate `ecos keys ecos install` writes) may be absent for
// LoadPending, and only that one: Load still refuses it, and LoadPending
// still refuses any other missing file.
func TestLoadPending(t *testing.T) {
	data, err := os.ReadFile("testdata/good/minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	pki := abs(t, "testdata/pki")
	keys := doc["keys"].(map[string]any)
	keys["ecos"] = map[string]any{"key": pki + "/tcos.key", "cert": "not-yet/ecos.pem"}
	dir := t.TempDir()
	write := func() string {
		b, _ := json.Marshal(doc)
		p := filepath.Join(dir, "ecos.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The minimal file's own relative paths resolve against testdata/good.
	for _, k := range []string{"tls", "trust"} {
		fixed, _ := json.Marshal(doc[k])
		fixed = []byte(strings.ReplaceAll(string(fixed), `"../pki/`, `"`+pki+`/`))
		var v any
		json.Unmarshal(fixed, &v)
		doc[k] = v
	}
	keys["tcos"] = map[string]any{"key": pki + "/tcos.key", "cert": pki + "/tcos.pem"}
	keys["dsp_xml_sign"] = map[string]any{"key": pki + "/dsp.key", "cert": pki + "/dsp.pem"}
	path := write()
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "keys.ecos.cert: file "+filepath.Join(dir, "not-yet/ecos.pem")+" does not exist") {
		t.Fatalf("Load: %v, want keys.ecos.cert refused", err)
	}
	c, err := LoadPending(path, "keys.ecos.cert")
	if err != nil {
		t.Fatalf("LoadPending: %v", err)
	}
	if c.Keys.ECoS.Cert != filepath.Join(dir, "not-yet/ecos.pem") {
		t.Errorf("keys.ecos.cert = %q, want it resolved against the file's directory", c.Keys.ECoS.Cert)
	}
	keys["tcos"].(map[string]any)["cert"] = "missing-tcos.pem"
	path = write()
	if _, err := LoadPending(path, "keys.ecos.cert"); err == nil || !strings.Contains(err.Error(), "keys.tcos.cert: file") {
		t.Fatalf("LoadPending with keys.tcos.cert missing: %v, want it refused", err)
	}
}
