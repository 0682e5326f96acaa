package service

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/eui"
)

// listeners builds the Users' handler, with how Users authenticate, and
// the operator handler, which alone serves /metrics.
func (s *Service) listeners(c *config.Config, reg *prometheus.Registry) error {
	ac := api.Config{Service: edge{s.pipeline}, Thresholds: s.thresholds, Log: s.log, Registerer: reg,
		MaxBody: c.Policy.MaxRequestBytes, Now: s.now, Stopping: s.stopping}
	if c.TLS.InsecurePlainHTTP {
		ac.PlainHTTP = true
	} else {
		tc, users, err := loadUsersTLS(c.TLS, s.now(), s.log)
		if err != nil {
			return err
		}
		s.usersTLS, ac.Users = tc, users
	}
	var err error
	if s.handler, err = api.New(ac); err != nil {
		return err
	}
	token, err := c.OperatorToken()
	if err != nil {
		return err
	}
	if token == nil && c.OperatorListen != "" {
		s.log.Warn("operator.token_file is not set: the operator listener serves /metrics and /healthz but refuses every operator API route and dashboard page",
			"operator_listen", c.OperatorListen)
	}
	dash, err := s.dashboard(reg)
	if err != nil {
		return err
	}
	s.operator, err = api.NewOperator(api.OperatorConfig{Thresholds: s.thresholds, Migration: s.migrationOperator, Log: s.log, Gatherer: reg,
		MPIDReports: s.db, Token: token, Dashboard: dash})
	return err
}

// usersListener wraps ln in the Users' TLS, or says loudly that there is
// none.
func (s *Service) usersListener(ln net.Listener) net.Listener {
	if s.usersTLS == nil {
		s.log.Warn("the Users' listener serves plain HTTP (tls.insecure_plain_http): nobody is authenticated, so anyone who reaches it reads every User's responses and may submit as any User whose signing key they hold, and requests and responses cross the network in clear",
			"listen", ln.Addr().String())
		return ln
	}
	return tls.NewListener(ln, s.usersTLS)
}

// certUsers maps a TLS client certificate, by the SHA-256 of its DER, to
// the User it is registered for.
type certUsers map[[sha256.Size]byte]eui.EUI

var _ api.Users = certUsers{}

func (u certUsers) User(c *x509.Certificate) (eui.EUI, bool) {
	id, ok := u[sha256.Sum256(c.Raw)]
	return id, ok
}

// loadUsersTLS reads the tls section: the server's key pair, the client
// CAs and every registered client certificate, each checked against the
// CAs at now so that one that could never connect fails at start. One that
// has merely expired (or is not yet valid) is left out with a warning: it
// could not complete a handshake, and the other Users should not wait
// for its renewal.
func loadUsersTLS(c config.TLS, now time.Time, log *slog.Logger) (*tls.Config, certUsers, error) {
	server, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls.cert and tls.key: %w", err)
	}
	cas := x509.NewCertPool()
	for i, path := range c.ClientCAs {
		certs, err := readCerts(path)
		if err != nil {
			return nil, nil, fmt.Errorf("tls.client_cas[%d]: %w", i, err)
		}
		for _, ca := range certs {
			cas.AddCert(ca)
		}
	}
	users := certUsers{}
	for i, u := range c.Users {
		id, err := eui.Parse(u.User)
		if err != nil {
			return nil, nil, fmt.Errorf("tls.users[%d].user: %w", i, err)
		}
		for j, path := range u.Certificates {
			key := fmt.Sprintf("tls.users[%d].certificates[%d]", i, j)
			certs, err := readCerts(path)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", key, err)
			}
			for _, cert := range certs {
				_, err := cert.Verify(x509.VerifyOptions{Roots: cas, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
				if ci, ok := errors.AsType[x509.CertificateInvalidError](err); ok && ci.Reason == x509.Expired {
					log.Warn("a registered TLS client certificate is outside its validity period: its User cannot connect with it",
						"key", key, "user", id.String(), "subject", cert.Subject.String(), "not_before", cert.NotBefore, "not_after", cert.NotAfter)
					continue
				}
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %s cannot authenticate User %s: %w", key, cert.Subject, id, err)
				}
				sum := sha256.Sum256(cert.Raw)
				if other, dup := users[sum]; dup && other != id {
					return nil, nil, fmt.Errorf("%s: %s is registered for User %s as well as %s: a certificate identifies one User", key, cert.Subject, other, id)
				}
				users[sum] = id
			}
		}
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    cas,
	}, users, nil
}

// loadPushTLS is how the pusher reaches receivers: their CAs (none: the
// system's) and the client certificate it presents, if any.
func loadPushTLS(c config.Callback) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(c.CAs) > 0 {
		t.RootCAs = x509.NewCertPool()
	}
	for i, path := range c.CAs {
		certs, err := readCerts(path)
		if err != nil {
			return nil, fmt.Errorf("callback.cas[%d]: %w", i, err)
		}
		for _, ca := range certs {
			t.RootCAs.AddCert(ca)
		}
	}
	if c.Client != nil {
		pair, err := tls.LoadX509KeyPair(c.Client.Cert, c.Client.Key)
		if err != nil {
			return nil, fmt.Errorf("callback.client: %w", err)
		}
		t.Certificates = []tls.Certificate{pair}
	}
	return t, nil
}

// readCerts reads every certificate in a PEM file, or in every *.pem file
// of a directory.
func readCerts(path string) ([]*x509.Certificate, error) {
	files := []string{path}
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if fi.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.pem")); err != nil {
			return nil, err
		}
	}
	var out []*x509.Certificate
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		n := 0
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, cert)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s holds no PEM certificate", f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New(path + " holds no .pem file")
	}
	return out, nil
}
