package thresholds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// Store is what thresholds keeps durably; *store.DB satisfies it.
type Store interface {
	AcceptADTFile(ctx context.Context, f store.ADTFile) error
	CurrentADTFiles(ctx context.Context, fn func(store.ADTFile) error) error
	ADTFiles(ctx context.Context, user eui.EUI) ([]store.ADTFile, error)
	AdmittedSince(ctx context.Context, since time.Time, fn func(user eui.EUI, at time.Time) error) error
	Holds(ctx context.Context, q store.HoldQuery) ([]store.Held, error)
	Hold(ctx context.Context, ref uint64) (store.Held, error)
}

// Counter is the threshold counter; *anomaly.Counter satisfies it.
type Counter interface {
	SetUser(user eui.EUI, th []adt.Threshold)
	Count(user eui.EUI, srv anomaly.SRV, at time.Time)
	Counts(user eui.EUI, at time.Time) []anomaly.WindowCount
	DCCCounts(at time.Time) []anomaly.WindowCount
}

// Holds decides held requests; *pipeline.Pipeline satisfies it.
type Holds interface {
	DecideHolds(ctx context.Context, user *eui.EUI, actions []pipeline.HoldAction, by string) ([]store.Held, error)
}

// Config is fixed for the life of a Thresholds.
type Config struct {
	Store   Store
	Counter Counter
	Holds   Holds
	// FileSigners finds the File Signing certificate a signature line
	// names; IKI is the IKI File Signing CA they must chain to.
	FileSigners   adt.CertFinder
	IKI           *smki.Pool
	Intermediates *smki.Pool
	Links         *smki.Links
	Now           func() time.Time
	Log, Audit    *slog.Logger
}

// Thresholds accepts ADT and action files and keeps the counter loaded.
type Thresholds struct {
	cfg    Config
	srvCoS anomaly.SRV
	// accept serialises accepting a file with putting it in force, so two
	// files of one User cannot be put in force in the other order.
	accept sync.Mutex
}

// New checks cfg.
func New(cfg Config) (*Thresholds, error) {
	switch {
	case cfg.Store == nil || cfg.Counter == nil || cfg.Holds == nil:
		return nil, errors.New("thresholds: store, counter and holds are required")
	case cfg.FileSigners == nil || cfg.IKI == nil:
		return nil, errors.New("thresholds: no File Signing certificates or IKI File Signing CA")
	case cfg.Now == nil || cfg.Log == nil || cfg.Audit == nil:
		return nil, errors.New("thresholds: no clock or logs")
	}
	srv, ok := anomaly.SRVOf(adt.SRVCoS)
	if !ok {
		return nil, errors.New("thresholds: the anomaly counter does not know SR 6.23")
	}
	return &Thresholds{cfg: cfg, srvCoS: srv}, nil
}

// Loaded is what Load found.
type Loaded struct {
	Users    int // Users with a file in force
	Restored int // requests of the last day counted again
}

// Load puts the newest accepted file of every User in force and counts
// again the requests of the last day (the longest interval), so that a
// restart opens no fresh window. A stored file that no longer reads is an
// error: the service must not run with a User's thresholds silently gone.
func (t *Thresholds) Load(ctx context.Context) (Loaded, error) {
	var l Loaded
	err := t.cfg.Store.CurrentADTFiles(ctx, func(sf store.ADTFile) error {
		f, err := adt.Read(sf.Document, adt.ValidateOptions{AllowLegacy: sf.Legacy})
		if err != nil {
			return fmt.Errorf("thresholds: the stored ADT file %d of User %s no longer reads: %w", sf.Sequence, sf.User, err)
		}
		t.cfg.Counter.SetUser(f.User, f.Effective())
		l.Users++
		return nil
	})
	if err != nil {
		return l, err
	}
	since := t.cfg.Now().Add(-time.Duration(adt.MaxInterval) * time.Minute)
	err = t.cfg.Store.AdmittedSince(ctx, since, func(user eui.EUI, at time.Time) error {
		t.cfg.Counter.Count(user, t.srvCoS, at)
		l.Restored++
		return nil
	})
	return l, err
}

// Accepted is an ADT file put in force.
type Accepted struct {
	File       *adt.File
	Signer     *smki.Certificate
	Thresholds []adt.Threshold
}

// Submit accepts a User's signed ADT file, from source (for the record:
// "api", "cli"). A legacy file (no sequence number) is accepted only when
// legacy is set, by the operator carrying settings over from before June
// 2023, and only for a User with no file yet. A refused file changes
// nothing; the error is an *adt.Problems listing every problem with its
// line, or wraps store.ErrReplay.
func (t *Thresholds) Submit(ctx context.Context, b []byte, source string, legacy bool) (*Accepted, error) {
	a, err := t.submit(ctx, b, source, legacy)
	if err != nil {
		// Every refusal is on the record, even of a file that never
		// parsed: a User probing with bad files is worth seeing.
		attrs := []any{"source", source, "bytes", len(b), "outcome", "refused", "err", err.Error()}
		if f, perr := adt.Parse(b); perr == nil {
			attrs = append(attrs, "user", f.User.String(), "sequence", f.Sequence)
		}
		t.cfg.Audit.Info("adt file refused", attrs...)
		return nil, err
	}
	t.cfg.Audit.Info("adt file accepted", "user", a.File.User.String(), "sequence", a.File.Sequence, "legacy", a.File.Legacy,
		"source", source, "signer_serial", a.Signer.SerialNumber.String(), "rows", len(a.File.Rows), "outcome", "accepted")
	return a, nil
}

func (t *Thresholds) submit(ctx context.Context, b []byte, source string, legacy bool) (*Accepted, error) {
	if err := t.noIKI(); err != nil {
		return nil, err
	}
	f, err := adt.Read(b, adt.ValidateOptions{AllowLegacy: legacy})
	if err != nil {
		return nil, err
	}
	cert, err := adt.Verify(f, t.cfg.FileSigners, t.verifyOptions())
	if err != nil {
		return nil, err
	}
	t.accept.Lock()
	defer t.accept.Unlock()
	if err := t.checkSequence(ctx, f); err != nil {
		return nil, err
	}
	err = t.cfg.Store.AcceptADTFile(ctx, store.ADTFile{User: f.User, Sequence: f.Sequence, Legacy: f.Legacy,
		Document: b, AcceptedAt: t.cfg.Now().UTC(), Source: source})
	if err != nil {
		return nil, err
	}
	th := f.Effective()
	t.cfg.Counter.SetUser(f.User, th)
	return &Accepted{File: f, Signer: cert, Thresholds: th}, nil
}

// checkSequence refuses a replay with the file's own kind of problem; the
// store refuses it again, atomically, should another process have
// accepted a file meanwhile.
func (t *Thresholds) checkSequence(ctx context.Context, f *adt.File) error {
	history, err := t.cfg.Store.ADTFiles(ctx, f.User)
	if err != nil {
		return err
	}
	if len(history) == 0 {
		return nil
	}
	if f.Legacy {
		inForce := fmt.Sprintf("file %d", history[0].Sequence)
		if history[0].Legacy {
			inForce = "a legacy file"
		}
		return &adt.Problems{{Line: 1, Err: adt.ErrLegacy, Msg: fmt.Sprintf(
			"a legacy file only carries over the settings of a User with none: User %s has %s in force", f.User, inForce)}}
	}
	return adt.CheckSequence(f, history[0].Sequence, true)
}

// Act applies a User's signed Quarantined Communications Action File: all
// its actions, or none. Every ref must be one of that User's held
// requests.
func (t *Thresholds) Act(ctx context.Context, b []byte) ([]store.Held, error) {
	if err := t.noIKI(); err != nil {
		return nil, err
	}
	f, err := adt.ParseAction(b)
	if err != nil {
		return nil, err
	}
	if _, err := adt.VerifyAction(f, t.cfg.FileSigners, t.verifyOptions()); err != nil {
		return nil, err
	}
	if err := t.userMayRelease(ctx, f); err != nil {
		return nil, err
	}
	actions := make([]pipeline.HoldAction, len(f.Rows))
	for i, r := range f.Rows {
		actions[i] = pipeline.HoldAction{Ref: r.Ref, Release: r.Action == adt.Release}
	}
	sum := sha256.Sum256(b)
	return t.cfg.Holds.DecideHolds(ctx, &f.User, actions, "action-file:"+hex.EncodeToString(sum[:8]))
}

// noIKI refuses every file when no IKI File Signing CA is configured: a
// file no one can verify is one no one can be held to.
func (t *Thresholds) noIKI() error {
	if t.cfg.IKI.Len() > 0 {
		return nil
	}
	return &adt.Problems{{Line: 0, Err: adt.ErrSigner,
		Msg: "this ECoS Party has no IKI File Signing CA configured (anomaly.file_signing_cas), so it can verify no file"}}
}

// userMayRelease refuses a User's release of a request a DCC-wide
// threshold held: that threshold guards every User and the CoS Party, so
// only the operator lifts it. The User may still delete it.
func (t *Thresholds) userMayRelease(ctx context.Context, f *adt.ActionFile) error {
	var ps adt.Problems
	for _, r := range f.Rows {
		if r.Action != adt.Release {
			continue
		}
		h, err := t.cfg.Store.Hold(ctx, r.Ref)
		if errors.Is(err, store.ErrNotFound) {
			continue // DecideHolds names it, with every other bad ref
		}
		if err != nil {
			return err
		}
		if h.User == f.User && h.Breach == store.BreachDCC {
			ps = append(ps, adt.Problem{Line: r.Line, Err: adt.ErrRule, Msg: fmt.Sprintf(
				"QuarantineEventRef %d was held by a DCC-wide threshold: only the operator can release it (a User may delete it)", r.Ref)})
		}
	}
	if len(ps) > 0 {
		return &ps
	}
	return nil
}

func (t *Thresholds) verifyOptions() adt.VerifyOptions {
	return adt.VerifyOptions{IKI: t.cfg.IKI, Intermediates: t.cfg.Intermediates, Now: t.cfg.Now(), Links: t.cfg.Links}
}

// Decide releases or deletes one held request at the operator's word.
func (t *Thresholds) Decide(ctx context.Context, ref uint64, release bool, by string) (store.Held, error) {
	held, err := t.cfg.Holds.DecideHolds(ctx, nil, []pipeline.HoldAction{{Ref: ref, Release: release}}, by)
	if err != nil {
		return store.Held{}, err
	}
	if len(held) != 1 {
		return store.Held{}, fmt.Errorf("thresholds: deciding %d returned %d holds", ref, len(held))
	}
	return held[0], nil
}
