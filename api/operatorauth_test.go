package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

const testOperatorToken = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

// withToken sends the operator token with every request to h, for the
// tests of what the routes do once authenticated.
func withToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+testOperatorToken)
		h.ServeHTTP(w, r)
	})
}

func authHandler(t *testing.T, token string) http.Handler {
	t.Helper()
	dash := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>dashboard</html>")) })
	h, err := NewOperator(OperatorConfig{Thresholds: &fakeThresholds{}, Migration: &fakeMigration{}, Gatherer: prometheus.NewRegistry(),
		Token: []byte(token), Dashboard: dash})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// operatorRoutes is every route of the operator listener but the open
// ones, with a body where it takes one.
var operatorRoutes = [][3]string{
	{"POST", "/operator/v1/adt", "x"},
	{"GET", "/operator/v1/adt/00-00-00-00-00-00-00-01", ""},
	{"GET", "/operator/v1/dcc-thresholds", ""},
	{"GET", "/operator/v1/quarantine", ""},
	{"POST", "/operator/v1/quarantine/1/release", ""},
	{"POST", "/operator/v1/migration/plan", "{}"},
	{"GET", "/operator/v1/migration/waves", ""},
	{"GET", "/operator/v1/migration/waves/1", ""},
	{"POST", "/operator/v1/migration/devices/retry", "{}"},
	{"GET", "/operator/v1/reports/mpid?month=2022-10", ""},
	{"GET", "/operator/v1/no-such-route", ""},
	{"GET", "/dashboard/", ""},
	{"GET", "/dashboard/traffic?days=7", ""},
	{"GET", "/dashboard/migration?format=csv", ""},
	{"GET", "/dashboard", ""},
}

// TestOperatorAuthRefuses: without the token, with a wrong one, with a
// cookie on an action, and with no token configured, every operator
// route and dashboard page is refused with a sentence (JSON for the API,
// HTML for the dashboard) and nothing runs; /metrics and /healthz stay
// open.
func TestOperatorAuthRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		token  string // configured
		header func(*http.Request)
		code   int
		says   string
	}{
		"none":         {testOperatorToken, func(*http.Request) {}, 401, "operator token is required"},
		"wrong":        {testOperatorToken, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testOperatorToken[1:]) }, 401, "not the operator token"},
		"basic":        {testOperatorToken, func(r *http.Request) { r.SetBasicAuth("x", testOperatorToken) }, 401, "operator token is required"},
		"wrong cookie": {testOperatorToken, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "x" + testOperatorToken}) }, 401, "operator token is required"},
		"unset":        {"", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, 403, "operator.token_file"},
	} {
		h := authHandler(t, tc.token)
		for _, rt := range operatorRoutes {
			req := httptest.NewRequest(rt[0], rt[1], strings.NewReader(rt[2]))
			tc.header(req)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.code || !strings.Contains(body, tc.says) {
				t.Errorf("%s: %s %s: %d %q", name, rt[0], rt[1], rec.Code, body)
				continue
			}
			if strings.HasPrefix(rt[1], "/dashboard") {
				if !strings.Contains(rec.Header().Get("Content-Type"), "text/html") || strings.Contains(body, "<html>dashboard") {
					t.Errorf("%s: %s: not an HTML refusal: %q", name, rt[1], body)
				}
				continue
			}
			var e errorBody
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Errorf("%s: %s %s: not a JSON refusal: %q", name, rt[0], rt[1], body)
			}
		}
		for _, open := range []string{"/metrics", "/healthz"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", open, nil))
			if rec.Code != 200 {
				t.Errorf("%s: %s: %d", name, open, rec.Code)
			}
		}
	}
}

// TestOperatorAuthCookieNeverActs: the session cookie reads the
// dashboard, but neither acts nor reads the API.
func TestOperatorAuthCookieNeverActs(t *testing.T) {
	h := authHandler(t, testOperatorToken)
	for _, rt := range [][2]string{{"POST", "/operator/v1/quarantine/1/release"}, {"GET", "/operator/v1/quarantine"}, {"POST", "/dashboard/"},
		{"GET", "/dashboard/../operator/v1/quarantine"}, {"GET", "/dashboard/%2e%2e/operator/v1/quarantine"}} {
		req := httptest.NewRequest(rt[0], rt[1], nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: testOperatorToken})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), `"holds"`) || (rec.Code == 200 && !strings.HasPrefix(rt[1], "/dashboard/%2e")) {
			t.Errorf("%s %s with the cookie reached the API: %d %s", rt[0], rt[1], rec.Code, rec.Body)
		}
	}
}

// TestOperatorAuthAccepts: the bearer token opens the API and the
// dashboard; the link with ?token= sets an HttpOnly, SameSite=Strict
// cookie and redirects to the address without the token, and the cookie
// then opens the dashboard.
func TestOperatorAuthAccepts(t *testing.T) {
	h := authHandler(t, testOperatorToken)
	for _, p := range []string{"/operator/v1/quarantine", "/operator/v1/migration/waves", "/dashboard/"} {
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Authorization", "Bearer "+testOperatorToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("%s with the token: %d %s", p, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/dashboard/traffic?days=7&token="+testOperatorToken, nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dashboard/traffic?days=7" {
		t.Fatalf("link with the token: %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != SessionCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie: %+v", cookies)
	}
	req := httptest.NewRequest("GET", "/dashboard/traffic?days=7", nil)
	req.AddCookie(cookies[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "dashboard") {
		t.Errorf("dashboard with the cookie: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/dashboard/?token=wrong", nil))
	if rec.Code != 401 || len(rec.Result().Cookies()) != 0 {
		t.Errorf("link with a wrong token: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
}
