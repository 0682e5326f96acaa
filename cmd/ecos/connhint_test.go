package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestConnHint: each way a connection to the Users' listener fails is
// told with what fixes it; anything else is left as it was.
func TestConnHint(t *testing.T) {
	dial := func(err error) error {
		return fmt.Errorf("api: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)})
	}
	for _, tc := range []struct {
		name, url string
		err       error
		want      string // "" for unchanged
	}{
		{"refused", "https://127.0.0.1:1", dial(syscall.ECONNREFUSED), "no ecos serve answers at https://127.0.0.1:1: start it, or give its address with --url"},
		{"unknown CA", "https://h", fmt.Errorf("api: %w", x509.UnknownAuthorityError{}), "give --tls-ca with the CA that issued it"},
		{"host", "https://h", fmt.Errorf("api: %w", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}), "does not name the host of https://h"},
		{"alert", "https://h", &net.OpError{Op: "remote error", Err: errors.New("tls: unknown certificate authority")}, "did not accept the TLS client certificate of --tls-cert"},
		{"closed", "https://h", fmt.Errorf("api: %w", net.ErrClosed), "did not accept the TLS client certificate"},
		{"EOF", "https://h", fmt.Errorf("api: %w", io.EOF), "did not accept the TLS client certificate"},
		{"broken pipe", "https://h", dial(syscall.EPIPE), "did not accept the TLS client certificate"},
		{"plain to TLS", "http://h", dial(syscall.ECONNRESET), "use an https:// --url"},
		{"plain to TLS, closed", "http://h", fmt.Errorf("api: reading the answer: %w", net.ErrClosed), "use an https:// --url"},
		{"other", "https://h", errors.New("api: server answered 500"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := connHint(tc.err, tc.url)
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not wrap %v", got, tc.err)
			}
			if tc.want == "" && got.Error() != tc.err.Error() || tc.want != "" && !strings.Contains(got.Error(), tc.want) {
				t.Errorf("connHint = %q, want %q", got, tc.want)
			}
		})
	}
	if connHint(nil, "https://h") != nil {
		t.Error("connHint(nil) != nil")
	}
}
