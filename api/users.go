package api

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// Users says which User a verified TLS client certificate is registered
// for. The TLS handshake has already checked that the certificate chains
// to a configured client CA; Users decides who it is.
type Users interface {
	User(cert *x509.Certificate) (eui.EUI, bool)
}

// ErrNotOriginator is what Service.Submit wraps for a request whose
// RequestID originator is not the User that sent it. Nothing of such a
// request is stored.
var ErrNotOriginator = errors.New("api: the RequestID's originator is not the User that sent it")

// caller is who sent a request on the Users' listener.
type caller struct {
	user eui.EUI
	// anyone marks a plain-HTTP listener, where nobody is authenticated
	// and so nobody is refused for being someone else.
	anyone bool
}

// owns reports whether the caller may act as, and read the requests of,
// the User originator.
func (c caller) owns(originator eui.EUI) bool { return c.anyone || c.user == originator }

// from is what Service.Submit is told about the sender: nil for anyone.
func (c caller) from() *eui.EUI {
	if c.anyone {
		return nil
	}
	u := c.user
	return &u
}

type callerKey struct{}

// callerOf is the caller authenticate recorded. A request that did not
// pass authenticate has none and owns nothing.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// authenticate finds who r comes from: the User its TLS client
// certificate is registered for, or anyone on a plain-HTTP listener. A
// server with neither (the operator API) authenticates nobody and needs
// no caller.
func (s *server) authenticate(r *http.Request) (*http.Request, error) {
	var c caller
	switch {
	case s.plain:
		c.anyone = true
	case s.users == nil:
		return r, nil
	case r.TLS == nil || len(r.TLS.PeerCertificates) == 0:
		return nil, &httpError{Code: http.StatusForbidden, Msg: "a TLS client certificate registered for a User is required"}
	default:
		u, ok := s.users.User(r.TLS.PeerCertificates[0])
		if !ok {
			return nil, &httpError{Code: http.StatusForbidden, Msg: "this TLS client certificate is not registered for any User"}
		}
		c.user = u
	}
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c)), nil
}

// fileUser parses b as the Thresholds will (an ADT file, or an action
// file when action is set) for the User it is about; ok is false for a
// file that does not parse, which the Thresholds refuse with every problem.
func fileUser(b []byte, action bool) (user eui.EUI, ok bool) {
	if action {
		f, err := adt.ParseAction(b)
		if err != nil {
			return eui.EUI{}, false
		}
		return f.User, true
	}
	f, err := adt.Parse(b)
	if err != nil {
		return eui.EUI{}, false
	}
	return f.User, true
}

// checkFileUser refuses an ADT or action file about another User than the
// caller, before the Thresholds read it further.
func checkFileUser(r *http.Request, b []byte, action bool) error {
	c := callerOf(r)
	if c.anyone {
		return nil
	}
	user, ok := fileUser(b, action)
	if !ok || c.owns(user) {
		return nil
	}
	return &httpError{Code: http.StatusForbidden,
		Msg: "file refused, nothing changed: it is for User " + user.String() + ", and this TLS client certificate is registered for User " + c.user.String()}
}
