package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// MigrationState is where a device is in its TCoS → ECoS migration
// (product.md §5).
type MigrationState string

// Migration states. The resting states tcos, ecos and unknown are also the
// device's Credential: entering one sets the credential in the same
// statement.
const (
	MigrationTCoS      MigrationState = "tcos"       // trusts TCoS; not in a wave
	MigrationQueued    MigrationState = "queued"     // picked for a wave, not yet sent
	MigrationSent      MigrationState = "sent"       // a command is in flight
	MigrationECoS      MigrationState = "ecos"       // its signed response showed the ECoS SKI
	MigrationRetryWait MigrationState = "retry-wait" // a transient failure: waiting to be queued again
	MigrationUnknown   MigrationState = "unknown"    // the outcome is lost: read the cell back first
	MigrationException MigrationState = "exception"  // a permanent failure, for the operator
	MigrationExcluded  MigrationState = "excluded"   // taken out of the migration by the operator
)

// MigrationStates lists every state, in the order reports show them.
var MigrationStates = []MigrationState{MigrationTCoS, MigrationQueued, MigrationSent, MigrationECoS,
	MigrationRetryWait, MigrationUnknown, MigrationException, MigrationExcluded}

// migrationEdges is the state graph: from each state, where a device may
// go. Anything else is refused. Two rules shape it: nothing is sent for a
// device whose cell is not known to hold TCoS (unknown reaches queued only
// through a read-back that showed tcos), and ecos is final.
var migrationEdges = map[MigrationState][]MigrationState{
	MigrationTCoS:   {MigrationQueued, MigrationExcluded},
	MigrationQueued: {MigrationSent, MigrationTCoS, MigrationExcluded},
	// Sent to retry-wait only when the command certainly did nothing (the
	// device answered busy, or the command never left).
	MigrationSent:      {MigrationECoS, MigrationRetryWait, MigrationException, MigrationUnknown},
	MigrationRetryWait: {MigrationQueued, MigrationException, MigrationExcluded},
	// A read-back answers an unknown device: the cell holds ECoS, TCoS, or
	// something else (an exception). TCoS after an unanswered command is
	// that attempt failing: retry-wait, or tcos for a device in no round.
	MigrationUnknown: {MigrationECoS, MigrationTCoS, MigrationRetryWait, MigrationException, MigrationExcluded},
	// The operator retries (queued), excludes, or asks for a read-back.
	MigrationException: {MigrationQueued, MigrationExcluded, MigrationUnknown},
	// Back in only through a read-back: nobody knows what happened to the
	// device while it was out.
	MigrationExcluded: {MigrationUnknown},
	MigrationECoS:     nil,
}

// MigrationAllowed reports whether the graph has the edge from → to.
func MigrationAllowed(from, to MigrationState) bool {
	return slices.Contains(migrationEdges[from], to)
}

// Move is one requested transition of a device.
type Move struct {
	Device eui.EUI
	From   MigrationState // the state the caller saw: the move happens only if it is still the current one
	To     MigrationState
	At     time.Time
	Cause  string // why, in words, for the history: "wave 3", "resourcesBusy (30)", "operator: meter replaced"
	// Counter is the originator counter of the command the move is about
	// (into sent, and the outcome of that command), or 0.
	Counter uint64
	// SKI is the SKI of the certificate the cell was seen to hold, stored
	// as the device's credential SKI when To is ecos or tcos; nil keeps
	// the stored one.
	SKI []byte
	// Wave, for a move into queued, is the wave the device joins; 0 keeps
	// the one it is in.
	Wave WaveID
	// Due, for a move into retry-wait, is when the device may go again.
	Due time.Time
}

// Transition is one row of a device's migration history.
type Transition struct {
	Seq     int64 // 1, 2, … in the device's order
	At      time.Time
	From    MigrationState
	To      MigrationState
	Cause   string
	Attempt int64 // the device's attempt count after the move
	Counter uint64
}

// MigrationStatus is a device's current place in its migration.
type MigrationStatus struct {
	State   MigrationState
	Seq     int64     // transitions recorded so far
	Attempt int64     // commands sent in the current round (see MoveDevice)
	Since   time.Time // of the last transition; zero if there was none
}

// maxCause bounds a history row's cause.
const maxCause = 1024

// MoveDevice moves a device from m.From to m.To, and records the move in
// its history, in one transaction. It is a compare-and-set: when the
// device is no longer in m.From (another worker moved it first) nothing
// changes and the error is a *TransitionError naming the state it is in
// (ErrTransition); so is a move the graph does not have. An unknown
// device is ErrNotFound.
//
// Entering sent counts an attempt; an operator's retry out of exception
// starts a new round at attempt 0. The returned status is the device's
// after the move.
func (db *DB) MoveDevice(ctx context.Context, m Move) (MigrationStatus, error) {
	if err := m.check(); err != nil {
		return MigrationStatus{}, err
	}
	var st MigrationStatus
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		st, err = db.move(ctx, tx, m)
		return err
	})
	if err != nil {
		return MigrationStatus{}, err
	}
	return st, nil
}

// MoveResult is the outcome of one move of MoveDevices.
type MoveResult struct {
	Status MigrationStatus // after the move, when Err is nil
	Err    error           // the move's refusal, as MoveDevice would return it
}

// maxMoveBatch bounds one MoveDevices call.
const maxMoveBatch = 1000

// MoveDevices makes many moves in one transaction, each as MoveDevice
// would, in order: a move refused (a lost compare-and-set, an edge the
// graph lacks, an unknown device, a bad argument) is reported in its
// result and the others are made. One commit for the lot is what lets a
// wave move thousands of devices a second on SQLite, where every commit
// is an fsync. The error is for the whole: non-nil, and no move was made.
// Workers sharing devices should give their batches in EUI-64 order: on
// PostgreSQL two batches locking the same rows in opposite orders would
// deadlock, and one would fail whole.
func (db *DB) MoveDevices(ctx context.Context, moves []Move) ([]MoveResult, error) {
	if len(moves) > maxMoveBatch {
		return nil, invalidf("%d moves in one batch (at most %d)", len(moves), maxMoveBatch)
	}
	var out []MoveResult
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		sts, errs, err := db.moveMany(ctx, tx, moves)
		if err != nil {
			return err
		}
		out = make([]MoveResult, len(moves))
		for i := range moves {
			out[i] = MoveResult{Status: sts[i], Err: errs[i]}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// check refuses a move that is wrong whatever the device's state.
func (m *Move) check() error {
	switch {
	case !MigrationAllowed(m.From, m.To):
		return &TransitionError{Entity: "device", Key: m.Device.String(), From: string(m.From), To: string(m.To)}
	case m.At.IsZero():
		return invalidf("device %s: move without a time", m.Device)
	case m.Cause == "" || len(m.Cause) > maxCause:
		return invalidf("device %s: a move needs a cause of 1 to %d bytes", m.Device, maxCause)
	case m.Counter > 1<<63-1:
		return invalidf("device %s: counter %d out of range", m.Device, m.Counter)
	case len(m.SKI) > maxSKI:
		return invalidf("device %s: SKI of %d bytes", m.Device, len(m.SKI))
	}
	return nil
}

// move makes one checked move inside tx. A refusal (*TransitionError,
// ErrNotFound) has written nothing.
func (db *DB) move(ctx context.Context, tx *sql.Tx, m Move) (MigrationStatus, error) {
	// Resting states are credentials: the one place the 6.23 pipeline
	// reads which key the device trusts moves with the state (setClause).
	set, args := m.setClause()
	args = append(args, euiArg(m.Device), string(m.From))
	st := MigrationStatus{State: m.To, Since: m.At.UTC().Truncate(time.Microsecond)}
	err := tx.QueryRowContext(ctx, db.q(`UPDATE devices SET `+set+`
		WHERE device_eui = ? AND migration_state = ?
		RETURNING migration_seq, migration_attempt`), args...).Scan(&st.Seq, &st.Attempt)
	if errors.Is(err, sql.ErrNoRows) {
		var now MigrationState
		err = tx.QueryRowContext(ctx, db.q(`SELECT migration_state FROM devices WHERE device_eui = ?`), euiArg(m.Device)).Scan(&now)
		if errors.Is(err, sql.ErrNoRows) {
			return MigrationStatus{}, fmt.Errorf("%w: device %s", ErrNotFound, m.Device)
		}
		if err == nil {
			return MigrationStatus{}, &TransitionError{Entity: "device", Key: m.Device.String(), From: string(now), To: string(m.To)}
		}
	}
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("store: move device %s: %w", m.Device, err)
	}
	var counter any
	if m.Counter != 0 {
		counter = int64(m.Counter)
	}
	_, err = tx.ExecContext(ctx, db.q(`INSERT INTO migration_history
		(device_eui, seq, at_us, from_state, to_state, cause, attempt, counter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		euiArg(m.Device), st.Seq, timeArg(m.At), string(m.From), string(m.To), m.Cause, st.Attempt, counter)
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("store: move device %s: history: %w", m.Device, db.d.constraint(err))
	}
	return st, nil
}

// MigrationStatusOf returns device's current migration status, or
// ErrNotFound.
func (db *DB) MigrationStatusOf(ctx context.Context, device eui.EUI) (MigrationStatus, error) {
	var st MigrationStatus
	var since sql.NullInt64
	err := db.r.QueryRowContext(ctx, db.q(`SELECT migration_state, migration_seq, migration_attempt, migration_since_us
		FROM devices WHERE device_eui = ?`), euiArg(device)).Scan(&st.State, &st.Seq, &st.Attempt, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return MigrationStatus{}, fmt.Errorf("%w: device %s", ErrNotFound, device)
	}
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("store: migration status of %s: %w", device, err)
	}
	st.Since = nullTimeOf(since)
	return st, nil
}

// MigrationHistory returns every transition of device, oldest first, or
// ErrNotFound for a device that is not stored.
func (db *DB) MigrationHistory(ctx context.Context, device eui.EUI) ([]Transition, error) {
	var out []Transition
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM devices WHERE device_eui = ?`), euiArg(device)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: device %s", ErrNotFound, device)
		}
		if err != nil {
			return fmt.Errorf("store: migration history of %s: %w", device, err)
		}
		rows, err := tx.QueryContext(ctx, db.q(`SELECT seq, at_us, from_state, to_state, cause, attempt, counter
			FROM migration_history WHERE device_eui = ? ORDER BY seq`), euiArg(device))
		if err != nil {
			return fmt.Errorf("store: migration history of %s: %w", device, err)
		}
		out, err = scanAll(rows, func(r *sql.Rows) (Transition, error) {
			var t Transition
			var at int64
			var counter sql.NullInt64
			err := r.Scan(&t.Seq, &at, &t.From, &t.To, &t.Cause, &t.Attempt, &counter)
			t.At, t.Counter = timeOf(at), uint64(counter.Int64)
			return t, err
		})
		if err != nil {
			return fmt.Errorf("store: migration history of %s: %w", device, err)
		}
		return nil
	})
	return out, err
}

// MigrationCounts returns how many devices are in each state; every state
// is present, with 0 if none is in it.
func (db *DB) MigrationCounts(ctx context.Context) (map[MigrationState]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT migration_state, COUNT(*) FROM devices GROUP BY migration_state`)
	if err != nil {
		return nil, fmt.Errorf("store: migration counts: %w", err)
	}
	type count struct {
		s MigrationState
		n int64
	}
	cs, err := scanAll(rows, func(r *sql.Rows) (count, error) {
		var c count
		return c, r.Scan(&c.s, &c.n)
	})
	if err != nil {
		return nil, fmt.Errorf("store: migration counts: %w", err)
	}
	out := make(map[MigrationState]int64, len(MigrationStates))
	for _, s := range MigrationStates {
		out[s] = 0
	}
	for _, c := range cs {
		out[c.s] = c.n
	}
	return out, nil
}

// WaveFilter chooses devices for a wave: a device matches when it is in
// State and every non-empty field holds (a list: any of its values).
type WaveFilter struct {
	State         MigrationState `json:"-"`
	Suppliers     []string       `json:"suppliers,omitempty"` // responsible suppliers' SEC Party IDs
	Manufacturers []string       `json:"manufacturers,omitempty"`
	Models        []string       `json:"models,omitempty"`
	Firmware      []string       `json:"firmware,omitempty"`
	MPxNPrefix    string         `json:"mpxn_prefix,omitempty"`   // e.g. an MPAN's distributor ID "14"
	InstalledFrom time.Time      `json:"installed_from,omitzero"` // inclusive; zero: no bound
	InstalledTo   time.Time      `json:"installed_to,omitzero"`   // exclusive; zero: no bound
	Devices       []eui.EUI      `json:"devices,omitempty"`       // a device list; at most MaxWaveDevices
	After         eui.EUI        `json:"-"`                       // only devices after this EUI-64: where the last page ended
}

// MaxWaveDevices bounds a filter's device list.
const MaxWaveDevices = 10000

// maxWavePage bounds one NextDevices page.
const maxWavePage = 10000

// NextDevices returns up to limit EUI-64s of devices matching f, in EUI-64
// order after f.After, for a caller that pages through a state with
// f.After set to the last EUI of the previous page. It reads through the
// (migration_state, device_eui) index, so a page costs the same at any
// position in a 30-million-device table.
func (db *DB) NextDevices(ctx context.Context, f WaveFilter, limit int) ([]eui.EUI, error) {
	if limit < 1 || limit > maxWavePage {
		return nil, invalidf("a page of %d devices (1 to %d)", limit, maxWavePage)
	}
	if !slices.Contains(MigrationStates, f.State) {
		return nil, invalidf("no migration state %q", f.State)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	cond, condArgs := f.where()
	where := "migration_state = ? AND device_eui > ?" + cond
	args := append([]any{string(f.State), euiArg(f.After)}, condArgs...)
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT device_eui FROM devices WHERE `+where+` ORDER BY device_eui LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: next devices: %w", err)
	}
	out, err := scanAll(rows, func(r *sql.Rows) (eui.EUI, error) {
		var b []byte
		if err := r.Scan(&b); err != nil {
			return eui.EUI{}, err
		}
		return scanEUI(b)
	})
	if err != nil {
		return nil, fmt.Errorf("store: next devices: %w", err)
	}
	return out, nil
}
