package migrate

import (
	"context"
	"errors"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// Recover settles what a crash left open, before any wave runs again:
//   - a command still in intent never left (it is marked sent before it
//     is handed on): its device goes to retry-wait, due at once;
//   - a sent command may have reached the device: its device goes to
//     unknown, to be read back;
//   - an open read-back is abandoned: its device is still unknown;
//   - a running wave is paused: an operator resumes it (ecos migrate
//     resume), having seen what the crash left.
//
// It returns how many commands it settled.
func (r *Runner) Recover(ctx context.Context) (int, error) {
	total := 0
	for {
		open, err := r.cfg.Commands.OpenCommands(ctx, 1000)
		if err != nil {
			return total, err
		}
		if len(open) == 0 {
			break
		}
		now := r.cfg.Now()
		ss := make([]store.Settlement, 0, len(open))
		for _, c := range open {
			s := store.Settlement{OwnKey: store.OwnKey{Device: c.Device, Counter: c.Counter}, State: store.OwnFailed}
			switch {
			case c.Kind == store.OwnReadBack:
				s.Outcome = "interrupted: abandoned"
			case c.State == store.OwnIntent:
				s.Outcome = "interrupted before it was sent"
				s.Move = &store.Move{Device: c.Device, From: store.MigrationSent, To: store.MigrationRetryWait, At: now,
					Cause: "not sent: interrupted", Counter: c.Counter, Due: now}
			default:
				s.Outcome = "interrupted after it was sent: outcome unknown"
				s.Move = &store.Move{Device: c.Device, From: store.MigrationSent, To: store.MigrationUnknown, At: now,
					Cause: "no response: interrupted after sending", Counter: c.Counter}
			}
			ss = append(ss, s)
		}
		errs, err := r.cfg.Commands.SettleCommands(ctx, ss, now)
		if err != nil {
			return total, err
		}
		for _, e := range errs {
			if e != nil {
				// Settling again would loop: what is left is for a person.
				return total, e
			}
		}
		total += len(ss)
	}
	waves, err := r.cfg.Waves.Waves(ctx)
	if err != nil {
		return total, err
	}
	for _, w := range waves {
		if w.State != store.WaveRunning {
			continue
		}
		_, err := r.cfg.Waves.SetWaveState(ctx, w.ID, store.WavePaused, "interrupted: the service stopped while it ran; resume it", r.cfg.Now())
		if err != nil && !errors.Is(err, store.ErrTransition) {
			return total, err
		}
	}
	return total, nil
}

// RestoreCounts counts the party's own commands of the last day again
// against the DCC-wide thresholds, as a start does the Users' requests, so
// that a restart opens no fresh window. It returns how many it counted.
func (r *Runner) RestoreCounts(ctx context.Context) (int, error) {
	if r.cfg.Thresholds == nil {
		return 0, nil
	}
	n := 0
	since := r.cfg.Now().Add(-24 * time.Hour)
	err := r.cfg.Waves.OwnCommandsSince(ctx, since, func(kind store.OwnKind, at time.Time) error {
		srv := r.srvMigrate
		if kind == store.OwnReadBack {
			srv = r.srvRead
		}
		r.cfg.Thresholds.CountOwn(srv, at)
		n++
		return nil
	})
	return n, err
}
