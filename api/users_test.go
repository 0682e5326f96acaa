package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/eui"
)

// registered is Users over certificates told apart by their raw bytes.
type registered map[string]eui.EUI

func (r registered) User(c *x509.Certificate) (eui.EUI, bool) {
	u, ok := r[string(c.Raw)]
	return u, ok
}

var (
	userA   = eui.MustParse("90-B3-D5-1F-30-01-00-00") // reqID's originator
	userB   = eui.MustParse("90-B3-D5-1F-30-02-00-00")
	certA   = &x509.Certificate{Raw: []byte("A")}
	certB   = &x509.Certificate{Raw: []byte("B")}
	certOut = &x509.Certificate{Raw: []byte("unregistered")}
	// bReqID is a request of User B's, known to the service.
	bReqID = "90-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A0:1006"
)

func mtlsEnv(t *testing.T, svc Service, th Thresholds) testEnv {
	return newEnv(t, svc, func(c *Config) {
		c.PlainHTTP = false
		c.Users = registered{"A": userA, "B": userB}
		c.Thresholds = th
	})
}

// as sends a request presenting cert (nil: no TLS at all).
func (e testEnv) as(cert *x509.Certificate, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.TLS = nil
	if cert != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	}
	return e.doRequest(r)
}

// TestUnauthenticatedRefused: without a registered client certificate no
// route does anything, whatever it is asked.
func TestUnauthenticatedRefused(t *testing.T) {
	svc := &fakeService{} // every call fails the test's expectations
	th := &fakeThresholds{}
	env := mtlsEnv(t, svc, th)
	for _, cert := range []*x509.Certificate{nil, certOut} {
		for _, route := range []struct{ method, target string }{
			{"POST", "/api/v1/serviceS"},
			{"GET", "/api/v1/requests/" + reqID},
			{"GET", "/api/v1/requests/" + reqID + "/responses/1"},
			{"GET", "/api/v1/responses/" + reqID + "?wait=1s"},
			{"POST", "/api/v1/adt"},
			{"POST", "/api/v1/quarantine/actions"},
		} {
			rec := env.as(cert, route.method, route.target, "<req/>")
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "TLS client certificate") {
				t.Errorf("%s %s with %v: %d %q, want 403 naming the certificate", route.method, route.target, cert, rec.Code, rec.Body)
			}
		}
	}
	if len(svc.from) != 0 || th.source != "" {
		t.Errorf("the service or thresholds were reached: %v %q", svc.from, th.source)
	}
}

// TestSubmitAsSelf: the service is told who sent the request, and its
// refusal of another originator is a 403 that stored nothing.
func TestSubmitAsSelf(t *testing.T) {
	svc := &fakeService{submit: func(context.Context, []byte) (Ack, error) {
		return Ack{}, errors.Join(ErrNotOriginator, errors.New("originator 90-B3-D5-1F-30-02-00-00"))
	}}
	env := mtlsEnv(t, svc, nil)
	rec := env.as(certA, "POST", "/api/v1/serviceS", "<req/>")
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "nothing stored: its RequestID's originator is not 90-B3-D5-1F-30-01-00-00") {
		t.Errorf("another originator: %d %q", rec.Code, rec.Body)
	}
	if len(svc.from) != 1 || svc.from[0] == nil || *svc.from[0] != userA {
		t.Errorf("Submit told from = %v, want %s", svc.from, userA)
	}
	// On plain HTTP nobody is authenticated, and the service is told so.
	plain := &fakeService{submit: svc.submit}
	newEnv(t, plain).do("POST", "/api/v1/serviceS", strings.NewReader("<req/>"))
	if len(plain.from) != 1 || plain.from[0] != nil {
		t.Errorf("plain HTTP: Submit told from = %v, want nil", plain.from)
	}
}

// TestReadOnlyOwnRequests: another User's RequestID, known to the service,
// is answered exactly as an unknown one, on every reading route, without
// the service being asked; the owner reads it.
func TestReadOnlyOwnRequests(t *testing.T) {
	b := completed()
	b.RequestID = bReqID
	st := newStatuses(b)
	lookups := 0
	svc := &fakeService{lookup: func(ctx context.Context, id string) (Status, error) {
		lookups++
		return st.lookup(ctx, id)
	}, waitFinal: func(context.Context, string) error { return nil }}
	env := mtlsEnv(t, svc, nil)
	unknownA := "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:4242"
	for _, path := range []string{"/api/v1/requests/%s", "/api/v1/requests/%s/responses/2", "/api/v1/responses/%s", "/api/v1/responses/%s?wait=1s"} {
		other := env.as(certA, "GET", strings.Replace(path, "%s", bReqID, 1), "")
		before := lookups
		unknown := env.as(certA, "GET", strings.Replace(path, "%s", unknownA, 1), "")
		if lookups == before {
			t.Errorf("%s: the unknown request was not looked up", path)
		}
		if other.Code != http.StatusNotFound || other.Code != unknown.Code || other.Body.String() != unknown.Body.String() ||
			other.Header().Get("Content-Type") != unknown.Header().Get("Content-Type") {
			t.Errorf("%s: another User's request %d %q, an unknown one %d %q", path, other.Code, other.Body, unknown.Code, unknown.Body)
		}
		if own := env.as(certB, "GET", strings.Replace(path, "%s", bReqID, 1), ""); own.Code != http.StatusOK {
			t.Errorf("%s: the owner reads its request: %d %q", path, own.Code, own.Body)
		}
	}
	lookups = 0
	env.as(certA, "GET", "/api/v1/requests/"+bReqID, "")
	if lookups != 0 {
		t.Errorf("another User's RequestID was looked up %d times", lookups)
	}
}

// adtFor is a structurally valid ADT file (unsigned in substance) about
// user; action makes it an action file.
func adtFor(user eui.EUI, action bool) string {
	sig := "Signature,CN%3DIKI+File+Signing+CA%2C+OU%3DissuingAuthority%2C+O%3DDCC,12345," + strings.Repeat("A", 86) + "==\n"
	if action {
		return user.String() + "\n42,Release\n" + sig
	}
	return user.String() + ",7\n6.23,50,100,1440\n" + sig
}

// TestFilesOnlyForSelf: an ADT or action file about another User is
// refused before the thresholds see it; one about the caller goes on.
func TestFilesOnlyForSelf(t *testing.T) {
	for _, action := range []bool{false, true} {
		path := map[bool]string{false: "/api/v1/adt", true: "/api/v1/quarantine/actions"}[action]
		th := &fakeThresholds{}
		env := mtlsEnv(t, &fakeService{}, th)
		rec := env.as(certA, "POST", path, adtFor(userB, action))
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "it is for User 90-B3-D5-1F-30-02-00-00") {
			t.Errorf("%s: another User's file: %d %q", path, rec.Code, rec.Body)
		}
		if th.source != "" || th.acted {
			t.Errorf("%s: another User's file reached the thresholds", path)
		}
		env.as(certA, "POST", path, adtFor(userA, action))
		if th.source == "" && !th.acted {
			t.Errorf("%s: the caller's own file did not reach the thresholds", path)
		}
	}
}

// TestMetricsOnOperator: the operator handler serves /metrics.
func TestMetricsOnOperator(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "ecos_test_total"}))
	h, err := NewOperator(OperatorConfig{Thresholds: &fakeThresholds{}, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ecos_test_total 0") {
		t.Fatalf("operator /metrics: %d %q", rec.Code, rec.Body)
	}
}

// TestOtherUsersRequestAnySpelling: another User's RequestID is refused
// before any lookup however it is spelled in the path (case, escaped
// separators, a counter with leading zeros or a sign); spellings that are
// not a RequestID are 400s.
func TestOtherUsersRequestAnySpelling(t *testing.T) {
	lookups := 0
	svc := &fakeService{lookup: func(context.Context, string) (Status, error) {
		lookups++
		return Status{}, ErrNotFound
	}, waitFinal: func(context.Context, string) error { return nil }}
	env := mtlsEnv(t, svc, nil)
	for _, c := range []struct {
		id   string
		code int
	}{
		{strings.ToLower(bReqID), http.StatusNotFound},
		{strings.ReplaceAll(bReqID, ":", "%3A"), http.StatusNotFound},
		{strings.ReplaceAll(bReqID, ":", "%3a"), http.StatusNotFound},
		{"90-b3-D5-1f-30-02-00-00:00-DB-12-34-56-78-90-A0:1006", http.StatusNotFound},
		{"90-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A0:01006", http.StatusBadRequest},
		{"90-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A0:+1006", http.StatusBadRequest},
		{"90B3D51F30020000:00DB1234567890A0:1006", http.StatusBadRequest},
		{"90-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A0:1006:1", http.StatusBadRequest},
		{"%2090-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A0:1006", http.StatusBadRequest},
		{"90-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A0:%D9%A1", http.StatusBadRequest}, // U+0661
	} {
		for _, path := range []string{"/api/v1/requests/%s", "/api/v1/requests/%s/responses/1", "/api/v1/responses/%s?wait=1s"} {
			target := strings.Replace(path, "%s", c.id, 1)
			if rec := env.as(certA, "GET", target, ""); rec.Code != c.code {
				t.Errorf("%s: %d %q, want %d", target, rec.Code, rec.Body, c.code)
			}
		}
	}
	if lookups != 0 {
		t.Errorf("another User's request was looked up %d times", lookups)
	}
}
