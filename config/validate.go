package config

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
)

// Ranges Validate enforces, documented in docs/config.md.
const (
	MinWorkers         = 1
	MaxWorkers         = 256
	MaxSimulated       = 10_000_000
	MinRequestBytes    = 1 << 10
	MaxRequestBytes    = 16 << 20
	MaxCallbackAttempt = 100
)

// Validate checks the whole configuration and returns an *Error listing
// every problem, or nil. It does not apply defaults (Parse does, before
// calling it) and reads no secret; of the files named, it checks only that
// they exist and are of the right kind.
func (c *Config) Validate() error { return c.validate(nil) }

// validate is Validate with the keys whose files may be absent.
func (c *Config) validate(pending []string) error {
	v := &validator{pending: pending}
	v.listen("listen", c.Listen, true)
	v.listen("operator_listen", c.OperatorListen, false)
	// Port 0 twice is two ports: the kernel picks one for each listener.
	if _, port, _ := net.SplitHostPort(c.Listen); c.OperatorListen != "" && c.OperatorListen == c.Listen && port != "0" {
		v.add("operator_listen", "is the same address as listen: the operator API must not be reachable where Users are")
	}
	v.tls(&c.TLS)
	v.database(&c.Database)
	v.keys(&c.Keys)
	v.trust(&c.Trust, c.Devices.PKI != "")
	v.files(c.pathFields())
	v.devices(&c.Devices)
	v.callback(&c.Callback, &c.TLS)
	v.policy(&c.Policy)
	v.anomaly(&c.Anomaly)
	v.intRange("workers", c.Workers, MinWorkers, MaxWorkers)
	v.log(&c.Log)
	if _, err := time.Parse(time.DateOnly, c.Migration.GoLive); c.Migration.GoLive != "" && err != nil {
		v.add("migration.go_live", "%q: want a day, YYYY-MM-DD", c.Migration.GoLive)
	}
	if m := c.Migration; m.Attempts < 0 || m.Attempts > 100 {
		v.add("migration.attempts", "%d: want 1 to 100 (0: the default, 5)", m.Attempts)
	}
	if m := c.Migration; m.RetryBase < 0 || m.RetryMax < 0 || (m.RetryMax > 0 && m.RetryMax < m.RetryBase) {
		v.add("migration.retry_max", "want retry_base ≥ 0 and retry_max ≥ retry_base")
	}
	v.plan(c.Migration.Plan)
	if len(v.problems) == 0 {
		return nil
	}
	// Report in the order of the sections in the file (docs/config.md),
	// whatever order the checks ran in.
	slices.SortStableFunc(v.problems, func(a, b Problem) int {
		return sectionRank(a.Key) - sectionRank(b.Key)
	})
	return &Error{File: c.file, Problems: v.problems}
}

// sectionRank is the position in Config of the top-level key of key.
func sectionRank(key string) int {
	top, _, _ := strings.Cut(key, ".")
	top, _, _ = strings.Cut(top, "[")
	for i, name := range topLevelKeys {
		if name == top {
			return i
		}
	}
	return len(topLevelKeys)
}

var topLevelKeys = func() []string {
	var keys []string
	for f := range configType.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && f.IsExported() {
			keys = append(keys, name)
		}
	}
	return keys
}()

type validator struct {
	problems []Problem
	pending  []string // keys whose files a command is about to write
}

func (v *validator) add(key, format string, a ...any) {
	v.problems = append(v.problems, Problem{Key: key, Msg: fmt.Sprintf(format, a...)})
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		v.add(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
	}
}

func (v *validator) intRange(key string, val, lo, hi int) {
	if val < lo || val > hi {
		v.add(key, "%d is out of range %d–%d", val, lo, hi)
	}
}

func (v *validator) listen(key, addr string, required bool) {
	if addr == "" {
		if required {
			v.add(key, "required")
		}
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(key, "%q is not host:port", addr)
		return
	}
	// Numeric only: a service name would depend on /etc/services.
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(n, 10) != port {
		v.add(key, "port %q is not a number from 0 to 65535", port)
	}
}

func (v *validator) anomaly(a *Anomaly) {
	v.oneOf("anomaly.without_file", a.WithoutFile, WithoutFileZero, WithoutFileNone)
	v.positive("anomaly.hold_for", a.HoldFor)
	if (len(a.FileSigningCAs) == 0) != (len(a.FileSigningCertificates) == 0) {
		v.add("anomaly", "give both file_signing_cas and file_signing_certificates, or neither (then no ADT file can be accepted)")
	}
	_, err := a.DCCRows()
	if ps, ok := errors.AsType[*adt.Problems](err); ok {
		slices.SortStableFunc(*ps, func(a, b adt.Problem) int { return a.Line - b.Line })
		for _, p := range *ps {
			v.add(fmt.Sprintf("anomaly.dcc_thresholds[%d]", p.Line-1), "%s", p.Msg)
		}
	} else if err != nil {
		v.add("anomaly.dcc_thresholds", "%v", err)
	}
}

// tls wants mutual TLS, or plain HTTP asked for by name: never plain HTTP
// because a section was forgotten.
func (v *validator) tls(t *TLS) {
	tlsGiven := t.Cert != "" || t.Key != "" || len(t.ClientCAs) > 0 || len(t.Users) > 0
	switch {
	case t.InsecurePlainHTTP && tlsGiven:
		v.add("tls", "insecure_plain_http excludes cert, key, client_cas and users: keep one or the other")
		return
	case t.InsecurePlainHTTP:
		return
	case !tlsGiven:
		v.add("tls", `required: add "tls": {"cert", "key", "client_cas", "users"} for mutual TLS with the Users (docs/config.md), or "tls": {"insecure_plain_http": true} to serve them over plain HTTP, unauthenticated`)
		return
	}
	if t.Cert == "" {
		v.add("tls.cert", "required: the server certificate (PEM)")
	}
	if t.Key == "" {
		v.add("tls.key", "required: the server certificate's private key (PEM)")
	}
	if len(t.ClientCAs) == 0 {
		v.add("tls.client_cas", "required: at least one CA that issues the Users' TLS client certificates")
	}
	if len(t.Users) == 0 {
		v.add("tls.users", "required: at least one User and its TLS client certificates")
	}
	seen := map[eui.EUI]int{}
	for i, u := range t.Users {
		key := fmt.Sprintf("tls.users[%d]", i)
		id, err := eui.Parse(u.User)
		switch {
		case err != nil:
			v.add(key+".user", "%q is not an EUI-64 such as 90-B3-D5-1F-30-01-00-00", u.User)
		case seen[id] > 0:
			v.add(key+".user", "%s is already listed as tls.users[%d]: list all its certificates there", id, seen[id]-1)
		default:
			seen[id] = i + 1
		}
		if len(u.Certificates) == 0 {
			v.add(key+".certificates", "required: at least one certificate file or directory")
		}
	}
}

func (v *validator) database(d *Database) {
	switch d.Driver {
	case DriverSQLite:
		if d.DSNFile != "" {
			v.add("database.dsn_file", "only used with driver %q: a SQLite file is not a secret, give it as dsn", DriverPostgres)
		}
		switch {
		case d.DSN == "":
			v.add("database.dsn", "required: the SQLite file")
		case isPostgresURL(d.DSN):
			v.add("database.dsn", "is a PostgreSQL URL but driver is %q", DriverSQLite)
		}
	case DriverPostgres:
		switch {
		case d.DSN == "" && d.DSNFile == "":
			v.add("database", "driver %q needs dsn or dsn_file", DriverPostgres)
		case d.DSN != "" && d.DSNFile != "":
			v.add("database", "give dsn or dsn_file, not both")
		case d.DSN != "":
			v.postgresDSN(d.DSN)
		}
	default:
		v.oneOf("database.driver", d.Driver, DriverSQLite, DriverPostgres)
	}
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// postgresDSN allows an inline DSN only as a URL with no password, so a
// secret can never end up in the configuration file.
func (v *validator) postgresDSN(dsn string) {
	u, err := url.Parse(dsn)
	if err != nil || !isPostgresURL(dsn) {
		v.add("database.dsn", "must be a postgres:// URL; put any other form in dsn_file")
		return
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		v.add("database.dsn", "contains a password; put the DSN in dsn_file instead")
	}
}

func (v *validator) keys(k *Keys) {
	if k.TCoS == nil && k.ECoS == nil {
		v.add("keys", "need tcos, ecos or both")
	}
	for _, kp := range []struct {
		key string
		kp  *KeyPair
	}{{"keys.tcos", k.TCoS}, {"keys.ecos", k.ECoS}, {"keys.dsp_xml_sign", &k.DSPXMLSign}} {
		if kp.kp == nil || kp.kp.PKCS11 == nil {
			continue
		}
		p := kp.kp.PKCS11
		if kp.kp.Key != "" {
			v.add(kp.key, "give key (a file) or pkcs11 (a token), not both")
		}
		for _, f := range []struct{ name, val string }{{"module", p.Module}, {"token_label", p.TokenLabel}} {
			if f.val == "" {
				v.add(kp.key+".pkcs11."+f.name, "required")
			}
		}
		if p.KeyLabel == "" && p.KeyID == "" {
			v.add(kp.key+".pkcs11.key_label", "required (or key_id)")
		}
		if _, err := p.ID(); err != nil {
			v.add(kp.key+".pkcs11.key_id", "%v", err)
		}
		if p.Sessions != 0 {
			v.intRange(kp.key+".pkcs11.sessions", p.Sessions, 2, 1024)
		}
	}
}

func (v *validator) trust(t *Trust, simulatedKeys bool) {
	for _, l := range []struct {
		key  string
		list []string
	}{
		{"trust.organisation_cas", t.OrganisationCAs},
		{"trust.user_certificates", t.UserCertificates},
		{"trust.device_certificates", t.DeviceCertificates},
	} {
		if len(l.list) == 0 && !(l.key == "trust.device_certificates" && simulatedKeys) {
			v.add(l.key, "required: at least one entry (or devices.pki for simulated devices)")
		}
	}
}

// files checks that every named file exists and is of the right kind. A
// Stat per file is cheap; reading and parsing them is the loaders' job.
func (v *validator) files(fields []pathField) {
	for _, f := range fields {
		p := *f.p
		if p == "" {
			if f.required {
				v.add(f.key, "required")
			}
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && slices.Contains(v.pending, f.key):
		case errors.Is(err, fs.ErrNotExist):
			v.add(f.key, "file %s does not exist", p)
		case err != nil:
			v.add(f.key, "%v", err)
		case fi.IsDir() && f.kind == regularFile:
			v.add(f.key, "%s is a directory, not a file", p)
		case !fi.IsDir() && f.kind == directory:
			v.add(f.key, "%s is a file, not a directory", p)
		}
	}
}

func (v *validator) devices(d *Devices) {
	switch d.Gateway {
	case GatewaySim:
		if d.URL != "" {
			v.add("devices.url", "only used with gateway %q", GatewayHTTP)
		}
		v.intRange("devices.simulated", d.Simulated, 1, MaxSimulated)
	case GatewayHTTP:
		if d.URL == "" {
			v.add("devices.url", "required with gateway %q", GatewayHTTP)
		} else {
			v.httpURL("devices.url", d.URL)
		}
		if d.Simulated != 0 {
			v.add("devices.simulated", "only used with gateway %q", GatewaySim)
		}
		if len(d.Faults) > 0 {
			v.add("devices.faults", "only used with gateway %q", GatewaySim)
		}
		if d.TCoSAnchor != "" {
			v.add("devices.tcos_anchor", "only used with gateway %q", GatewaySim)
		}
	default:
		v.oneOf("devices.gateway", d.Gateway, GatewaySim, GatewayHTTP)
	}
	v.positive("devices.timeout", d.Timeout)
	for _, id := range slices.Sorted(maps.Keys(d.Faults)) {
		if _, err := eui.Parse(id); err != nil {
			v.add("devices.faults", "%q is not an EUI-64: %v", id, err)
		}
		kind := strings.TrimSuffix(d.Faults[id], "-once")
		if !slices.Contains(SimulatedFaults, kind) {
			v.add("devices.faults", "%s: %q is not a fault (want one of %s, optionally with -once)", id, d.Faults[id], strings.Join(SimulatedFaults, ", "))
		}
	}
}

// callback wants each User's URL to be its own: a User the TLS listener
// does not know cannot have requests to be answered, and one User under
// two spellings would be two entries for one endpoint.
func (v *validator) callback(c *Callback, t *TLS) {
	if c.RelayURL != "" {
		v.httpURL("callback.relay_url", c.RelayURL)
		if len(c.Users) > 0 {
			v.add("callback.relay_url", "excludes callback.users: the relay would receive the documents the Users' own endpoints receive; keep one or the other")
		}
	}
	registered := map[eui.EUI]bool{}
	for _, u := range t.Users {
		if id, err := eui.Parse(u.User); err == nil {
			registered[id] = true
		}
	}
	seen := map[eui.EUI]string{}
	for _, k := range slices.Sorted(maps.Keys(c.Users)) {
		key := "callback.users." + k
		v.httpURL(key, c.Users[k])
		id, err := eui.Parse(k)
		switch {
		case err != nil:
			v.add(key, "%q is not an EUI-64 such as 90-B3-D5-1F-30-01-00-00", k)
		case seen[id] != "":
			v.add(key, "is User %s again, already given as %q: one URL per User", id, seen[id])
		case len(t.Users) > 0 && !registered[id]:
			v.add(key, "User %s is not in tls.users: it cannot connect, so it has no requests to be answered", id)
		}
		if err == nil && seen[id] == "" {
			seen[id] = k
		}
	}
	v.positive("callback.timeout", c.Timeout)
	v.intRange("callback.max_attempts", c.MaxAttempts, 1, MaxCallbackAttempt)
}

func (v *validator) positive(key string, d Duration) {
	if d <= 0 {
		v.add(key, "must be more than 0s")
	}
}

// httpURL accepts an absolute http(s) URL without credentials, which would
// be a secret inline.
func (v *validator) httpURL(key, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		v.add(key, "%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(key, "%q is not an http:// or https:// URL", s)
	case u.Host == "":
		v.add(key, "%q has no host", s)
	case u.User != nil:
		v.add(key, "must not carry credentials")
	}
}

func (v *validator) policy(p *Policy) {
	v.oneOf("policy.mpid", p.MPID, MPIDReport, MPIDEnforce)
	if _, err := p.MPIDAttributeOID(); err != nil {
		v.add("policy.mpid_attribute", "%v", err)
	}
	// One reason at a time, in name order: ecoserr.NewCodes stops at the
	// first bad entry, and map order would make which one random.
	names := make([]string, 0, len(p.ResponseCodes))
	for name := range p.ResponseCodes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := ecoserr.NewCodes(map[string]string{name: p.ResponseCodes[name]}); err != nil {
			msg := strings.TrimPrefix(err.Error(), "response codes: ")
			v.add("policy.response_codes."+name, "%s", strings.TrimPrefix(msg, name+": "))
		}
	}
	v.intRange("policy.max_request_bytes", p.MaxRequestBytes, MinRequestBytes, MaxRequestBytes)
	v.positive("policy.future_dated_horizon", p.FutureDatedHorizon)
}

func (v *validator) log(l *Log) {
	v.oneOf("log.level", l.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", l.Format, "json", "text")
	switch l.Audit {
	case "":
		v.add("log.audit", "required: a file, or %q for standard error", AuditStderr)
	case AuditStderr:
	default:
		// The file itself is created on first start; its directory is not.
		if fi, err := os.Stat(l.Audit); err == nil && fi.IsDir() {
			v.add("log.audit", "%s is a directory, not a file", l.Audit)
		} else if fi, err := os.Stat(filepath.Dir(l.Audit)); err != nil || !fi.IsDir() {
			v.add("log.audit", "directory %s does not exist", filepath.Dir(l.Audit))
		}
	}
}

// attributeOIDs are the RFC 2253 short names (as smki prints subjects).
var attributeOIDs = map[string]asn1.ObjectIdentifier{
	"CN":     {2, 5, 4, 3},
	"L":      {2, 5, 4, 7},
	"ST":     {2, 5, 4, 8},
	"O":      {2, 5, 4, 10},
	"OU":     {2, 5, 4, 11},
	"C":      {2, 5, 4, 6},
	"STREET": {2, 5, 4, 9},
	"DC":     {0, 9, 2342, 19200300, 100, 1, 25},
	"UID":    {0, 9, 2342, 19200300, 100, 1, 1},
}

// MPIDAttributeOID is the subject attribute mpid_attribute names: an RFC
// 2253 short name ("O", "OU", …) or a dotted OID ("2.5.4.97").
func (p Policy) MPIDAttributeOID() (asn1.ObjectIdentifier, error) {
	if oid, ok := attributeOIDs[p.MPIDAttribute]; ok {
		return oid, nil
	}
	parts := strings.Split(p.MPIDAttribute, ".")
	oid := make(asn1.ObjectIdentifier, 0, len(parts))
	for _, s := range parts {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || strconv.Itoa(n) != s {
			oid = nil
			break
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("%q is neither an RFC 2253 attribute name (CN, O, OU, …) nor a dotted OID", p.MPIDAttribute)
	}
	return oid, nil
}
