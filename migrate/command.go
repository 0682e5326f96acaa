package migrate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/store"
)

// job is one claimed command on its way.
type job struct {
	claimed store.Claimed
	msg     *gbcs.Message
	frame   []byte
	err     error // signing failed
	reply   *dispatch.Reply
	sendErr error
}

// command sends a batch of commands of kind to ds, whose leases the
// caller holds, and records every outcome. It returns how many left.
func (r *Runner) command(ctx context.Context, w store.Wave, ds []eui.EUI, kind store.OwnKind) (int, error) {
	if kind == store.OwnReadBack {
		return r.readBack(ctx, w, ds)
	}
	jobs, err := r.claim(ctx, w, ds, kind, "tcos")
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	n, err := r.sendAll(ctx, w, jobs, "tcos")
	if err != nil {
		return n, err
	}
	now := r.cfg.Now()
	ss := make([]store.Settlement, 0, len(jobs))
	for _, j := range jobs {
		ss = append(ss, r.migrated(j, now))
	}
	return n, r.settle(ctx, store.OwnMigrate, ss)
}

// claim reserves counters and records intents for ds, building each
// command for key.
func (r *Runner) claim(ctx context.Context, w store.Wave, ds []eui.EUI, kind store.OwnKind, key string) ([]*job, error) {
	originator, err := r.cfg.Signer.Originator(key)
	if err != nil {
		return nil, err
	}
	claims := make([]store.Claim, len(ds))
	cause := fmt.Sprintf("wave %d", w.ID)
	for i, d := range ds {
		claims[i] = store.Claim{Device: d, Kind: kind, Wave: w.ID, Cause: cause}
	}
	msgs := make(map[eui.EUI]*gbcs.Message, len(ds))
	claimed, err := r.cfg.Commands.ClaimCommands(ctx, counterKey, claims, r.cfg.Now(), func(c store.Claim, counter uint64) (store.Built, error) {
		var msg *gbcs.Message
		var err error
		if c.Kind == store.OwnMigrate {
			var payload *gbcs.UpdateSecurityCredentials
			if payload, err = cosbuild.TransCoSByTransCoS(r.cfg.Migration, counter); err == nil {
				msg, err = cosbuild.Command(originator, c.Device, payload)
			}
		} else {
			msg, err = cosbuild.ReadBack(originator, c.Device, counter)
		}
		if err != nil {
			return store.Built{}, err
		}
		tbs, err := msg.SignedBytes()
		if err != nil {
			return store.Built{}, err
		}
		msgs[c.Device] = msg
		return store.Built{KeyID: key, TBS: tbs}, nil
	})
	if err != nil {
		return nil, err
	}
	jobs := make([]*job, 0, len(claimed))
	for _, c := range claimed {
		if c.Err != nil {
			// Another worker or a 6.23 moved the device first: nothing
			// was recorded for it.
			r.cfg.Log.Debug("migration claim refused", "device", c.Command.Device.String(), "err", c.Err)
			continue
		}
		jobs = append(jobs, &job{claimed: c, msg: msgs[c.Command.Device]})
	}
	return jobs, nil
}

// sendAll signs the jobs, records them sent, and hands them to the
// gateway at once (the caller has bounded the batch by the wave's
// concurrency). A job that could not be signed is settled here and
// dropped from jobs' further handling by its err.
func (r *Runner) sendAll(ctx context.Context, w store.Wave, jobs []*job, key string) (int, error) {
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		j.frame, j.err = r.cfg.Signer.SignOwn(j.msg, key)
	})
	keys := make([]store.OwnKey, 0, len(jobs))
	var lo, hi uint64
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		c := j.claimed.Command
		keys = append(keys, store.OwnKey{Device: c.Device, Counter: c.Counter})
		if lo == 0 || c.Counter < lo {
			lo = c.Counter
		}
		hi = max(hi, c.Counter)
	}
	if err := r.cfg.Commands.MarkOwnSent(ctx, keys, r.cfg.Now()); err != nil {
		return 0, err
	}
	kind := jobs[0].claimed.Command.Kind
	r.cfg.Audit.Info("sending migration commands", "wave", int64(w.ID), "kind", string(kind), "key_id", key,
		"commands", len(keys), "first_counter", lo, "last_counter", hi)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
			defer cancel()
			j.reply, j.sendErr = r.cfg.Gateway.Send(sctx, j.frame)
		})
	}
	wg.Wait()
	return len(keys), nil
}

// settle records the settlements; a refused one is logged (the device was
// moved by someone else meanwhile, which the graph forbids for a device
// in flight, so it is worth a look).
func (r *Runner) settle(ctx context.Context, kind store.OwnKind, ss []store.Settlement) error {
	if len(ss) == 0 {
		return nil
	}
	errs, err := r.cfg.Commands.SettleCommands(ctx, ss, r.cfg.Now())
	if err != nil {
		return err
	}
	for i, s := range ss {
		if errs[i] == nil {
			r.metrics.settled(kind, s)
		}
	}
	for i, e := range errs {
		if e != nil {
			r.cfg.Log.Error("settling migration command", "device", ss[i].Device.String(), "counter", ss[i].Counter, "err", e)
		}
	}
	return nil
}

// verify checks that frame is device's signed response to c with code.
func (r *Runner) verify(c store.OwnCommand, code gbcs.MessageCode, frame []byte) (*gbcs.Message, error) {
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		return nil, err
	}
	switch {
	case m.CRA != gbcs.CRAResponse:
		return nil, fmt.Errorf("CRA flag %s, want response", m.CRA)
	case m.Originator != c.Device:
		return nil, fmt.Errorf("response from %s to a command for %s", m.Originator, c.Device)
	case m.Counter != c.Counter:
		return nil, fmt.Errorf("response counter %d, command counter %d", m.Counter, c.Counter)
	case m.Code != code:
		return nil, fmt.Errorf("message code %s, command's %s", m.Code, code)
	case m.Sig != gbcs.SigPresent:
		return nil, errors.New("response is not signed")
	}
	pub, err := r.cfg.DeviceKeys.DeviceKey(m.Originator)
	if err != nil {
		return nil, err
	}
	if err := m.Verify(pub); err != nil {
		return nil, err
	}
	return m, nil
}

// backoff is how long a device waits before attempt+1: Base doubled per
// attempt made, at most Max, times a jitter in [0.5, 1.5).
func (r *Runner) backoff(attempt int64) time.Duration {
	d := r.cfg.Retry.Base
	for i := int64(1); i < attempt && d < r.cfg.Retry.Max; i++ {
		d *= 2
	}
	d = min(d, r.cfg.Retry.Max)
	var b [8]byte
	if _, err := r.cfg.Rand.Read(b[:]); err != nil {
		return d
	}
	f := 0.5 + float64(binary.BigEndian.Uint64(b[:])>>11)/(1<<53)
	return time.Duration(float64(d) * f)
}

// parallel runs fn(0..n-1) on as many goroutines as there are CPUs.
func parallel(n int, fn func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				fn(k)
			}
		})
	}
	wg.Wait()
}
