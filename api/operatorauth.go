package api

import (
	"crypto/subtle"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// SessionCookie is the dashboard's session cookie: opening
// /dashboard/?token=TOKEN sets it, so that a browser, which cannot send a
// bearer token, reads the dashboard's pages.
const SessionCookie = "ecos_operator"

// openPaths are the operator listener's routes that need no token:
// Prometheus scrapes /metrics, and a health check knows no secrets.
var openPaths = map[string]bool{"/metrics": true, "/healthz": true}

// operatorAuth refuses every request to next but openPaths' unless it
// carries the operator token: "Authorization: Bearer TOKEN", or, for a
// read (GET or HEAD), the dashboard's session cookie. A cookie never
// authorises an action, so a page another site makes a browser load
// cannot act with it. Without a token (operator.token_file unset) every
// such request is refused, saying so. It is deny-by-default: a route
// added to the listener later is covered without being listed.
func operatorAuth(token []byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if len(token) == 0 {
			refuse(w, r, http.StatusForbidden, "the operator API and the dashboard are closed: the configuration sets no operator.token_file")
			return
		}
		dashboard := r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, "/dashboard/")
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		if q := r.URL.Query(); dashboard && read && q.Has("token") {
			if !sameToken(token, q.Get("token")) {
				refuse(w, r, http.StatusUnauthorized, "the token in the link is not the operator token (operator.token_file)")
				return
			}
			// The token leaves the address bar (and the history) at once;
			// the cookie carries it from here.
			http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: q.Get("token"), Path: "/dashboard/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			q.Del("token")
			u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			if !sameToken(token, strings.TrimSpace(bearer)) {
				refuse(w, r, http.StatusUnauthorized, "the bearer token is not the operator token (operator.token_file)")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(SessionCookie); err == nil && dashboard && read && sameToken(token, c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		refuse(w, r, http.StatusUnauthorized, "the operator token is required: send \"Authorization: Bearer TOKEN\" with the token in operator.token_file, or open the dashboard's link with ?token=TOKEN")
	})
}

// sameToken compares in constant time, so timing does not tell how much
// of a guess was right.
func sameToken(token []byte, got string) bool {
	return subtle.ConstantTimeCompare(token, []byte(got)) == 1
}

// refuse answers a dashboard page in HTML and anything else in the
// operator API's JSON.
func refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ecos operator"`)
	}
	if r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, "/dashboard/") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ecos: not authorised</title></head><body><p id=\"refused\">" +
			html.EscapeString(msg) + "</p></body></html>\n"))
		return
	}
	writeJSONError(w, code, msg)
}
