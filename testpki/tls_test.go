package testpki

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// TestTLSHandshake: the TLS test PKI's certificates complete a real mutual
// TLS handshake through crypto/tls, for every host name the server
// certificate carries, and are written as loadable files.
func TestTLSHandshake(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	users := []eui.EUI{SupplierEUI(1), SupplierEUI(2)}
	p, err := GenerateTLS(TLSOptions{Now: now, Rand: seeded(7), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	pair := func(c *Credential) tls.Certificate {
		kp, err := tls.LoadX509KeyPair(filepath.Join(dir, c.Name+".pem"), filepath.Join(dir, c.Name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	pool := x509.NewCertPool()
	ca, err := x509.ParseCertificate(p.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	pool.AddCert(ca)
	at := func() time.Time { return now.Add(time.Hour) }
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		client := p.Client(users[1])
		if client == nil || client.EUI != users[1] || client.Name != TLSClientName(users[1]) {
			t.Fatalf("client of %s: %+v", users[1], client)
		}
		a, b := net.Pipe()
		srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{pair(p.Server)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, Time: at})
		cli := tls.Client(b, &tls.Config{Certificates: []tls.Certificate{pair(client)}, RootCAs: pool, ServerName: host, Time: at})
		done := make(chan error, 1)
		go func() {
			err := srv.Handshake()
			if err == nil && len(srv.ConnectionState().PeerCertificates) == 0 {
				err = io.ErrUnexpectedEOF
			}
			done <- err
		}()
		if err := cli.Handshake(); err != nil {
			t.Errorf("%s: client handshake: %v", host, err)
		}
		// A TLS Close would wait for the pipe's other end to read its
		// close_notify; closing the pipe ends nothing of interest.
		b.Close()
		if err := <-done; err != nil {
			t.Errorf("%s: server handshake: %v", host, err)
		}
		a.Close()
	}
}
