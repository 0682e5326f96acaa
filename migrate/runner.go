package migrate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// counterKey is the originator-counter namespace of the transitionalCoS
// cell, shared with the 6.23 commands (signer.CounterKey).
const counterKey = "cos"

// Runner migrates the devices of running waves.
type Runner struct {
	cfg     Config
	metrics *metrics
	// limiters keeps each wave's rate limit across its passes, so that a
	// pause and resume (or a restart of the pass) grants no new burst.
	limMu    sync.Mutex
	limiters map[store.WaveID]*rate.Limiter
	ecosSKI  gbcs.KeyID
	// The SRVs migration commands and read-backs count against.
	srvMigrate, srvRead anomaly.SRV
}

// New checks cfg.
func New(cfg Config) (*Runner, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, metrics: m}
	if len(cfg.Migration.NewCertificate) > 0 {
		c, err := smki.Parse(cfg.Migration.NewCertificate)
		if err != nil {
			return nil, fmt.Errorf("migrate: the ECoS certificate: %w", err)
		}
		copy(r.ecosSKI[:], c.SubjectKeyID)
	}
	r.srvMigrate, _ = anomaly.SRVOf("6.23")
	r.srvRead, _ = anomaly.SRVOf("6.24.1")
	return r, nil
}

// ErrNotReady means the service cannot migrate: it lacks the TCoS or
// ECoS key, or the ECoS certificate's certification path.
var ErrNotReady = errors.New("migrate: not configured to migrate")

// Ready says why the runner cannot send a migration command, or nil.
func (r *Runner) Ready() error {
	if len(r.cfg.Migration.NewCertificate) == 0 || len(r.cfg.Migration.CertificationPath) == 0 {
		return fmt.Errorf("%w: keys.ecos and the ECoS certificate's issuing CA (in trust.intermediates) are needed", ErrNotReady)
	}
	for _, id := range []string{"tcos", "ecos"} {
		if _, err := r.cfg.Signer.Originator(id); err != nil {
			return fmt.Errorf("%w: no %s key (keys.%s)", ErrNotReady, id, id)
		}
	}
	return nil
}

// limiter is wave w's rate limit, nil when it has none.
func (r *Runner) limiter(w store.Wave) *rate.Limiter {
	if w.Rate <= 0 {
		return nil
	}
	r.limMu.Lock()
	defer r.limMu.Unlock()
	if r.limiters == nil {
		r.limiters = map[store.WaveID]*rate.Limiter{}
	}
	lim, ok := r.limiters[w.ID]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(w.Rate), max(1, int(w.Rate)))
		r.limiters[w.ID] = lim
	}
	return lim
}

// Pass is what one RunWave achieved and where it left the wave.
type Pass struct {
	Wave      store.Wave
	Migrated  int // commands sent
	ReadBacks int // read-backs sent
	Requeued  int // devices whose retry was due
	Taken     int // devices taken into the wave
	// Waiting is true when the wave is running but has nothing to do
	// before some device's retry is due.
	Waiting bool
}

// RunWave works on wave id until it is done, paused or cancelled, or has
// nothing to do until a retry is due (Pass.Waiting), or ctx ends. It is
// safe to call again at any time: everything it knows is in the store.
func (r *Runner) RunWave(ctx context.Context, id store.WaveID) (Pass, error) {
	w, err := r.cfg.Waves.WaveByID(ctx, id)
	if err != nil {
		return Pass{}, err
	}
	p := Pass{Wave: w}
	if w.State != store.WaveRunning {
		return p, nil
	}
	if err := r.Ready(); err != nil {
		return p, err
	}
	batch := max(1, min(r.cfg.Batch, w.Concurrency))
	lim := r.limiter(w)
	run := &wavePass{r: r, w: w, batch: batch, lim: lim, slots: make(chan struct{}, w.Concurrency)}
	defer run.wg.Wait()
	for {
		w, err = r.cfg.Waves.WaveByID(ctx, id)
		if err != nil {
			return run.result(p, w), err
		}
		if w.State != store.WaveRunning || run.stopped() != nil {
			run.wg.Wait()
			w, _ = r.cfg.Waves.WaveByID(ctx, id)
			return run.result(p, w), run.stopped()
		}
		if err := ctx.Err(); err != nil {
			return run.result(p, w), err
		}
		found, err := run.next(ctx)
		if err != nil {
			run.fail(err)
			continue
		}
		if found {
			continue
		}
		// Nothing left to start on this pass: let what is in flight
		// finish, then look once more from the start before deciding.
		run.wg.Wait()
		if run.stopped() != nil {
			continue
		}
		if run.rewind() {
			continue
		}
		// The pass that found nothing also took nothing: no matching device
		// is left outside the wave. Whether any inside it is still on its
		// way is a look at one index entry, not a count of the wave.
		open, err := r.cfg.Waves.WaveHasOpen(ctx, id)
		if err != nil {
			return run.result(p, w), err
		}
		if !open {
			w, err = r.cfg.Waves.SetWaveState(ctx, id, store.WaveDone, "every device is in ecos, exception or excluded", r.cfg.Now())
			return run.result(p, w), err
		}
		p = run.result(p, w)
		p.Waiting = true
		return p, nil
	}
}

// wavePass is the state of one RunWave.
type wavePass struct {
	r     *Runner
	w     store.Wave
	batch int
	lim   *rate.Limiter
	slots chan struct{} // one per device in flight
	wg    sync.WaitGroup

	// Paging cursors, and whether each source gave anything since the
	// last rewind.
	retryAt, readAt, queuedAt, takeAt eui.EUI
	fresh                             bool

	mu                                   sync.Mutex
	err                                  error
	migrated, readBacks, requeued, taken int
}

func (run *wavePass) fail(err error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.err == nil {
		run.err = err
	}
}

func (run *wavePass) stopped() error {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.err
}

func (run *wavePass) result(p Pass, w store.Wave) Pass {
	run.mu.Lock()
	defer run.mu.Unlock()
	p.Wave = w
	p.Migrated, p.ReadBacks, p.Requeued, p.Taken = run.migrated, run.readBacks, run.requeued, run.taken
	return p
}

// waitRunning waits d for the rate limit, a second at a time, and reports
// whether the wave is still running after it: a pause or a cancel during
// the wait takes effect within a second, and nothing more is sent.
func (run *wavePass) waitRunning(ctx context.Context, d time.Duration) (bool, error) {
	for {
		step := min(d, time.Second)
		if err := run.r.cfg.Wait(ctx, step); err != nil {
			return false, err
		}
		d -= step
		w, err := run.r.cfg.Waves.WaveByID(ctx, run.w.ID)
		if err != nil {
			return false, err
		}
		if w.State != store.WaveRunning {
			return false, nil
		}
		if d <= 0 {
			return true, nil
		}
	}
}

// rewind starts the cursors again; it reports whether the pass that ended
// found anything, so that a pass finding nothing ends the wave's turn.
func (run *wavePass) rewind() bool {
	again := run.fresh
	run.retryAt, run.readAt, run.queuedAt, run.takeAt = eui.EUI{}, eui.EUI{}, eui.EUI{}, eui.EUI{}
	run.fresh = false
	return again
}

// next starts the next piece of work, in order: retries that are due,
// read-backs, queued devices, devices the wave has not taken yet.
func (run *wavePass) next(ctx context.Context) (bool, error) {
	r, now := run.r, run.r.cfg.Now()
	ds, err := r.cfg.Waves.WaveDevices(ctx, run.w.ID, store.MigrationRetryWait, run.retryAt, now, run.batch)
	if err != nil {
		return false, err
	}
	if len(ds) > 0 {
		run.retryAt, run.fresh = ds[len(ds)-1], true
		n, err := r.requeue(ctx, run.w, ds)
		run.mu.Lock()
		run.requeued += n
		run.mu.Unlock()
		return true, err
	}
	for _, src := range []struct {
		state store.MigrationState
		at    *eui.EUI
		kind  store.OwnKind
	}{{store.MigrationUnknown, &run.readAt, store.OwnReadBack}, {store.MigrationQueued, &run.queuedAt, store.OwnMigrate}} {
		ds, err := r.cfg.Waves.WaveDevices(ctx, run.w.ID, src.state, *src.at, now, run.batch)
		if err != nil {
			return false, err
		}
		if len(ds) == 0 {
			continue
		}
		*src.at = ds[len(ds)-1]
		started, err := run.start(ctx, ds, src.kind)
		run.fresh = run.fresh || started
		return true, err
	}
	last, n, err := r.cfg.Waves.TakeForWave(ctx, run.w, run.takeAt, run.batch, now)
	if err != nil || last.IsZero() {
		return false, err
	}
	run.takeAt, run.fresh = last, true
	run.mu.Lock()
	run.taken += n
	run.mu.Unlock()
	return true, nil
}

// start takes the leases of the devices nobody else is commanding, waits
// for room and the rate limit, and hands them to a worker. It reports
// whether it started anything: a device another command holds is left for
// a later pass.
func (run *wavePass) start(ctx context.Context, ds []eui.EUI, kind store.OwnKind) (bool, error) {
	r := run.r
	mine := ds[:0:0]
	for _, d := range ds {
		if r.cfg.Leases.TryAcquire(d) {
			mine = append(mine, d)
		}
	}
	if len(mine) == 0 {
		return false, nil
	}
	release := func(from int) {
		for _, d := range mine[from:] {
			r.cfg.Leases.Release(d)
		}
	}
	for i := range mine {
		select {
		case run.slots <- struct{}{}:
		case <-ctx.Done():
			release(0)
			for range i {
				<-run.slots
			}
			return false, ctx.Err()
		}
	}
	if run.lim != nil {
		res := run.lim.ReserveN(r.cfg.Now(), len(mine))
		if !res.OK() {
			res = run.lim.ReserveN(r.cfg.Now(), run.lim.Burst())
		}
		running, err := run.waitRunning(ctx, res.DelayFrom(r.cfg.Now()))
		if err != nil || !running {
			release(0)
			for range mine {
				<-run.slots
			}
			// Not running any more: the caller's next look at the wave
			// ends the pass.
			return err == nil, err
		}
	}
	// DCC-wide thresholds: a hold pauses the wave; the devices not yet
	// admitted stay where they are.
	srv := r.srvMigrate
	if kind == store.OwnReadBack {
		srv = r.srvRead
	}
	admitted := len(mine)
	var held string
	if r.cfg.Thresholds != nil {
		for i := range mine {
			d := r.cfg.Thresholds.CheckOwn(srv, r.cfg.Now())
			if d.Outcome == anomaly.Quarantine {
				admitted = i
				held = fmt.Sprintf("DCC-wide anomaly threshold for SRV %s reached (%d in %d minutes, quarantine above %d)",
					srv, d.Count, d.Rule.Interval, d.Rule.Quarantine)
				break
			}
		}
	}
	release(admitted)
	for range len(mine) - admitted {
		<-run.slots
	}
	if held != "" {
		r.metrics.holds.Inc()
		r.cfg.Log.Warn("migration wave paused", "wave", int64(run.w.ID), "reason", held)
		if _, err := r.cfg.Waves.SetWaveState(ctx, run.w.ID, store.WavePaused, held, r.cfg.Now()); err != nil && !errors.Is(err, store.ErrTransition) {
			run.fail(err)
		}
	}
	if admitted == 0 {
		return false, nil
	}
	work := mine[:admitted]
	run.wg.Go(func() {
		defer func() {
			for _, d := range work {
				r.cfg.Leases.Release(d)
				<-run.slots
			}
		}()
		n, err := r.command(context.WithoutCancel(ctx), run.w, work, kind)
		run.mu.Lock()
		if kind == store.OwnMigrate {
			run.migrated += n
		} else {
			run.readBacks += n
		}
		run.mu.Unlock()
		if err != nil {
			run.fail(err)
		}
	})
	return true, nil
}

// requeue moves devices whose retry is due back to queued, or to
// exception when their attempts are used up.
func (r *Runner) requeue(ctx context.Context, w store.Wave, ds []eui.EUI) (int, error) {
	now := r.cfg.Now()
	moves := make([]store.Move, 0, len(ds))
	for _, d := range ds {
		st, err := r.cfg.Commands.MigrationStatusOf(ctx, d)
		if err != nil {
			return 0, err
		}
		m := store.Move{Device: d, From: store.MigrationRetryWait, To: store.MigrationQueued, At: now, Cause: fmt.Sprintf("retry %d of %d", st.Attempt+1, r.cfg.Retry.Attempts)}
		if int(st.Attempt) >= r.cfg.Retry.Attempts {
			m.To, m.Cause = store.MigrationException, fmt.Sprintf("attempts used up (%d)", st.Attempt)
		}
		moves = append(moves, m)
	}
	res, err := r.cfg.Commands.MoveDevices(ctx, moves)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range res {
		if x.Err == nil {
			n++
		}
	}
	return n, nil
}

// Run works on every running wave, each on its own, until ctx ends; wake
// makes it look again at once (a wave started or resumed), otherwise it
// looks every poll.
func (r *Runner) Run(ctx context.Context, wake <-chan struct{}, poll time.Duration) error {
	// Each running wave has its own worker, so a slow wave (a low rate)
	// holds no other back. Their devices never overlap: a device is in
	// one wave, and the leases keep one command per device anyway.
	var mu sync.Mutex
	active := map[store.WaveID]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		waves, err := r.cfg.Waves.Waves(ctx)
		if err != nil && ctx.Err() == nil {
			r.cfg.Log.Error("reading migration waves", "err", err)
		}
		for _, w := range waves {
			mu.Lock()
			busy := active[w.ID]
			if w.State == store.WaveRunning && !busy {
				active[w.ID] = true
			}
			mu.Unlock()
			if w.State != store.WaveRunning || busy {
				continue
			}
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(active, w.ID)
					mu.Unlock()
				}()
				r.runOne(ctx, w)
			})
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// runOne is one turn of wave w: until it stops running or waits for a
// retry; an error pauses it, with the error as the reason.
func (r *Runner) runOne(ctx context.Context, w store.Wave) {
	p, err := r.RunWave(ctx, w.ID)
	if err != nil && ctx.Err() == nil {
		r.cfg.Log.Error("migration wave", "wave", int64(w.ID), "err", err)
		if _, perr := r.cfg.Waves.SetWaveState(ctx, w.ID, store.WavePaused, "stopped by an error: "+err.Error(), r.cfg.Now()); perr != nil && !errors.Is(perr, store.ErrTransition) {
			r.cfg.Log.Error("pausing migration wave", "wave", int64(w.ID), "err", perr)
		}
	}
	if p.Wave.State == store.WaveDone {
		r.cfg.Log.Info("migration wave done", "wave", int64(w.ID), "name", w.Name)
	}
}
