// Package config reads the configuration file of `ecos serve`: one JSON
// object, decoded strictly (an unknown or misspelt key, a duplicate key, a
// wrong type or trailing data is an error with its line and column),
// completed with defaults, its relative paths resolved against the file's
// directory, and validated as a whole, so an operator sees every problem at
// once. Secrets are never inline: the file names the files that hold them.
// docs/config.md documents every key.
//
// Trust level: the file comes from the operator, who is trusted, but a typo
// must fail loudly rather than silently change what the service does.
// Validate only checks that referenced files exist; DatabaseDSN is the one
// place a secret is read.
package config

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// Config is the whole `ecos serve` configuration.
type Config struct {
	Listen string `json:"listen"`
	// OperatorListen is where the operator API listens; "" turns it off.
	OperatorListen string `json:"operator_listen"`
	// Operator is how operators authenticate on operator_listen.
	Operator Operator `json:"operator"`
	// TLS is how Users reach listen: mutual TLS, or plain HTTP only when
	// asked for by name.
	TLS      TLS      `json:"tls"`
	Database Database `json:"database"`
	Keys     Keys     `json:"keys"`
	Trust    Trust    `json:"trust"`
	Devices  Devices  `json:"devices"`
	Callback Callback `json:"callback"`
	Policy   Policy   `json:"policy"`
	Anomaly  Anomaly  `json:"anomaly"`
	Workers  int      `json:"workers"`
	Log      Log      `json:"log"`
	// Migration configures the TCoS → ECoS migration (product.md §5).
	Migration Migration `json:"migration"`

	// file is where Load read the configuration, for error messages.
	file string
}

// Operator configures the operator listener's authentication.
type Operator struct {
	// TokenFile holds the operator token that every operator API route
	// and dashboard page requires; "": they are all refused.
	TokenFile string `json:"token_file"`
}

// TLS configures the Users' listener. Users authenticate with a TLS
// client certificate that chains to one of ClientCAs and is registered for
// them in Users; a request's RequestID originator must be that User.
type TLS struct {
	Cert      string    `json:"cert"` // the server's certificate chain, PEM
	Key       string    `json:"key"`  // its private key, PEM
	ClientCAs []string  `json:"client_cas"`
	Users     []TLSUser `json:"users"`
	// InsecurePlainHTTP serves Users over plain HTTP, unauthenticated: a
	// test lab whose DCC Boxed clients speak no TLS. Excludes the rest.
	InsecurePlainHTTP bool `json:"insecure_plain_http"`
}

// TLSUser registers the TLS client certificates one User presents.
type TLSUser struct {
	User         string   `json:"user"` // EUI-64, e.g. "90-B3-D5-1F-30-01-00-00"
	Certificates []string `json:"certificates"`
}

// Database says which store to open.
type Database struct {
	Driver string `json:"driver"` // DriverSQLite or DriverPostgres
	// DSN is the SQLite file (or file: URI), or a PostgreSQL URL that
	// carries no password.
	DSN string `json:"dsn"`
	// DSNFile holds the PostgreSQL DSN when it carries a secret.
	DSNFile string `json:"dsn_file"`
}

// Drivers Database.Driver accepts; the same names as package store's.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// KeyPair names a private key file (PEM or DER) and its certificate.
type KeyPair struct {
	Key  string `json:"key"` // a software key file; or PKCS11
	Cert string `json:"cert"`
	// PKCS11 puts the key on a PKCS#11 token instead of in Key.
	PKCS11 *PKCS11Key `json:"pkcs11"`
}

// FileKeyPair is a key pair in files only (a TLS client's).
type FileKeyPair struct {
	Key  string `json:"key"`
	Cert string `json:"cert"`
}

// PKCS11Key is a key on a PKCS#11 token (an HSM; SoftHSM2 in tests).
type PKCS11Key struct {
	Module     string `json:"module"`      // the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string `json:"token_label"` // the token
	KeyLabel   string `json:"key_label"`   // the key pair's CKA_LABEL
	KeyID      string `json:"key_id"`      // or its CKA_ID, in hex; or both
	PINFile    string `json:"pin_file"`    // the user PIN, in a file of its own: never inline
	Sessions   int    `json:"sessions"`    // the token's session pool; 0: 16
}

// ID is KeyID as bytes (nil when none is given).
func (p *PKCS11Key) ID() ([]byte, error) {
	if p.KeyID == "" {
		return nil, nil
	}
	id, err := hex.DecodeString(p.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%q is not hexadecimal bytes (a CKA_ID, such as 0102A0)", p.KeyID)
	}
	return id, nil
}

// Keys are the service's signing credentials. A nil TCoS or ECoS means the
// service does not act as that party; at least one must be set.
type Keys struct {
	TCoS       *KeyPair `json:"tcos"`
	ECoS       *KeyPair `json:"ecos"`
	DSPXMLSign KeyPair  `json:"dsp_xml_sign"`
}

// Trust lists the certificates the service trusts or looks up. Entries
// other than OrganisationCAs may be directories, read for every PEM file
// in them.
type Trust struct {
	OrganisationCAs    []string `json:"organisation_cas"`
	Intermediates      []string `json:"intermediates"`
	UserCertificates   []string `json:"user_certificates"`
	DeviceCertificates []string `json:"device_certificates"`
}

// Devices says how commands reach devices.
type Devices struct {
	Gateway string   `json:"gateway"` // GatewaySim or GatewayHTTP
	URL     string   `json:"url"`     // base URL of `ecos devicesim`; only for GatewayHTTP
	Timeout Duration `json:"timeout"`
	// PKI is a test PKI directory (`ecos pki init`): the simulated fleet's
	// anchors and device keys with gateway "sim", and with either gateway
	// the source of simulated devices' keys (the PKI's device certificates,
	// then keys derived from the fleet's public seed), so their responses
	// can be checked without a certificate per device.
	PKI string `json:"pki"`
	// Simulated is the in-process fleet's size; only for gateway "sim".
	Simulated int `json:"simulated"`
	// Faults makes simulated meters misbehave, for demos and rehearsals:
	// a meter's EUI-64 to one of SimulatedFaults, applied to every command
	// it gets, or with the suffix "-once" to its first only. Only for
	// gateway "sim".
	Faults map[string]string `json:"faults"`
	// TCoSAnchor is a certificate file the simulated meters hold in their
	// transitionalCoS cell instead of the test PKI's TCoS certificate: a
	// rehearsal of moving a real TCoS key (ZAZ1's) into an HSM ends with
	// meters that obey it (docs/keys.md). Only for gateway "sim".
	TCoSAnchor string `json:"tcos_anchor"`
}

// SimulatedFaults are the faults Devices.Faults can give a meter: the
// transport's (the command or the response lost, the meter refusing the
// command silently, the meter busy) and the statuses a meter can answer
// for its transitionalCoS cell.
var SimulatedFaults = []string{"drop-command", "drop-response", "reject", "busy",
	"bad-certificate", "no-trust-anchor", "insufficient-memory", "trust-anchor-not-found", "other"}

// DefaultSimulated is the in-process fleet's default size.
const DefaultSimulated = 1000

// Gateways Devices.Gateway accepts.
const (
	GatewaySim  = "sim"  // an in-process simulated fleet
	GatewayHTTP = "http" // `ecos devicesim` over HTTP
)

// Callback is where signed responses are POSTed: each User's to its own
// URL (Users), or every User's to the operator's relay (RelayURL), never
// both. A User with no URL pulls its responses.
type Callback struct {
	// Users maps a User's EUI-64 to the URL that the documents of the
	// requests it originated, and only those, are POSTed to.
	Users map[string]string `json:"users"`
	// RelayURL receives every User's documents: the operator's own
	// endpoint, which hands each to its User, never a User's.
	RelayURL string `json:"relay_url"`
	// CAs are what receivers' server certificates must chain to; none:
	// the system's trusted CAs.
	CAs []string `json:"cas"`
	// Client is the TLS client certificate presented to receivers that
	// ask for one (mutual TLS); nil: none.
	Client      *FileKeyPair `json:"client"`
	Timeout     Duration     `json:"timeout"`
	MaxAttempts int          `json:"max_attempts"`
}

// ByUser is Users keyed by each EUI-64 as a RequestID spells it. Call it on
// a validated configuration: it leaves out keys that are not EUI-64s.
func (c *Callback) ByUser() map[string]string {
	m := make(map[string]string, len(c.Users))
	for k, u := range c.Users {
		if id, err := eui.Parse(k); err == nil {
			m[id.String()] = u
		}
	}
	return m
}

// Policy holds the operator's choices where the rules leave one.
type Policy struct {
	MPID                     string            `json:"mpid"` // MPIDReport or MPIDEnforce
	MPIDAttribute            string            `json:"mpid_attribute"`
	MPIDBySerialFile         string            `json:"mpid_by_serial_file"`
	AllowForeignReplacements bool              `json:"allow_foreign_replacements"`
	ResponseCodes            map[string]string `json:"response_codes"`
	MaxRequestBytes          int               `json:"max_request_bytes"`
	// FutureDatedHorizon is how far ahead an ExecutionDateTime may lie;
	// later ones are refused (beyond-horizon).
	FutureDatedHorizon Duration `json:"future_dated_horizon"`
}

// MPID policies Policy.MPID accepts, as package authorise names them.
const (
	MPIDReport  = "report"
	MPIDEnforce = "enforce"
)

// Anomaly configures anomaly detection (product.md §4).
type Anomaly struct {
	// FileSigningCAs are the IKI File Signing CA certificates that Users'
	// File Signing certificates must chain to; FileSigningCertificates
	// are those certificates, looked up by issuer and serial.
	FileSigningCAs          []string `json:"file_signing_cas"`
	FileSigningCertificates []string `json:"file_signing_certificates"`
	// WithoutFile is what limits a User who has no ADT file in force.
	WithoutFile string `json:"without_file"` // WithoutFileZero or WithoutFileNone
	// DCCThresholds are the DCC-wide thresholds, over every User and the
	// CoS Party's own commands, as ADT file rows "SRV,warning,quarantine,interval".
	DCCThresholds []string `json:"dcc_thresholds"`
	// HoldFor is how long a quarantined request waits for a decision
	// before it is deleted.
	HoldFor Duration `json:"hold_for"`
}

// Anomaly.WithoutFile values.
const (
	// WithoutFileZero holds such a User to the June 2023 default: zero
	// for every SRV resulting in a critical command, SR 6.23 included.
	WithoutFileZero = "zero"
	// WithoutFileNone does not limit them.
	WithoutFileNone = "none"
)

// Log configures the operational log and the audit stream.
type Log struct {
	Level  string `json:"level"`  // debug, info, warn or error
	Format string `json:"format"` // json or text
	// Audit is the file the audit stream is appended to; AuditStderr
	// sends it to standard error.
	Audit string `json:"audit"`
}

// Migration configures the TCoS → ECoS migration.
type Migration struct {
	// GoLive is the ECoS Party's go-live day, YYYY-MM-DD: a device the
	// inventory says was installed on or after it must declare which CoS
	// credential it holds. "": no such rule.
	GoLive string `json:"go_live"`
	// Attempts is how many mode 6 commands a device is sent before it is
	// an exception; 0: 5.
	Attempts int `json:"attempts"`
	// RetryBase is the wait after a device's first transient failure,
	// doubled after each (with jitter), up to RetryMax. 0: 1m and 6h.
	RetryBase Duration `json:"retry_base"`
	RetryMax  Duration `json:"retry_max"`
	// Plan is the migration's plan, for the reports (config/plan.go).
	Plan []PlanTarget `json:"plan"`
}

// GoLiveDate is Migration.GoLive as a time (midnight UTC); zero when
// unset. Validate has checked its form.
func (m Migration) GoLiveDate() time.Time {
	t, _ := time.Parse(time.DateOnly, m.GoLive)
	return t
}

// AuditStderr as Log.Audit sends the audit stream to standard error.
const AuditStderr = "-"

// Defaults, documented in docs/config.md.
const (
	DefaultListen          = "127.0.0.1:8079" // DCC Boxed's port, so its tools work unchanged
	DefaultOperatorListen  = "127.0.0.1:8078"
	DefaultHoldFor         = Duration(7 * 24 * time.Hour)
	DefaultSQLiteFile      = "ecos.db"
	DefaultTimeout         = Duration(10 * time.Second)
	DefaultMaxAttempts     = 10
	DefaultMPIDAttribute   = "O"
	DefaultMaxRequestBytes = 64 << 10
	DefaultWorkers         = 32
	DefaultAuditFile       = "audit.log"
	// DefaultFutureDatedHorizon is ten years (of 365 days), as package
	// authorise has it: the RTDS future-dated template, dated 2030, passes.
	DefaultFutureDatedHorizon = Duration(10 * 365 * 24 * time.Hour)
)

// Load reads the configuration file at path: see Parse. Relative paths in
// it are resolved against the file's directory, so the service can be
// started from anywhere.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return parse(data, filepath.Dir(path), path, nil)
}

// LoadPending is Load for a command about to write the files the keys in
// pending name (`ecos keys ecos install` writes keys.ecos.cert): those
// may be absent; everything else is checked as Load checks it.
func LoadPending(path string, pending ...string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return parse(data, filepath.Dir(path), path, pending)
}

// Parse decodes a configuration strictly, applies the defaults, resolves
// relative paths against dir (made absolute) and validates the result. On
// error the Config is nil; a fault in the configuration itself is reported
// as an *Error listing every problem found.
func Parse(data []byte, dir string) (*Config, error) {
	return parse(data, dir, "", nil)
}

func parse(data []byte, dir, file string, pending []string) (*Config, error) {
	c, err := decode(data)
	if err != nil {
		err.File = file
		return nil, err
	}
	c.file = file
	abs, aerr := filepath.Abs(dir)
	if aerr != nil {
		return nil, fmt.Errorf("resolving configuration directory: %w", aerr)
	}
	c.resolve(abs)
	if err := c.validate(pending); err != nil {
		return nil, err
	}
	return c, nil
}

// withDefaults fills in every key the file left out. It goes by presence,
// not by zero value: an explicit `"workers": 0` or `"timeout": "0s"` is kept
// so Validate refuses it, instead of quietly becoming the default.
func (c *Config) withDefaults(present map[string]bool) {
	set := func(key string, apply func()) {
		if !present[key] {
			apply()
		}
	}
	set("listen", func() { c.Listen = DefaultListen })
	set("database.driver", func() { c.Database.Driver = DriverSQLite })
	if c.Database.Driver == DriverSQLite && !present["database.dsn"] && !present["database.dsn_file"] {
		c.Database.DSN = DefaultSQLiteFile
	}
	set("devices.gateway", func() { c.Devices.Gateway = GatewaySim })
	set("devices.timeout", func() { c.Devices.Timeout = DefaultTimeout })
	if c.Devices.Gateway == GatewaySim {
		set("devices.simulated", func() { c.Devices.Simulated = DefaultSimulated })
	}
	set("callback.timeout", func() { c.Callback.Timeout = DefaultTimeout })
	set("callback.max_attempts", func() { c.Callback.MaxAttempts = DefaultMaxAttempts })
	set("policy.mpid", func() { c.Policy.MPID = MPIDReport })
	set("policy.mpid_attribute", func() { c.Policy.MPIDAttribute = DefaultMPIDAttribute })
	set("policy.max_request_bytes", func() { c.Policy.MaxRequestBytes = DefaultMaxRequestBytes })
	set("policy.future_dated_horizon", func() { c.Policy.FutureDatedHorizon = DefaultFutureDatedHorizon })
	set("operator_listen", func() { c.OperatorListen = DefaultOperatorListen })
	set("anomaly.without_file", func() { c.Anomaly.WithoutFile = WithoutFileZero })
	set("anomaly.hold_for", func() { c.Anomaly.HoldFor = DefaultHoldFor })
	set("workers", func() { c.Workers = DefaultWorkers })
	set("log.level", func() { c.Log.Level = "info" })
	set("log.format", func() { c.Log.Format = "json" })
	set("log.audit", func() { c.Log.Audit = DefaultAuditFile })
}

// fileKind says what a path-valued key may name.
type fileKind int

const (
	regularFile fileKind = iota
	fileOrDir
	directory
)

// pathField is one key whose value is a file path. Resolution, the
// existence checks and the docs test all walk this one list, so a new path
// key cannot be resolved but never checked.
type pathField struct {
	key      string
	p        *string
	kind     fileKind
	required bool
}

func (c *Config) pathFields() []pathField {
	var fs []pathField
	pair := func(key string, kp *KeyPair) {
		if kp == nil {
			return
		}
		if kp.PKCS11 != nil {
			// The module is not checked here: it is the HSM vendor's
			// library, found (or not) when the token is opened.
			fs = append(fs, pathField{key + ".pkcs11.pin_file", &kp.PKCS11.PINFile, regularFile, true},
				pathField{key + ".key", &kp.Key, regularFile, false})
		} else {
			fs = append(fs, pathField{key + ".key", &kp.Key, regularFile, true})
		}
		fs = append(fs, pathField{key + ".cert", &kp.Cert, regularFile, true})
	}
	pair("keys.tcos", c.Keys.TCoS)
	pair("keys.ecos", c.Keys.ECoS)
	pair("keys.dsp_xml_sign", &c.Keys.DSPXMLSign)
	if cl := c.Callback.Client; cl != nil {
		fs = append(fs, pathField{"callback.client.key", &cl.Key, regularFile, true},
			pathField{"callback.client.cert", &cl.Cert, regularFile, true})
	}
	// Required only for TLS: validator.tls says so in its own words.
	fs = append(fs,
		pathField{"tls.cert", &c.TLS.Cert, regularFile, false},
		pathField{"tls.key", &c.TLS.Key, regularFile, false})
	list := func(key string, l []string, kind fileKind) {
		for i := range l {
			fs = append(fs, pathField{fmt.Sprintf("%s[%d]", key, i), &l[i], kind, true})
		}
	}
	list("tls.client_cas", c.TLS.ClientCAs, fileOrDir)
	for i := range c.TLS.Users {
		list(fmt.Sprintf("tls.users[%d].certificates", i), c.TLS.Users[i].Certificates, fileOrDir)
	}
	list("trust.organisation_cas", c.Trust.OrganisationCAs, regularFile)
	list("trust.intermediates", c.Trust.Intermediates, fileOrDir)
	list("trust.user_certificates", c.Trust.UserCertificates, fileOrDir)
	list("trust.device_certificates", c.Trust.DeviceCertificates, fileOrDir)
	list("callback.cas", c.Callback.CAs, fileOrDir)
	list("anomaly.file_signing_cas", c.Anomaly.FileSigningCAs, regularFile)
	list("anomaly.file_signing_certificates", c.Anomaly.FileSigningCertificates, fileOrDir)
	fs = append(fs,
		pathField{"operator.token_file", &c.Operator.TokenFile, regularFile, false},
		pathField{"database.dsn_file", &c.Database.DSNFile, regularFile, false},
		pathField{"policy.mpid_by_serial_file", &c.Policy.MPIDBySerialFile, regularFile, false},
		pathField{"devices.pki", &c.Devices.PKI, directory, false},
		pathField{"devices.tcos_anchor", &c.Devices.TCoSAnchor, regularFile, false})
	return fs
}

// resolve makes every relative path absolute under dir. The SQLite DSN and
// the audit file are not in pathFields because they need not exist yet.
func (c *Config) resolve(dir string) {
	join := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for _, f := range c.pathFields() {
		*f.p = join(*f.p)
	}
	if c.Log.Audit != AuditStderr {
		c.Log.Audit = join(c.Log.Audit)
	}
	if c.Database.Driver == DriverSQLite {
		c.Database.DSN = resolveSQLite(c.Database.DSN, join)
	}
}

// resolveSQLite resolves the file in a SQLite DSN, which is a bare path or
// a "file:" URI whose query holds driver parameters.
func resolveSQLite(dsn string, join func(string) string) string {
	rest, isURI := strings.CutPrefix(dsn, "file:")
	if !isURI {
		return join(dsn)
	}
	file, query, hasQuery := strings.Cut(rest, "?")
	// "file://host/…" and "file:/abs" are left alone: only a relative file
	// depends on where the service was started.
	if file == "" || strings.HasPrefix(file, "/") {
		return dsn
	}
	dsn = "file:" + filepath.ToSlash(join(file))
	if hasQuery {
		dsn += "?" + query
	}
	return dsn
}

// DatabaseDSN is the DSN to open the database with: the content of
// database.dsn_file (surrounding white space trimmed) if set, else
// database.dsn. It reads the file each time, so a rotated secret is picked
// up on the next connection.
func (c *Config) DatabaseDSN() (string, error) {
	if c.Database.DSNFile == "" {
		return c.Database.DSN, nil
	}
	b, err := os.ReadFile(c.Database.DSNFile)
	if err != nil {
		return "", fmt.Errorf("database.dsn_file: %w", err)
	}
	dsn := strings.TrimSpace(string(b))
	if dsn == "" {
		return "", fmt.Errorf("database.dsn_file: %s is empty", c.Database.DSNFile)
	}
	return dsn, nil
}

// Path is the file Load read, or "" for a configuration from Parse.
func (c *Config) Path() string { return c.file }

// Warnings are what a valid configuration does that an operator rarely
// means, each a sentence naming the keys; `ecos serve` logs them at start.
func (c *Config) Warnings() []string {
	var w []string
	if c.Anomaly.WithoutFile == WithoutFileZero && len(c.Anomaly.FileSigningCAs) == 0 {
		w = append(w, `anomaly.without_file is "zero" and anomaly.file_signing_cas is empty: `+
			"no User can send an ADT file, so every SR 6.23 will be quarantined; "+
			`configure the IKI File Signing CA, or set anomaly.without_file to "none"`)
	}
	return w
}

// DCCRows reads anomaly.dcc_thresholds. A row's "line" in an error is its
// position in the list, from 1.
func (a *Anomaly) DCCRows() ([]adt.Threshold, error) {
	return adt.ParseRows(a.DCCThresholds)
}

// MinOperatorToken is the shortest operator token accepted, in
// characters: 32 random bytes in base64url are 43.
const MinOperatorToken = 32

// OperatorToken is the content of operator.token_file, surrounding white
// space trimmed; nil when the key is unset. A token shorter than
// MinOperatorToken, or with a character a URL or a header would mangle,
// is refused: it is a password to the whole operator API.
func (c *Config) OperatorToken() ([]byte, error) {
	if c.Operator.TokenFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.Operator.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("operator.token_file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < MinOperatorToken {
		return nil, fmt.Errorf("operator.token_file: %s holds %d characters, fewer than %d: write a random token, for example `head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='`", c.Operator.TokenFile, len(tok), MinOperatorToken)
	}
	for i, r := range tok {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~", r)) {
			return nil, fmt.Errorf("operator.token_file: %s: character %d is not a letter, digit, '-', '_', '.' or '~' (a token travels in URLs and headers)", c.Operator.TokenFile, i+1)
		}
	}
	return []byte(tok), nil
}
