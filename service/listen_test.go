package service

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/testpki"
)

// TestLoadUsersTLS: what the tls section names is read and checked at
// start, and each fault is a sentence naming its key.
func TestLoadUsersTLS(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a, b := testpki.SupplierEUI(1), testpki.SupplierEUI(2)
	dir := t.TempDir()
	gen := func(sub string, at time.Time) string {
		p, err := testpki.GenerateTLS(testpki.TLSOptions{Now: at, Users: []eui.EUI{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, sub)
		if err := p.WriteDir(d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	good, other, old := gen("good", now.AddDate(0, -1, 0)), gen("other", now.AddDate(0, -1, 0)), gen("old", now.AddDate(-3, 0, 0))
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(d, name string) string { return filepath.Join(d, name) }
	client := func(d string, n int) string { return f(d, testpki.TLSClientName(testpki.SupplierEUI(n))+".pem") }
	base := func() config.TLS {
		return config.TLS{Cert: f(good, "tls-server.pem"), Key: f(good, "tls-server.key"), ClientCAs: []string{f(good, "tls-ca.pem")},
			Users: []config.TLSUser{{User: a.String(), Certificates: []string{client(good, 1)}}, {User: b.String(), Certificates: []string{client(good, 2)}}}}
	}
	tests := []struct {
		name string
		edit func(*config.TLS)
		want string
	}{
		{"key of another certificate", func(c *config.TLS) { c.Key = f(other, "tls-server.key") }, "tls.cert and tls.key: "},
		{"client CA not PEM", func(c *config.TLS) { c.ClientCAs = []string{f(dir, "empty.pem")} }, "tls.client_cas[0]: " + f(dir, "empty.pem") + " holds no PEM certificate"},
		{"from another CA", func(c *config.TLS) { c.Users[1].Certificates = []string{client(other, 2)} }, "tls.users[1].certificates[0]: CN=EE-C0-5E-00-01-00-00-02 cannot authenticate User EE-C0-5E-00-01-00-00-02"},
		{"one certificate, two Users", func(c *config.TLS) { c.Users[1].Certificates = []string{client(good, 1)} }, "is registered for User EE-C0-5E-00-01-00-00-01 as well as EE-C0-5E-00-01-00-00-02: a certificate identifies one User"},
		{"a directory of none", func(c *config.TLS) { c.Users[0].Certificates = []string{t.TempDir()} }, "tls.users[0].certificates[0]: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			_, _, err := loadUsersTLS(c, now, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("expired is left out with a warning", func(t *testing.T) {
		c := base()
		c.Users[1].Certificates = []string{client(good, 2), client(old, 2)}
		c.ClientCAs = append(c.ClientCAs, f(old, "tls-ca.pem"))
		var logs bytes.Buffer
		tc, users, err := loadUsersTLS(c, now, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil || tc == nil {
			t.Fatal(err)
		}
		if len(users) != 2 || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "tls.users[1].certificates[1]") {
			t.Errorf("%d registered, log:\n%s", len(users), logs.String())
		}
	})
}

// TestLoadPushTLS: the receivers' CAs and the pusher's client certificate
// are read at start, and each fault is a sentence naming its key.
func TestLoadPushTLS(t *testing.T) {
	dir := t.TempDir()
	p, err := testpki.GenerateTLS(testpki.TLSOptions{Now: time.Now(), Users: []eui.EUI{testpki.SupplierEUI(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	client := f(testpki.TLSClientName(testpki.SupplierEUI(1)))
	good := config.Callback{CAs: []string{f("tls-ca.pem")}, Client: &config.FileKeyPair{Cert: client + ".pem", Key: client + ".key"}}
	tc, err := loadPushTLS(good)
	if err != nil || tc.RootCAs == nil || len(tc.Certificates) != 1 {
		t.Fatalf("loadPushTLS = %+v, %v", tc, err)
	}
	if tc, err := loadPushTLS(config.Callback{}); err != nil || tc.RootCAs != nil || len(tc.Certificates) != 0 {
		t.Errorf("nothing configured: %+v, %v; want the system's CAs and no certificate", tc, err)
	}
	for name, c := range map[string]config.Callback{
		"callback.cas[0]: " + f("empty.pem") + " holds no PEM certificate": {CAs: []string{f("empty.pem")}},
		"callback.client: ": {Client: &config.FileKeyPair{Cert: client + ".pem", Key: f("tls-server.key")}},
	} {
		if _, err := loadPushTLS(c); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("err = %v, want it to start %q", err, name)
		}
	}
}
