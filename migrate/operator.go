package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// OperatorWaves is where the operator's waves are; *store.DB is one.
type OperatorWaves interface {
	CreateWave(ctx context.Context, w store.Wave) (store.WaveID, error)
	PlanWave(ctx context.Context, f store.WaveFilter, sample int) (int64, int64, []eui.EUI, error)
	WaveByID(ctx context.Context, id store.WaveID) (store.Wave, error)
	Waves(ctx context.Context) ([]store.Wave, error)
	SetWaveState(ctx context.Context, id store.WaveID, to store.WaveState, reason string, at time.Time) (store.Wave, error)
	WaveCounts(ctx context.Context, id store.WaveID) (map[store.MigrationState]int64, int64, error)
	WaveDevices(ctx context.Context, wave store.WaveID, state store.MigrationState, after eui.EUI, due time.Time, limit int) ([]eui.EUI, error)
	WaveHasOpen(ctx context.Context, id store.WaveID) (bool, error)
}

// OperatorDevices moves the devices the operator acts on; *store.DB is
// one.
type OperatorDevices interface {
	MoveDevices(ctx context.Context, moves []store.Move) ([]store.MoveResult, error)
	MigrationStatusOf(ctx context.Context, device eui.EUI) (store.MigrationStatus, error)
}

// Operator is the operator's hand on the migration: plan, start, pause,
// resume and cancel waves, and retry, exclude or read back devices.
type Operator struct {
	Store   OperatorWaves
	Devices OperatorDevices
	Runner  *Runner // nil: waves can be planned but not started
	Wake    func()  // tells the runner to look now
	Now     func() time.Time

	counts countCache
}

// countCache keeps a running wave's counts for a while: counting is a scan
// of the wave's devices (about a second for ten million on SQLite), and a
// progress display asks every second. A count is kept for twenty times
// what it cost, at least a second, so watching a wave costs the database
// at most a twentieth of its time; an operator's action, or a wave that
// is no longer running, forgets it.
type countCache struct {
	mu   sync.Mutex
	byID map[store.WaveID]cachedCount
}

type cachedCount struct {
	counts  map[store.MigrationState]int64
	untaken int64
	until   time.Time
}

func (c *countCache) get(id store.WaveID, now time.Time) (cachedCount, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byID[id]
	return v, ok && now.Before(v.until)
}

func (c *countCache) put(id store.WaveID, v cachedCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[store.WaveID]cachedCount{}
	}
	c.byID[id] = v
}

func (c *countCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.byID)
}

// Plan is what a wave with a filter would take now.
type Plan struct {
	TCoS    int64     // devices it would migrate
	Unknown int64     // devices it would read back first
	First   []eui.EUI // the first of them, in the order they go
}

// Plan counts what a wave with f would take.
func (o *Operator) Plan(ctx context.Context, f store.WaveFilter) (Plan, error) {
	tcos, unknown, first, err := o.Store.PlanWave(ctx, f, 10)
	if err != nil {
		return Plan{}, asRequestError(err)
	}
	return Plan{TCoS: tcos, Unknown: unknown, First: first}, nil
}

// Start creates and runs wave w.
func (o *Operator) Start(ctx context.Context, w store.Wave) (store.Wave, error) {
	defer o.counts.forget()
	if o.Runner == nil {
		return store.Wave{}, refuse(RefusedUnavailable, ErrNotReady, "this service does not migrate: it has no migration runner")
	}
	if err := o.Runner.Ready(); err != nil {
		return store.Wave{}, refuse(RefusedUnavailable, err, "%s", err.Error())
	}
	w.CreatedAt = o.Now()
	id, err := o.Store.CreateWave(ctx, w)
	if err != nil {
		return store.Wave{}, asRequestError(err)
	}
	o.wake()
	return o.Store.WaveByID(ctx, id)
}

// Wave actions.
const (
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionCancel = "cancel"
)

// Act pauses, resumes or cancels wave id. Cancelling puts the devices it
// has queued but not sent back in tcos; devices in flight finish.
func (o *Operator) Act(ctx context.Context, id store.WaveID, action, note string) (store.Wave, error) {
	defer o.counts.forget()
	to := map[string]store.WaveState{ActionPause: store.WavePaused, ActionResume: store.WaveRunning, ActionCancel: store.WaveCancelled}[action]
	if to == "" {
		return store.Wave{}, refuse(RefusedBadRequest, nil, "no wave action %q (pause, resume or cancel)", action)
	}
	reason := "operator"
	if note != "" {
		reason += ": " + note
	}
	if to == store.WaveRunning {
		reason = ""
	}
	// Only a paused wave resumes: a done one runs again only when the
	// operator retries or reads back one of its devices.
	from := map[string][]store.WaveState{ActionPause: {store.WaveRunning}, ActionResume: {store.WavePaused},
		ActionCancel: {store.WaveRunning, store.WavePaused}}[action]
	cur, err := o.Store.WaveByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Wave{}, refuse(RefusedNotFound, err, "there is no wave %d (ecos migrate waves lists them)", id)
	}
	if err != nil {
		return store.Wave{}, err
	}
	refused := func(now store.WaveState) error {
		return refuse(RefusedBadRequest, nil, "wave %d is %s: only a %s wave can be %s", id, now,
			map[string]string{ActionPause: "running", ActionResume: "paused", ActionCancel: "running or paused"}[action],
			map[string]string{ActionPause: "paused", ActionResume: "resumed", ActionCancel: "cancelled"}[action])
	}
	if !slices.Contains(from, cur.State) {
		return store.Wave{}, refused(cur.State)
	}
	w, err := o.Store.SetWaveState(ctx, id, to, reason, o.Now())
	if te, ok := errors.AsType[*store.TransitionError](err); ok {
		return store.Wave{}, refused(store.WaveState(te.From))
	}
	if err != nil {
		return store.Wave{}, asRequestError(err)
	}
	if to == store.WaveCancelled {
		if err := o.unqueue(ctx, id, reason); err != nil {
			return w, err
		}
	}
	o.wake()
	return w, nil
}

// unqueue moves a cancelled wave's queued devices back to tcos.
func (o *Operator) unqueue(ctx context.Context, id store.WaveID, cause string) error {
	for {
		ds, err := o.Store.WaveDevices(ctx, id, store.MigrationQueued, eui.EUI{}, o.Now(), 1000)
		if err != nil || len(ds) == 0 {
			return err
		}
		moves := make([]store.Move, len(ds))
		for i, d := range ds {
			moves[i] = store.Move{Device: d, From: store.MigrationQueued, To: store.MigrationTCoS, At: o.Now(), Cause: "wave cancelled by " + cause}
		}
		if _, err := o.Devices.MoveDevices(ctx, moves); err != nil {
			return err
		}
	}
}

// Device actions.
const (
	ActionRetry    = "retry"
	ActionExclude  = "exclude"
	ActionReadBack = "readback"
)

// DeviceResult is what one device action did.
type DeviceResult struct {
	Device eui.EUI
	From   store.MigrationState
	To     store.MigrationState
	Err    string `json:",omitempty"`
}

// ActOnDevices retries (exception → queued), excludes, or asks for a
// read-back of (exception or excluded → unknown) each device, with the
// operator's note as the cause. A done wave the device is in runs again.
func (o *Operator) ActOnDevices(ctx context.Context, action, note string, ds []eui.EUI) ([]DeviceResult, error) {
	defer o.counts.forget()
	if strings.TrimSpace(note) == "" {
		return nil, refuse(RefusedBadRequest, nil, "a device action needs a note saying why (--note)")
	}
	if len(ds) == 0 || len(ds) > 1000 {
		return nil, refuse(RefusedBadRequest, nil, "name 1 to 1000 devices")
	}
	out := make([]DeviceResult, len(ds))
	moves := make([]store.Move, 0, len(ds))
	idx := make([]int, 0, len(ds))
	for i, d := range ds {
		out[i].Device = d
		st, err := o.Devices.MigrationStatusOf(ctx, d)
		if err != nil {
			out[i].Err = err.Error()
			if errors.Is(err, store.ErrNotFound) {
				out[i].Err = fmt.Sprintf("device %s is not in the inventory", d)
			}
			continue
		}
		out[i].From = st.State
		var to store.MigrationState
		switch action {
		case ActionRetry:
			to = store.MigrationQueued
		case ActionExclude:
			to = store.MigrationExcluded
		case ActionReadBack:
			to = store.MigrationUnknown
		default:
			return nil, refuse(RefusedBadRequest, nil, "no device action %q (retry, exclude or readback)", action)
		}
		if !store.MigrationAllowed(st.State, to) {
			out[i].Err = fmt.Sprintf("a device in %s cannot be %s", st.State, map[string]string{ActionRetry: "retried (only an exception can)",
				ActionExclude: "excluded now", ActionReadBack: "read back (only an exception or an excluded device can)"}[action])
			continue
		}
		out[i].To = to
		moves = append(moves, store.Move{Device: d, From: st.State, To: to, At: o.Now(), Cause: "operator: " + note})
		idx = append(idx, i)
	}
	if len(moves) > 0 {
		res, err := o.Devices.MoveDevices(ctx, moves)
		if err != nil {
			return nil, err
		}
		for k, r := range res {
			if r.Err != nil {
				out[idx[k]].Err, out[idx[k]].To = plain(r.Err), ""
			}
		}
		if action != ActionExclude {
			o.reopen(ctx)
		}
	}
	return out, nil
}

// reopen runs again the done waves that have work: a retried or
// read-back device is in one.
func (o *Operator) reopen(ctx context.Context) {
	waves, err := o.Store.Waves(ctx)
	if err != nil {
		return
	}
	for _, w := range waves {
		if w.State != store.WaveDone {
			continue
		}
		// One index entry per wave, not a count of it.
		if open, err := o.Store.WaveHasOpen(ctx, w.ID); err == nil && open {
			_, _ = o.Store.SetWaveState(ctx, w.ID, store.WaveRunning, "", o.Now())
		}
	}
	o.wake()
}

func (o *Operator) wake() {
	if o.Wake != nil {
		o.Wake()
	}
}

// asRequestError turns the store's refusals into the operator's errors.
func asRequestError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(RefusedNotFound, err, "%s", plain(err))
	case errors.Is(err, store.ErrTransition), errors.Is(err, store.ErrInvalid):
		return refuse(RefusedBadRequest, err, "%s", plain(err))
	}
	return err
}

// plain is the store's message without its package and kind prefixes.
func plain(err error) string {
	msg := err.Error()
	for _, p := range []string{"store: ", "invalid: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// RefusalKind says why an operator action was refused.
type RefusalKind int

// Refusal kinds.
const (
	RefusedBadRequest  RefusalKind = iota + 1 // the action or its arguments are wrong
	RefusedNotFound                           // no such wave
	RefusedUnavailable                        // the service cannot migrate
)

// Refusal is an operator action refused, with a message for the operator.
type Refusal struct {
	Kind RefusalKind
	Msg  string
	Err  error
}

func (r *Refusal) Error() string { return r.Msg }
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(k RefusalKind, err error, format string, args ...any) error {
	return &Refusal{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// WaveProgress is a wave with its devices per state.
type WaveProgress struct {
	Wave    store.Wave
	Counts  map[store.MigrationState]int64
	Untaken int64 // matching devices the wave has not taken yet
}

// Wave is wave id, without its counts: one row, cheap to poll.
func (o *Operator) Wave(ctx context.Context, id store.WaveID) (store.Wave, error) {
	w, err := o.Store.WaveByID(ctx, id)
	if err != nil {
		return store.Wave{}, asRequestError(err)
	}
	return w, nil
}

// Progress is wave id and its counts: a scan of the wave's devices, about
// a second at ten million on SQLite, so it is not polled in a loop.
func (o *Operator) Progress(ctx context.Context, id store.WaveID) (WaveProgress, error) {
	w, err := o.Store.WaveByID(ctx, id)
	if err != nil {
		return WaveProgress{}, asRequestError(err)
	}
	now := o.Now()
	if c, ok := o.counts.get(id, now); ok && w.State == store.WaveRunning {
		return WaveProgress{Wave: w, Counts: maps.Clone(c.counts), Untaken: c.untaken}, nil
	}
	start := time.Now()
	counts, untaken, err := o.Store.WaveCounts(ctx, id)
	if err != nil {
		return WaveProgress{}, asRequestError(err)
	}
	if w.State == store.WaveRunning {
		o.counts.put(id, cachedCount{counts: counts, untaken: untaken, until: now.Add(max(time.Second, 20*time.Since(start)))})
	}
	return WaveProgress{Wave: w, Counts: maps.Clone(counts), Untaken: untaken}, nil
}

// Waves is every wave with its counts, oldest first.
func (o *Operator) Waves(ctx context.Context) ([]WaveProgress, error) {
	ws, err := o.Store.Waves(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WaveProgress, 0, len(ws))
	for _, w := range ws {
		p, err := o.Progress(ctx, w.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
