package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// connHint adds to a failed connection to the Users' listener what the
// user can do about it: the TLS errors Go reports name the symptom (an
// unknown authority, a closed connection), not the flag that fixes it.
func connHint(err error, url string) error {
	if err == nil {
		return nil
	}
	var unknownCA x509.UnknownAuthorityError
	var host x509.HostnameError
	// A TLS alert from the server arrives as a "remote error" (in TLS 1.3
	// after the handshake, when the server refused the client's
	// certificate: the connection is then simply closed or reset).
	var op *net.OpError
	remote := errors.As(err, &op) && op.Op == "remote error"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w\nno ecos serve answers at %s: start it, or give its address with --url", err, url)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w\nthe server's TLS certificate is not issued by a CA this command trusts: give --tls-ca with the CA that issued it (tls/tls-ca.pem from `ecos pki tls`)", err)
	case errors.As(err, &host):
		return fmt.Errorf("%w\nthe server's TLS certificate does not name the host of %s: use a --url host it names (`ecos pki tls --hosts`)", err, url)
	case strings.HasPrefix(url, "https://") && (remote || cutOff(err)):
		return fmt.Errorf("%w\nthe server ended the TLS connection: it did not accept the TLS client certificate of --tls-cert, which must chain to one of its tls.client_cas and be registered for the User in tls.users", err)
	case strings.HasPrefix(url, "http://") && cutOff(err):
		return fmt.Errorf("%w\nthe server closed a plain HTTP connection: it serves HTTPS unless tls.insecure_plain_http is set; use an https:// --url", err)
	}
	return err
}

// cutOff: the server closed the connection under the request, which the
// client sees as any of these depending on timing.
func cutOff(err error) bool {
	for _, e := range []error{net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
