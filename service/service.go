// Package service assembles a running ECoS Party from its configuration:
// the store, the keys, the trust anchors, the authoriser, the signer, the
// device gateway, the 6.23 pipeline, the HTTP edge and the callback
// pusher. `ecos serve` and `ecos bench cos` are thin shells around it.
//
// Trust level: wiring only; it loads keys from the files the operator
// configured and hands each to the one role that uses it.
package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/internal/every"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// Options are what the configuration file does not say.
type Options struct {
	Config *config.Config
	Log    *slog.Logger // nil: from Config.Log, to stderr
	Audit  *slog.Logger // nil: from Config.Log.Audit
	// Registry receives every metric and is served at /metrics; nil: a new
	// one with the Go and process collectors.
	Registry *prometheus.Registry
	Now      func() time.Time // nil: time.Now
	// Migrate brings the schema up to date at start; otherwise an
	// out-of-date schema is refused with the command that fixes it.
	Migrate bool
}

// Service is an assembled ECoS Party, not yet running.
type Service struct {
	cfg        *config.Config
	log        *slog.Logger
	db         *store.DB
	pipeline   *pipeline.Pipeline
	thresholds *thresholds.Thresholds
	counter    *anomaly.Counter
	handler    http.Handler
	usersTLS   *tls.Config // nil: the Users' listener is plain HTTP
	operator   http.Handler
	pusher     *api.Pusher
	fleet      *dispatch.Fleet // the in-process fleet, when the gateway is "sim"
	now        func() time.Time
	wake       chan struct{} // tells the pusher a document is waiting
	closers    []func() error
}

// New assembles a service. Every file is read and every key checked
// against its certificate here, so a bad configuration fails at start.
func New(ctx context.Context, o Options) (s *Service, err error) {
	if o.Config == nil {
		return nil, errors.New("service: no configuration")
	}
	s = &Service{cfg: o.Config, log: o.Log, now: o.Now, wake: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		if s.log, err = obs.NewLogger(stderr(), o.Config.Log.Format, o.Config.Log.Level); err != nil {
			return nil, err
		}
	}
	audit := o.Audit
	if audit == nil {
		w, err := obs.OpenAudit(o.Config.Log.Audit)
		if err != nil {
			return nil, fmt.Errorf("log.audit: %w", err)
		}
		s.closers = append(s.closers, w.Close)
		audit = obs.NewAudit(w)
	}
	reg := o.Registry
	if reg == nil {
		reg = obs.NewRegistry()
	}
	if s.db, err = openStore(ctx, o.Config, o.Migrate); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.db.Close)
	p, err := s.assemble(ctx, audit, reg)
	if err != nil {
		return nil, err
	}
	s.pipeline = p
	// Before anything can be submitted: a request must never meet a
	// counter that has not yet heard of its User's file.
	loaded, err := s.thresholds.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("anomaly detection: %w", err)
	}
	s.log.Info("anomaly detection thresholds loaded", "users", loaded.Users, "requests_counted", loaded.Restored)
	if err := s.listeners(o.Config, reg); err != nil {
		return nil, err
	}
	if o.Config.Callback.URL != "" {
		s.pusher, err = api.NewPusher(api.PusherConfig{Outbox: outbox{s.db}, URL: o.Config.Callback.URL,
			Timeout: time.Duration(o.Config.Callback.Timeout), MaxAttempts: o.Config.Callback.MaxAttempts,
			Wake: s.wake, Now: s.now, Log: s.log, Registerer: reg})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func openStore(ctx context.Context, c *config.Config, migrate bool) (*store.DB, error) {
	dsn, err := c.DatabaseDSN()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{Driver: c.Database.Driver, DSN: dsn})
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	cur, latest, err := db.SchemaVersion(ctx)
	if err == nil && cur != latest {
		err = fmt.Errorf("database schema is at version %d, this ecos needs %d: run `ecos db migrate` first", cur, latest)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Handler is the Users' HTTP edge: DUIS intake, responses, ADT and action
// files, /healthz. Run serves it with the configured TLS; a caller that
// serves it otherwise must authenticate Users itself.
func (s *Service) Handler() http.Handler { return s.handler }

// Pipeline is the 6.23 pipeline, for benchmarks and tests that drive it
// without HTTP.
func (s *Service) Pipeline() *pipeline.Pipeline { return s.pipeline }

// Store is the service's store.
func (s *Service) Store() *store.DB { return s.db }

// Fleet is the in-process simulated fleet, or nil with an HTTP gateway.
func (s *Service) Fleet() *device.Fleet {
	if s.fleet == nil {
		return nil
	}
	return s.fleet.Devices()
}

// OperatorHandler is the operator API (docs/api.md) and /metrics, for
// operator_listen.
func (s *Service) OperatorHandler() http.Handler { return s.operator }

// Counter is step 9's threshold counter, for benchmarks.
func (s *Service) Counter() *anomaly.Counter { return s.counter }

// Run recovers what a previous run left unfinished, then serves the DUIS API on ln (with
// mutual TLS, or plain HTTP where the configuration asks for it) and the
// operator API and /metrics on operator (either may be nil) and works until ctx ends,
// and shuts down gracefully: requests in hand are finished, the listeners
// drain for up to ten seconds.
func (s *Service) Run(ctx context.Context, ln, operator net.Listener) error {
	if err := s.pipeline.Recover(ctx); err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	wg.Go(func() {
		if err := s.pipeline.Run(ctx); err != nil {
			errs <- err
			cancel()
		}
	})
	if s.pusher != nil {
		wg.Go(func() { s.pusher.Run(ctx) })
	}
	if s.fleet != nil {
		wg.Go(func() { s.tickFleet(ctx) })
	}
	serve := func(ln net.Listener, h http.Handler) {
		if ln == nil {
			return
		}
		// ErrorLog: failed TLS handshakes (no or an unknown client
		// certificate) go to the log as records, not to stderr as text.
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: api.DefaultMaxWait + 30*time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelInfo)}
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
				cancel()
			}
		})
		wg.Go(func() {
			<-ctx.Done()
			shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			srv.Shutdown(shutdown)
		})
	}
	if ln != nil {
		ln = s.usersListener(ln)
	}
	serve(ln, s.handler)
	serve(operator, s.operator)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// tickFleet runs the simulated meters' future-dated commands when due.
func (s *Service) tickFleet(ctx context.Context) {
	every.Run(ctx, time.Second, func(context.Context) error { return s.fleet.Tick(s.now()) },
		func(err error) { s.log.Error("simulated fleet", "err", err) })
}

// Close releases the store and the audit file.
func (s *Service) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}
