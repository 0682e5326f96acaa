package migrate

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/lease"
)

// Signer signs the party's own commands; *signer.Signer is one.
type Signer interface {
	Originator(keyID string) (eui.EUI, error)
	SignOwn(msg *gbcs.Message, keyID string) ([]byte, error)
}

// Gateway carries a frame to its device; pipeline's gateway is one.
type Gateway interface {
	Send(ctx context.Context, frame []byte) (*dispatch.Reply, error)
}

// DeviceKeys finds the key a device signs its responses with.
type DeviceKeys interface {
	DeviceKey(d eui.EUI) (*ecdsa.PublicKey, error)
}

// Thresholds decides on the party's own commands against the DCC-wide
// anomaly thresholds; *anomaly.Counter is one.
type Thresholds interface {
	CheckOwn(srv anomaly.SRV, at time.Time) anomaly.Decision
	CountOwn(srv anomaly.SRV, at time.Time)
}

// Retry is the project's EMEHRA: how transient failures are retried.
type Retry struct {
	Attempts int           // commands per device before it is an exception
	Base     time.Duration // the wait after the first failure; doubled after each
	Max      time.Duration // the longest wait
}

// Defaults.
const (
	DefaultAttempts = 5 // the SMETS1 precedent: at least five attempts before exclusion
	DefaultBase     = time.Minute
	DefaultMax      = 6 * time.Hour
	DefaultBatch    = 250
)

// Config is fixed for the life of a Runner.
type Config struct {
	Waves      WaveStore
	Commands   CommandStore
	Signer     Signer
	Gateway    Gateway
	DeviceKeys DeviceKeys
	Leases     *lease.Table
	Thresholds Thresholds // nil: no DCC-wide thresholds
	// Migration is the mode 6 payload's content: the ECoS certificate and
	// its certification path.
	Migration cosbuild.Migration
	Retry     Retry
	Timeout   time.Duration // how long a device has to answer
	Batch     int           // devices per database transaction; 0: DefaultBatch
	Now       func() time.Time
	Rand      io.Reader // jitter; nil: crypto/rand
	// Wait pauses for d (the rate limit); nil: a timer.
	Wait  func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	Audit *slog.Logger
	// Metrics receives the migration's counters; nil: none registered.
	Metrics prometheus.Registerer
}

func (c *Config) check() error {
	switch {
	case c.Waves == nil || c.Commands == nil || c.Signer == nil || c.Gateway == nil || c.DeviceKeys == nil || c.Leases == nil:
		return errors.New("migrate: stores, signer, gateway, device keys and leases are required")
	case c.Now == nil || c.Log == nil || c.Audit == nil:
		return errors.New("migrate: clock and logs are required")
	case c.Timeout <= 0:
		return errors.New("migrate: no device timeout")
	}
	if c.Retry.Attempts <= 0 {
		c.Retry.Attempts = DefaultAttempts
	}
	if c.Retry.Base <= 0 {
		c.Retry.Base = DefaultBase
	}
	if c.Retry.Max < c.Retry.Base {
		c.Retry.Max = max(DefaultMax, c.Retry.Base)
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.Wait == nil {
		c.Wait = sleep
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
