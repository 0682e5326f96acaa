package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// statusClientClosed is recorded when the client left before the answer
// (nginx's convention); nobody reads the response, but the metrics should
// not call it a success or a server fault.
const statusClientClosed = 499

// httpError keeps what the client may see (Code, Msg) apart from the cause
// only the log may see (Err), after tailscale's tsweb.HTTPError. Any other
// error a handler returns is internal: a generic 500.
type httpError struct {
	Code int
	Msg  string
	Err  error
}

func (e *httpError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *httpError) Unwrap() error { return e.Err }

// handlerFunc returns an error only before it has written anything.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle turns a handler's error into a response written by write, and is
// the one place that decides what of an error a client sees.
func (s *server) handle(h handlerFunc, write func(http.ResponseWriter, int, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ar, err := s.authenticate(r)
		if err == nil {
			err = h(w, ar)
		}
		if err == nil {
			return
		}
		he, ok := errors.AsType[*httpError](err)
		switch {
		case r.Context().Err() != nil:
			he = &httpError{Code: statusClientClosed, Msg: "client closed request", Err: err}
			s.log.Debug("client left", "method", r.Method, "path", r.URL.Path, "err", err)
		case !ok:
			he = &httpError{Code: http.StatusInternalServerError, Msg: "internal error", Err: err}
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		case he.Code >= 500:
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		case he.Code == http.StatusForbidden:
			// Someone acting as, or reading for, another User: the operator
			// should see it.
			s.log.Warn("request refused", "method", r.Method, "path", r.URL.Path, "status", he.Code, "err", err)
		default:
			s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", he.Code, "err", err)
		}
		write(w, he.Code, he.Msg)
	})
}

// writeTextError answers on the DUIS intake, whose clients expect XML or a
// bare status, not our JSON.
func writeTextError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
