// Package service assembles a running ECoS Party from its configuration:
// the store, the keys, the trust anchors, the authoriser, the signer, the
// device gateway, the 6.23 pipeline, the HTTP edge and the callback
// pusher. `ecos serve` and `ecos bench cos` are thin shells around it.
// It holds no demo, test PKI or simulated meter: those are plugged in by
// the command that starts a demo (demoworld, devicesim), so none is in the
// graph of a production start.
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
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/every"
	"github.com/ecos-cos/ecos/migrate"
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
	// Migrate brings the schema up to date at start, creating a SQLite
	// file that does not exist; otherwise a missing database or an
	// out-of-date schema is refused with the command that fixes it.
	Migrate bool
	// Reopen reopens the audit file (Config.Log.Audit) each time it
	// delivers, for log rotation: `ecos serve` feeds it SIGHUP.
	Reopen <-chan os.Signal
	// Simulator is the simulated meters a demo or test configuration
	// names (devicesim.ForConfig); nil: such a configuration is refused.
	Simulator Simulator
}

// Simulator is simulated meters, plugged in by the command or test that
// starts a demo or test configuration: the gateway of devices.gateway
// "sim" and the keys of the test PKI in devices.pki. Package service
// holds no simulated meter, test PKI or demo itself, so none is in the
// graph of a production start.
type Simulator interface {
	pipeline.Gateway
	pipeline.DeviceKeys
	// Tick runs the meters' future-dated commands that are due at now.
	Tick(now time.Time) error
}

// Service is an assembled ECoS Party, not yet running.
type Service struct {
	cfg        *config.Config
	log        *slog.Logger
	db         *store.DB
	pipeline   *pipeline.Pipeline
	thresholds *thresholds.Thresholds
	counter    *anomaly.Counter
	// The migration runner (nil when no device keys are known) and the
	// operator's hand on it.
	migrator          *migrate.Runner
	migrationOperator *migrate.Operator
	migrationWake     chan struct{}
	handler           http.Handler
	usersTLS          *tls.Config // nil: the Users' listener is plain HTTP
	operator          http.Handler
	pusher            *api.Pusher
	sim               Simulator
	ticks             bool // the gateway is sim: its future-dated commands run here
	now               func() time.Time
	wake              chan struct{} // tells the pusher a document is waiting
	closers           []func() error
	tokens            map[string]*hsm.Token // PKCS#11 tokens by module and label, opened once
	audit             *obs.AuditFile        // nil when Options.Audit was given
	reopen            <-chan os.Signal
	keys              []any // each key's SKI, for the start summary
	// recovered is closed once Run has recovered what a previous run
	// left and works.
	recovered chan struct{}
	// stopping ends when Run begins to shut down, so long polls answer.
	stopping context.Context
	stop     context.CancelFunc
}

// instanceLockWait is how long start waits for the instance lock of a
// PostgreSQL database whose holder just died: the server notices the
// closed connection on its own schedule.
const instanceLockWait = 5 * time.Second

// New assembles a service. Every file is read and every key checked
// against its certificate here, so a bad configuration fails at start,
// having created no database and no audit file.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Config == nil {
		return nil, errors.New("service: no configuration")
	}
	if d := o.Config.Devices; (d.PKI != "" || d.Gateway != config.GatewayHTTP) && o.Simulator == nil {
		return nil, errors.New(`devices: simulated meters (devices.pki, or the "sim" gateway) are for the demo and tests, and this start plugs none in`)
	}
	s := &Service{cfg: o.Config, log: o.Log, now: o.Now, sim: o.Simulator, wake: make(chan struct{}, 1), reopen: o.Reopen,
		recovered: make(chan struct{})}
	s.stopping, s.stop = context.WithCancel(context.Background())
	if err := s.start(ctx, o); err != nil {
		s.abort()
		return nil, err
	}
	return s, nil
}

func (s *Service) start(ctx context.Context, o Options) (err error) {
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		if s.log, err = obs.NewLogger(stderr(), o.Config.Log.Format, o.Config.Log.Level); err != nil {
			return err
		}
	}
	reg := o.Registry
	if reg == nil {
		reg = obs.NewRegistry()
	}
	if err := s.openStore(ctx, o.Config, o.Migrate); err != nil {
		return err
	}
	audit := o.Audit
	if audit == nil {
		if s.audit, err = obs.OpenAudit(o.Config.Log.Audit); err != nil {
			return fmt.Errorf("log.audit: %w", err)
		}
		audit = obs.NewAudit(s.audit)
	}
	p, err := s.assemble(ctx, audit, reg)
	if err != nil {
		return err
	}
	s.pipeline = p
	// Before anything can be submitted: a request must never meet a
	// counter that has not yet heard of its User's file.
	loaded, err := s.thresholds.Load(ctx)
	if err != nil {
		return fmt.Errorf("anomaly detection: %w", err)
	}
	own := 0
	if s.migrator != nil {
		if own, err = s.migrator.RestoreCounts(ctx); err != nil {
			return fmt.Errorf("anomaly detection: migration commands: %w", err)
		}
	}
	s.log.Info("anomaly detection thresholds loaded", "users", loaded.Users, "requests_counted", loaded.Restored, "migration_commands_counted", own)
	if err := s.listeners(o.Config, reg); err != nil {
		return err
	}
	if cb := o.Config.Callback; cb.RelayURL != "" || len(cb.Users) > 0 {
		pushTLS, err := loadPushTLS(cb)
		if err != nil {
			return err
		}
		s.pusher, err = api.NewPusher(api.PusherConfig{Outbox: outbox{s.db}, Users: cb.ByUser(), Relay: cb.RelayURL,
			TLS: pushTLS, Timeout: time.Duration(cb.Timeout), MaxAttempts: cb.MaxAttempts,
			Wake: s.wake, Now: s.now, Log: s.log, Registerer: reg})
		if err != nil {
			return err
		}
	}
	// Once every check has passed: a start error is its one line alone,
	// and the warnings are about a service that does start.
	for _, w := range o.Config.Warnings() {
		s.log.Warn(w)
	}
	return s.summary(ctx)
}

// summary logs what the service starts with, so an operator can check it
// at a glance: the database and its schema, each key by its SKI, how much
// reference data there is.
func (s *Service) summary(ctx context.Context) error {
	version, _, err := s.db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	n, err := s.db.Count(ctx)
	if err != nil {
		return err
	}
	args := []any{"database", s.db.Describe(ctx), "schema_version", version}
	args = append(args, s.keys...)
	args = append(args, "parties", n.Parties, "users", n.Users, "devices", n.Devices,
		"registrations", n.Registrations, "requests", n.Requests, "audit", s.cfg.Log.Audit)
	s.log.Info("ecos starting", args...)
	return nil
}

// openStore opens the configured database, takes its instance lock and
// checks its schema. Without migrate, a SQLite file that does not exist
// is refused rather than created empty.
func (s *Service) openStore(ctx context.Context, c *config.Config, migrate bool) error {
	dsn, err := c.DatabaseDSN()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{Driver: c.Database.Driver, DSN: dsn, NoCreate: !migrate})
	if errors.Is(err, store.ErrNoDatabase) {
		return fmt.Errorf("%w: create it with %s", err, migrateCommand(c))
	}
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	s.db = db
	s.closers = append(s.closers, db.Close)
	lock, err := db.LockInstance(ctx, store.Me(s.now()), instanceLockWait)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, lock.Release)
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	cur, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if cur != latest {
		return fmt.Errorf("the database schema is at version %d and this ecos needs %d: run %s first", cur, latest, migrateCommand(c))
	}
	return nil
}

// migrateCommand is the command that migrates c's database.
func migrateCommand(c *config.Config) string {
	if c.Path() == "" {
		return "`ecos db migrate` with this configuration"
	}
	return "`ecos db migrate --config " + c.Path() + "`"
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

// OperatorHandler is the operator API (docs/api.md) and /metrics, for
// operator_listen.
func (s *Service) OperatorHandler() http.Handler { return s.operator }

// Counter is step 9's threshold counter, for benchmarks.
func (s *Service) Counter() *anomaly.Counter { return s.counter }

// Recovered is closed once Run has recovered what a previous run left
// (requests, migration commands; running waves paused) and works: an
// in-process caller starts waves after it, as the operator API, which
// serves only then, does.
func (s *Service) Recovered() <-chan struct{} { return s.recovered }

// Migration is the operator's hand on the migration (the operator API's).
func (s *Service) Migration() *migrate.Operator { return s.migrationOperator }

// Run recovers what a previous run left unfinished, then serves the DUIS API on ln (with
// mutual TLS, or plain HTTP where the configuration asks for it) and the
// operator API and /metrics on operator (either may be nil) and works until ctx ends,
// and shuts down gracefully: requests in hand are finished, the listeners
// drain for up to ten seconds. Recovery is the one place unfinished
// requests are taken over, so nothing is served until it has ended.
func (s *Service) Run(ctx context.Context, ln, operator net.Listener) error {
	if err := s.pipeline.Recover(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while recovering: the next start carries on
		}
		return fmt.Errorf("recovery: %w", err)
	}
	if s.migrator != nil {
		n, err := s.migrator.Recover(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("migration recovery: %w", err)
		}
		if n > 0 {
			s.log.Warn("migration recovery: commands a stop left open are settled; running waves are paused", "commands", n)
		}
	}
	close(s.recovered)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	if s.migrator != nil {
		wg.Go(func() { _ = s.migrator.Run(ctx, s.migrationWake, migrationPoll) })
	}
	wg.Go(func() {
		if err := s.pipeline.Run(ctx); err != nil {
			errs <- err
			cancel()
		}
	})
	if s.pusher != nil {
		wg.Go(func() { s.pusher.Run(ctx) })
	}
	if s.ticks {
		wg.Go(func() { s.tickFleet(ctx) })
	}
	if s.reopen != nil && s.audit != nil {
		wg.Go(func() { s.reopenAudit(ctx) })
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
			s.stop() // long polls answer now, so Shutdown need not wait for them
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
	s.log.Info("ecos serving", "listen", addr(ln), "mutual_tls", s.usersTLS != nil, "operator_listen", addr(operator))
	wg.Wait()
	select {
	case err := <-errs:
		s.log.Error("ecos stopped", "err", err)
		return err
	default:
		s.log.Info("ecos stopped")
		return nil
	}
}

// addr is a listener's address for the log, "off" for none.
func addr(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return ln.Addr().String()
}

// reopenAudit reopens the audit file on each signal, for log rotation.
func (s *Service) reopenAudit(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reopen:
			if err := s.audit.Reopen(); err != nil {
				s.log.Error("audit log not reopened: records still go to the old file", "path", s.audit.Path(), "err", err)
				continue
			}
			s.log.Info("audit log reopened", "path", s.audit.Path())
		}
	}
}

// tickFleet runs the simulated meters' future-dated commands when due.
func (s *Service) tickFleet(ctx context.Context) {
	every.Run(ctx, time.Second, func(context.Context) error { return s.sim.Tick(s.now()) },
		func(err error) { s.log.Error("simulated fleet", "err", err) })
}

// Close releases the instance lock, the store and the audit file.
func (s *Service) Close() error {
	err := s.release()
	if s.audit != nil {
		err = errors.Join(err, s.audit.Close())
		s.audit = nil
	}
	return err
}

// Abort undoes a start that failed after New (a listener that could not
// be opened): as Close, but an audit file that start created and nothing
// wrote to is removed, so the failed start leaves nothing behind.
func (s *Service) Abort() { s.abort() }

func (s *Service) abort() {
	s.release()
	if s.audit != nil {
		s.audit.Discard()
		s.audit = nil
	}
}

func (s *Service) release() error {
	s.stop()
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}
