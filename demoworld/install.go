package demoworld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/testpki"
)

// InstallOptions size a demo directory.
type InstallOptions struct {
	Devices int       // simulated meters; 0: 1,000
	Listen  string    // "": config.DefaultListen
	Now     time.Time // zero: time.Now
	// Database is where the demo's parties, meters and registrations go
	// and the service keeps its state; zero: SQLite, ecos.db in the demo
	// directory. A PostgreSQL database must be empty; a DSN carrying a
	// password is written to a file beside the configuration, not into it.
	Database store.Config
	// ADTRows are the SR 6.23 thresholds every demo supplier's first ADT
	// file sets; nil: DefaultADTRows.
	ADTRows []string
	// OperatorListen is the operator API's address; "": the default.
	OperatorListen string
	// PlainHTTP serves the demo's Users over plain HTTP; otherwise over
	// mutual TLS with the certificates in TLSDir.
	PlainHTTP bool
	// Rand makes the operator token; nil: crypto/rand.
	Rand io.Reader
}

// Demo file names inside a demo directory.
const (
	ConfigFile = "ecos.json"
	PKIDir     = "pki"
	// TLSDir holds the Users' listener's test TLS PKI: tls-ca.pem,
	// tls-server.pem and a client certificate per supplier (TLSFiles).
	TLSDir = "tls"
)

// Install makes dir a complete demo installation: a test PKI, a SQLite
// database holding the demo world's parties, meters and registrations,
// an MPID table and the configuration that ties them together. It returns
// the configuration's path. A directory that already holds a demo is
// reused as it is, so a restarted demo keeps its requests and counters;
// any other non-empty directory is refused.
func Install(ctx context.Context, dir string, o InstallOptions) (string, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(cfgPath); err == nil {
		if err := checkDemoTLS(dir, cfgPath); err != nil {
			return "", err
		}
		return cfgPath, upgradeOperatorToken(dir, cfgPath, o.Rand)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%s is not empty and holds no %s: refusing to write a demo into it", dir, ConfigFile)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	w, err := New(Options{Now: o.Now.UTC().Truncate(time.Second), Devices: o.Devices})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := w.PKI.WriteDir(filepath.Join(dir, PKIDir)); err != nil {
		return "", err
	}
	var tp *testpki.TLS
	if !o.PlainHTTP {
		if tp, err = writeDemoTLS(dir, w.PKI, o.Now); err != nil {
			return "", err
		}
	}
	dbCfg := o.Database
	if dbCfg.Driver == "" || dbCfg.Driver == store.DriverSQLite {
		dbCfg = store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "ecos.db")}
	}
	db, err := store.Open(ctx, dbCfg)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return "", err
	}
	if err := db.ImportParties(ctx, w.Parties); err != nil {
		return "", err
	}
	if err := db.ImportDevices(ctx, w.Devices); err != nil {
		return "", err
	}
	if err := db.ImportRegistrations(ctx, w.Registrations); err != nil {
		return "", err
	}
	if err := writeMPIDTable(filepath.Join(dir, "mpid-by-serial.csv"), w.MPIDBySerial); err != nil {
		return "", err
	}
	if err := writeDemoADT(ctx, db, w, dir, o); err != nil {
		return "", err
	}
	if err := writeOperatorToken(dir, o.Rand); err != nil {
		return "", err
	}
	database := map[string]string{"driver": store.DriverSQLite, "dsn": "ecos.db"}
	if dbCfg.Driver == store.DriverPostgres {
		database = map[string]string{"driver": store.DriverPostgres, "dsn_file": "database.dsn"}
		if err := os.WriteFile(filepath.Join(dir, "database.dsn"), []byte(dbCfg.DSN+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	cfg, err := json.MarshalIndent(demoConfig(w.PKI, tp, o, database), "", "  ")
	if err != nil {
		return "", err
	}
	// The configuration is written last: its presence marks a complete demo.
	if err := os.WriteFile(cfgPath, append(cfg, '\n'), 0o600); err != nil {
		return "", err
	}
	return cfgPath, nil
}

// Load is the world of the demo in dir: its PKI, with which requests
// are signed as the demo's suppliers would sign them.
func Load(dir string) (*World, error) {
	p, err := testpki.LoadDir(filepath.Join(dir, PKIDir))
	if err != nil {
		return nil, err
	}
	return New(Options{PKI: p, Devices: 1})
}

func demoConfig(p *testpki.PKI, tp *testpki.TLS, o InstallOptions, database map[string]string) map[string]any {
	pair := func(c *testpki.Credential) map[string]string {
		return map[string]string{"key": filepath.Join(PKIDir, c.Name+".key"), "cert": filepath.Join(PKIDir, c.Name+".pem")}
	}
	var users, fileSigners []string
	for _, s := range p.Suppliers {
		users = append(users, filepath.Join(PKIDir, s.XMLSign.Name+".pem"))
		fileSigners = append(fileSigners, filepath.Join(PKIDir, s.FileSigning.Name+".pem"))
	}
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:8079"
	}
	devices := o.Devices
	if devices == 0 {
		devices = 1000
	}
	cfg := map[string]any{
		"listen":   listen,
		"database": database,
		"keys":     map[string]any{"tcos": pair(p.TCoS), "ecos": pair(p.ECoS), "dsp_xml_sign": pair(p.DSPXMLSign)},
		"trust": map[string]any{
			"organisation_cas":  []string{filepath.Join(PKIDir, p.Root.Name+".pem")},
			"intermediates":     []string{filepath.Join(PKIDir, p.OrgCA.Name+".pem")},
			"user_certificates": users,
		},
		"devices": map[string]any{"gateway": "sim", "pki": PKIDir, "simulated": devices},
		"policy":  map[string]any{"mpid": "enforce", "mpid_by_serial_file": "mpid-by-serial.csv"},
		"anomaly": map[string]any{
			"file_signing_cas":          []string{filepath.Join(PKIDir, p.FileSigningCA.Name+".pem")},
			"file_signing_certificates": fileSigners,
			"dcc_thresholds":            []string{"6.23,1000000,10000000,1440"},
		},
		"log":      map[string]string{"audit": "audit.log", "format": "text"},
		"operator": map[string]string{"token_file": OperatorTokenFile},
		"tls":      map[string]any{"insecure_plain_http": true},
		// Short waits, so a failing meter's retries show within a minute.
		"migration": map[string]string{"retry_base": "5s", "retry_max": "1m"},
	}
	if tp != nil {
		var users []map[string]any
		for _, c := range tp.Clients {
			users = append(users, map[string]any{"user": c.EUI.String(), "certificates": []string{filepath.Join(TLSDir, c.Name+".pem")}})
		}
		cfg["tls"] = map[string]any{
			"cert":       filepath.Join(TLSDir, tp.Server.Name+".pem"),
			"key":        filepath.Join(TLSDir, tp.Server.Name+".key"),
			"client_cas": []string{filepath.Join(TLSDir, tp.CA.Name+".pem")},
			"users":      users,
		}
	}
	if o.OperatorListen != "" {
		cfg["operator_listen"] = o.OperatorListen
	}
	return cfg
}

// writeDemoTLS gives the demo host a server certificate and every demo
// supplier a TLS client certificate registered for it.
func writeDemoTLS(dir string, p *testpki.PKI, now time.Time) (*testpki.TLS, error) {
	var users []eui.EUI
	for _, s := range p.Suppliers {
		users = append(users, s.EUI)
	}
	// A day back, as the demo world's PKI: valid whatever the clocks say.
	tp, err := testpki.GenerateTLS(testpki.TLSOptions{Now: now.Add(-24 * time.Hour), Users: users})
	if err != nil {
		return nil, err
	}
	return tp, tp.WriteDir(filepath.Join(dir, TLSDir))
}

// checkDemoTLS refuses, with what to do, a demo directory made before the
// Users' listener had TLS: its configuration would not start.
func checkDemoTLS(dir, cfgPath string) error {
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var c struct {
		TLS json.RawMessage `json:"tls"`
	}
	if json.Unmarshal(b, &c) == nil && c.TLS == nil {
		return fmt.Errorf("%s was made by an older ecos, without TLS for the Users' listener: remove it, or give --dir a new directory", dir)
	}
	return nil
}

// TLSFiles are the files the demo supplier user of the demo in dir
// presents and trusts on the Users' listener: its TLS client certificate
// and key, and the CA of the demo's server certificate.
func TLSFiles(dir string, user eui.EUI) (cert, key, ca string) {
	d := filepath.Join(dir, TLSDir)
	name := testpki.TLSClientName(user)
	return filepath.Join(d, name+".pem"), filepath.Join(d, name+".key"), filepath.Join(d, "tls-ca.pem")
}

// Client is an API client at baseURL acting as the demo's supplier
// user: over https:// it presents the supplier's TLS client certificate.
func Client(dir string, user eui.EUI, baseURL string) (*api.Client, error) {
	c := &api.Client{BaseURL: baseURL}
	if strings.HasPrefix(baseURL, "https://") {
		var err error
		if c.HTTP, err = api.LoadTLSClient(TLSFiles(dir, user)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// writeDemoADT gives every demo supplier its first ADT file, as if it
// had sent it: in force in the store, and in adt/ for reading.
func writeDemoADT(ctx context.Context, db *store.DB, w *World, dir string, o InstallOptions) error {
	rows := o.ADTRows
	if rows == nil {
		rows = DefaultADTRows
	}
	if err := os.MkdirAll(filepath.Join(dir, "adt"), 0o700); err != nil {
		return err
	}
	for i, s := range w.PKI.Suppliers {
		f, err := w.ADTFile(i+1, 1, rows)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "adt", fmt.Sprintf("supplier-%d.csv", i+1)), f, 0o644); err != nil {
			return err
		}
		if err := db.AcceptADTFile(ctx, store.ADTFile{User: s.EUI, Sequence: 1, Document: f, AcceptedAt: o.Now.UTC(), Source: "demo"}); err != nil {
			return err
		}
	}
	return nil
}

func writeMPIDTable(path string, m map[string]string) error {
	serials := make([]string, 0, len(m))
	for s := range m {
		serials = append(serials, s)
	}
	sort.Strings(serials)
	var b strings.Builder
	b.WriteString("serial,mpid\n")
	for _, s := range serials {
		fmt.Fprintf(&b, "%s,%s\n", s, m[s])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
