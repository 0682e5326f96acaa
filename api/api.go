// Package api is the HTTP edge of the ECoS Party. Users POST signed DUIS
// Service Requests 6.23 to it and get the signed synchronous
// acknowledgement back; later they pull the signed response by RequestID
// (optionally long-polling), or a Pusher POSTs it to their callback URL.
// Client speaks the same protocol for `ecos send` and tests. docs/api.md
// is the protocol.
//
// Trust level: internet-facing; every byte it receives is hostile. It
// parses only URL paths and query values (and an ADT file's User), and
// hands request bodies to the Service, which verifies them. The Users'
// handler knows each request's User from its TLS client certificate
// (Config.Users): a User submits only as itself and reads only its own
// requests. The operator handler authenticates nobody and must listen only
// where operators are. Internal error detail is logged, never sent.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ecos-cos/ecos/mpidreport"
)

// Defaults for the zero values in Config.
const (
	// DefaultMaxBody matches the pipeline's own request limit; a DUIS 6.23
	// request with its signature is a few kilobytes.
	DefaultMaxBody = 64 << 10
	DefaultMaxWait = 60 * time.Second
)

// Config is fixed for the life of a handler.
type Config struct {
	Service Service
	// Thresholds, if set, takes Users' signed ADT files and Quarantined
	// Communications Action Files.
	Thresholds Thresholds
	// Users says who a request comes from, by its verified TLS client
	// certificate. Exactly one of Users and PlainHTTP is set.
	Users Users
	// PlainHTTP serves a listener without TLS, where nobody is
	// authenticated: every caller may act as, and read for, any User.
	PlainHTTP bool
	Log       *slog.Logger // nil: discarded
	// Registerer receives the HTTP metrics; nil: counted but not registered.
	// They are served by the operator handler, never here.
	Registerer prometheus.Registerer
	// MaxBody is the size a request body may have; 0: DefaultMaxBody. The
	// Service judges size itself, so it is given up to MaxBody+1 bytes and
	// can refuse an oversized request with a signed answer.
	MaxBody int
	// MaxWait caps ?wait= on the long poll; 0: DefaultMaxWait.
	MaxWait time.Duration
	// Stopping ends when the service shuts down: waiting long polls then
	// answer at once with where their request stands. nil: never.
	Stopping context.Context
	Now      func() time.Time // nil: time.Now
}

type server struct {
	svc       Service
	users     Users // nil: the operator API, or plain HTTP
	plain     bool
	adt       Thresholds
	migration Migration
	mpid      mpidreport.Source // the operator API's MPID report; nil: none
	log       *slog.Logger
	metrics   *httpMetrics
	maxBody   int
	maxWait   time.Duration
	now       func() time.Time
	// stopping cuts long polls short at shutdown.
	stopping context.Context
}

// New returns the handler for the routes in docs/api.md. It should sit
// behind an http.Server with read and write timeouts longer than MaxWait.
func New(cfg Config) (http.Handler, error) {
	switch {
	case cfg.Service == nil:
		return nil, errors.New("api: no service")
	case cfg.Users == nil && !cfg.PlainHTTP:
		return nil, errors.New("api: no Users to authenticate TLS clients with, and PlainHTTP not asked for")
	case cfg.Users != nil && cfg.PlainHTTP:
		return nil, errors.New("api: Users and PlainHTTP exclude each other")
	case cfg.MaxBody < 0:
		return nil, fmt.Errorf("api: MaxBody %d is negative", cfg.MaxBody)
	case cfg.MaxWait < 0:
		return nil, fmt.Errorf("api: MaxWait %v is negative", cfg.MaxWait)
	}
	s := &server{svc: cfg.Service, users: cfg.Users, plain: cfg.PlainHTTP, adt: cfg.Thresholds, log: cfg.Log, maxBody: cfg.MaxBody, maxWait: cfg.MaxWait, now: cfg.Now, stopping: cfg.Stopping}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxWait == 0 {
		s.maxWait = DefaultMaxWait
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.stopping == nil {
		s.stopping = context.Background()
	}
	var err error
	if s.metrics, err = newHTTPMetrics(cfg.Registerer); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/serviceS", s.handle(s.postServiceRequest, writeTextError))
	mux.Handle("GET /api/v1/requests/{requestID}", s.handle(s.getStatus, writeJSONError))
	mux.Handle("GET /api/v1/requests/{requestID}/responses/{n}", s.handle(s.getDocument, writeJSONError))
	mux.Handle("GET /api/v1/responses/{requestID}", s.handle(s.getResponse, writeJSONError))
	if s.adt != nil {
		mux.Handle("POST /api/v1/adt", s.handle(s.postADT(sourceUser), writeJSONError))
		mux.Handle("POST /api/v1/quarantine/actions", s.handle(s.postActions, writeJSONError))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	return s.instrument(mux), nil
}

// metricsHandler serves g for Prometheus.
func metricsHandler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)})
}
