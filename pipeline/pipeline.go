package pipeline

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/intake"
	"github.com/ecos-cos/ecos/lease"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// Authoriser is step 4 to 8; *authorise.Authoriser satisfies it.
// StillOwns asks the cancellation rule again just before a cancellation
// is signed, and Recheck which key the device trusts (see process).
type Authoriser interface {
	Authorise(ctx context.Context, v authorise.Verified) (*authorise.Approved, *authorise.MPIDResult, error)
	StillOwns(ctx context.Context, rid store.RequestID, partyID string) error
	Recheck(ctx context.Context, a *authorise.Approved) error
}

// Signer is steps 10 and 11's key holder; *signer.Signer satisfies it.
type Signer interface {
	SignCoS(ctx context.Context, a *authorise.Approved) (*signer.Signed, error)
}

// AnomalyCheck is step 9's counter; *anomaly.Counter satisfies it. Check
// counts a request it admits; Cancel takes that back when the request
// could not be recorded after all; Count counts a released request.
type AnomalyCheck interface {
	Check(user eui.EUI, srv anomaly.SRV, at time.Time) anomaly.Decision
	Cancel(d anomaly.Decision)
	Count(user eui.EUI, srv anomaly.SRV, at time.Time)
}

// DeviceKeys finds the key a device signs its responses and alerts with.
type DeviceKeys interface {
	DeviceKey(device eui.EUI) (*ecdsa.PublicKey, error)
}

// Gateway carries one signed command frame to its device and waits for
// the immediate reply; Send honours ctx, whose deadline is how long a
// device is waited for. Alerts collects the device alerts (future-dated
// execution results) that arrived since the last call. dispatch.HTTP is
// one; tests and the demo plug in a simulated fleet.
type Gateway interface {
	Send(ctx context.Context, frame []byte) (*dispatch.Reply, error)
	Alerts(ctx context.Context) ([][]byte, error)
}

// ResponseKey is the DSP XML-signing credential the pipeline signs the
// documents it sends Users with.
type ResponseKey struct {
	Signer crypto.Signer
	Cert   *smki.Certificate
}

// Config is fixed for the life of a Pipeline.
type Config struct {
	// The store, by role (store.go); *store.DB plays all three.
	Requests   Requests
	Commands   Commands
	Holds      Holds
	Authoriser Authoriser
	Signer     Signer
	Gateway    Gateway
	Anomaly    AnomalyCheck // nil admits everything
	// HoldFor is how long a quarantined request waits for a release
	// before it is deleted; 0: DefaultHoldFor.
	HoldFor    time.Duration
	DeviceKeys DeviceKeys

	// UserCertificates finds a request's signer by issuer and serial;
	// SignerPolicy says what that signer must be.
	UserCertificates xmldsig.CertFinder
	SignerPolicy     intake.SignerPolicy

	ResponseKey ResponseKey
	Codes       *ecoserr.Codes // nil: the default table

	MaxRequestBytes int           // 0: 64 KiB
	Workers         int           // concurrent sign-and-send workers; 0: 8
	DeviceTimeout   time.Duration // how long to wait for a device; 0: 10 s
	// Leases give one command at a time to each device, shared with the
	// migration; nil: the pipeline's own.
	Leases *lease.Table

	Now     func() time.Time
	Rand    io.Reader // nil: crypto/rand
	Log     *slog.Logger
	Audit   *slog.Logger
	Metrics prometheus.Registerer // nil: not registered
	// Notify, if set, is called (without blocking) whenever a document for
	// a User is stored, so that a pusher can deliver it at once.
	Notify func()
}

// Pipeline is the running 6.23 service.
type Pipeline struct {
	cfg     Config
	codes   *ecoserr.Codes
	metrics *metrics
	work    chan job
	waiters waiters
	srvCoS  anomaly.SRV // 6.23, as the anomaly counter knows it
	// screenCost is step 9's time, for `ecos bench cos` to show what the
	// threshold check costs inside the whole.
	screenCost costMeter
	// released is the work released holds started, which Run waits for
	// so that none outlives it.
	released sync.WaitGroup
}

// job is an approved request on its way to the signer.
type job struct {
	req      store.Request
	approved *authorise.Approved
	done     chan struct{} // closed when finished; nil if nobody waits
}

// New checks cfg.
func New(cfg Config) (*Pipeline, error) {
	switch {
	case cfg.Requests == nil || cfg.Commands == nil || cfg.Holds == nil:
		return nil, errors.New("pipeline: no store for requests, commands or holds")
	case cfg.Authoriser == nil:
		return nil, errors.New("pipeline: no authoriser")
	case cfg.Signer == nil:
		return nil, errors.New("pipeline: no signer")
	case cfg.Gateway == nil:
		return nil, errors.New("pipeline: no device gateway")
	case cfg.DeviceKeys == nil:
		return nil, errors.New("pipeline: no device keys to check responses with")
	case cfg.UserCertificates == nil:
		return nil, errors.New("pipeline: no User certificates")
	case cfg.ResponseKey.Signer == nil || cfg.ResponseKey.Cert == nil:
		return nil, errors.New("pipeline: no DSP XML-signing key")
	case cfg.Now == nil:
		return nil, errors.New("pipeline: no clock")
	case cfg.Log == nil || cfg.Audit == nil:
		return nil, errors.New("pipeline: no logger or audit log")
	}
	if cfg.ResponseKey.Cert.Kind != smki.Organisation || cfg.ResponseKey.Cert.KeyUsage&smki.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("pipeline: response-signing certificate serial %X is not an organisation digital-signing certificate", cfg.ResponseKey.Cert.SerialNumber)
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 64 << 10
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.DeviceTimeout <= 0 {
		cfg.DeviceTimeout = 10 * time.Second
	}
	if cfg.Leases == nil {
		cfg.Leases = lease.New()
	}
	if cfg.HoldFor <= 0 {
		cfg.HoldFor = DefaultHoldFor
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	codes := cfg.Codes
	if codes == nil {
		codes, _ = ecoserr.NewCodes(nil)
	}
	srvCoS, ok := anomaly.SRVOf(adt.SRVCoS)
	if !ok {
		return nil, errors.New("pipeline: the anomaly counter does not know SR 6.23")
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	return &Pipeline{
		cfg:     cfg,
		codes:   codes,
		metrics: m,
		work:    make(chan job, cfg.Workers*16),
		waiters: waiters{m: map[store.RequestID]*waiter{}},
		srvCoS:  srvCoS,
	}, nil
}

// Run signs and sends approved requests until ctx ends. It does not
// recover: the caller runs Recover once, before Run and before Submit is
// reachable, since a request submitted meanwhile would look unfinished to
// it and be processed twice. Work submitted before Run waits in the queue.
func (p *Pipeline) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range p.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-p.work:
					p.process(ctx, j)
				}
			}
		})
	}
	wg.Go(func() { p.collectAlerts(ctx) })
	wg.Go(func() { p.expireHolds(ctx) })
	wg.Wait()
	p.released.Wait()
	return nil
}

func (p *Pipeline) notify() {
	if p.cfg.Notify != nil {
		p.cfg.Notify()
	}
}
