package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// OwnKind is what one of the party's own commands does.
type OwnKind string

// The party's own commands.
const (
	OwnMigrate  OwnKind = "migrate"  // CS02b mode 6: install the ECoS certificate, signed with TCoS
	OwnReadBack OwnKind = "readback" // CS02a: read the transitionalCoS cell
)

// OwnState is where one of the party's own commands is.
type OwnState string

// Own command states. A command in intent certainly never left: it is
// marked sent before it is handed to the gateway.
const (
	OwnIntent   OwnState = "intent"
	OwnSent     OwnState = "sent"
	OwnAnswered OwnState = "answered"
	OwnFailed   OwnState = "failed"
)

// OwnCommand is one of the party's own commands (migration_commands).
type OwnCommand struct {
	Device    eui.EUI
	Counter   uint64
	Kind      OwnKind
	KeyID     string
	Wave      WaveID
	TBSHash   [sha256.Size]byte
	State     OwnState
	Outcome   string
	Response  []byte
	CreatedAt time.Time
	SentAt    time.Time
	SettledAt time.Time
}

// Claim asks for one command for Device: Kind migrate moves the device
// from queued to sent; Kind readback needs it unknown and leaves it so.
type Claim struct {
	Device eui.EUI
	Kind   OwnKind
	Wave   WaveID
	Cause  string // for the history of a migrate claim, e.g. "wave 3"
}

// Built is what the caller will sign for a claimed counter.
type Built struct {
	KeyID string
	TBS   []byte
}

// Claimed is the result of one Claim: the command recorded, or why not.
type Claimed struct {
	Command OwnCommand
	Attempt int64 // the device's attempt count after the claim
	Err     error // *TransitionError: the device was not where the claim needs it; ErrLiveCommand: one is in flight
}

// maxClaims bounds one ClaimCommands call.
const maxClaims = 1000

// ClaimCommands reserves one originator counter (namespace key) per claim
// and, for each claim whose device is where it must be and has no command
// in flight, records the command's intent and makes its move, in one
// transaction: after it returns, the counters are spent and the intents
// durable, so a crash from here on leaves a record of every command that
// may be signed. build makes the bytes to sign for a claim and its counter;
// it runs under the write lock and must be quick. A refused claim burns
// its counter, which harms nothing: counters need only rise.
func (db *DB) ClaimCommands(ctx context.Context, key string, claims []Claim, at time.Time,
	build func(c Claim, counter uint64) (Built, error)) ([]Claimed, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	if len(claims) > maxClaims {
		return nil, invalidf("%d claims in one batch (at most %d)", len(claims), maxClaims)
	}
	out := make([]Claimed, len(claims))
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		last, err := db.reserveCounters(ctx, tx, key, len(claims))
		if err != nil {
			return err
		}
		first := last - uint64(len(claims)) + 1
		var moves []Move
		var moved []int // the claims the moves are for
		for i, c := range claims {
			counter := first + uint64(i)
			out[i] = Claimed{}
			b, err := build(c, counter)
			if err != nil {
				return err
			}
			cmd := OwnCommand{Device: c.Device, Counter: counter, Kind: c.Kind, KeyID: b.KeyID, Wave: c.Wave,
				TBSHash: sha256.Sum256(b.TBS), State: OwnIntent, CreatedAt: at.UTC().Truncate(time.Microsecond)}
			// The insert comes first: the unique index of open commands
			// refuses a second one for the device. DO NOTHING rather than an
			// error, which would abort a PostgreSQL transaction.
			res, err := tx.ExecContext(ctx, db.q(`INSERT INTO migration_commands
				(device_eui, counter, kind, key_id, wave_id, tbs_sha256, state, created_at_us)
				SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE device_eui = ?)
				ON CONFLICT DO NOTHING`),
				euiArg(c.Device), int64(counter), string(c.Kind), b.KeyID, nullWave(c.Wave), cmd.TBSHash[:], string(OwnIntent), timeArg(at),
				euiArg(c.Device))
			if err != nil {
				return fmt.Errorf("store: command for device %s counter %d: %w", c.Device, counter, db.d.constraint(err))
			}
			if n, _ := res.RowsAffected(); n == 0 {
				out[i].Err = db.whyNoClaim(ctx, tx, c.Device)
				continue
			}
			out[i].Command = cmd
			if c.Kind == OwnMigrate {
				// Moved below, with the batch's other migrations.
				cause := c.Cause
				if cause == "" {
					cause = fmt.Sprintf("wave %d", c.Wave)
				}
				moves = append(moves, Move{Device: c.Device, From: MigrationQueued, To: MigrationSent, At: at, Cause: cause, Counter: counter})
				moved = append(moved, i)
				continue
			}
			attempt, err := db.checkClaim(ctx, tx, c)
			if err != nil {
				if _, refused := errors.AsType[*TransitionError](err); refused || errors.Is(err, ErrNotFound) {
					if err := db.takeBack(ctx, tx, c.Device, counter); err != nil {
						return err
					}
					out[i] = Claimed{Err: err}
					continue
				}
				return err
			}
			out[i].Attempt = attempt
		}
		sts, errs, err := db.moveMany(ctx, tx, moves)
		if err != nil {
			return err
		}
		for k, i := range moved {
			if errs[k] != nil {
				// Not where the claim needs it: take the command back.
				if err := db.takeBack(ctx, tx, moves[k].Device, moves[k].Counter); err != nil {
					return err
				}
				out[i] = Claimed{Err: errs[k]}
				continue
			}
			out[i].Attempt = sts[k].Attempt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// takeBack deletes a command whose claim was refused after it was
// recorded; its counter stays spent.
func (db *DB) takeBack(ctx context.Context, tx *sql.Tx, device eui.EUI, counter uint64) error {
	_, err := tx.ExecContext(ctx, db.q(`DELETE FROM migration_commands WHERE device_eui = ? AND counter = ?`), euiArg(device), int64(counter))
	if err != nil {
		return fmt.Errorf("store: take back the command for device %s counter %d: %w", device, counter, err)
	}
	return nil
}

// checkClaim refuses a read-back claim whose device is not unknown.
func (db *DB) checkClaim(ctx context.Context, tx *sql.Tx, c Claim) (int64, error) {
	switch c.Kind {
	case OwnReadBack:
		var state MigrationState
		var attempt int64
		err := tx.QueryRowContext(ctx, db.q(`SELECT migration_state, migration_attempt FROM devices WHERE device_eui = ?`), euiArg(c.Device)).Scan(&state, &attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("%w: device %s", ErrNotFound, c.Device)
		}
		if err != nil {
			return 0, err
		}
		if state != MigrationUnknown {
			return 0, &TransitionError{Entity: "device", Key: c.Device.String(), From: string(state), To: "read-back"}
		}
		return attempt, nil
	}
	return 0, invalidf("device %s: no command kind %q", c.Device, c.Kind)
}

// whyNoClaim says why a command for device was not recorded: it is not
// stored, or it has one in flight.
func (db *DB) whyNoClaim(ctx context.Context, tx *sql.Tx, device eui.EUI) error {
	var one int
	err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM devices WHERE device_eui = ?`), euiArg(device)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: device %s", ErrNotFound, device)
	case err != nil:
		return fmt.Errorf("store: claim for device %s: %w", device, err)
	}
	return fmt.Errorf("%w: device %s has a migration command in flight", ErrLiveCommand, device)
}

func nullWave(w WaveID) any {
	if w == 0 {
		return nil
	}
	return int64(w)
}

// reserveCounters hands out n consecutive counters of key and returns the
// last.
func (db *DB) reserveCounters(ctx context.Context, tx *sql.Tx, key string, n int) (uint64, error) {
	const q = `INSERT INTO counters (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + ?
		WHERE counters.value <= ?
		RETURNING value`
	if key == "" {
		return 0, invalidf("counter name is empty")
	}
	var v int64
	err := tx.QueryRowContext(ctx, db.q(q), key, int64(n), int64(n), int64(1<<63-1-n)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s", ErrCounterExhausted, key)
	}
	if err != nil {
		return 0, fmt.Errorf("store: reserve %d counters of %s: %w", n, key, err)
	}
	return uint64(v), nil
}

// OwnKey names one of the party's own commands.
type OwnKey struct {
	Device  eui.EUI
	Counter uint64
}

// MarkOwnSent records, before they are handed on, that the commands are
// going out: from here on a crash leaves their outcome unknown.
func (db *DB) MarkOwnSent(ctx context.Context, keys []OwnKey, at time.Time) error {
	if len(keys) > maxClaims {
		return invalidf("%d commands in one batch (at most %d)", len(keys), maxClaims)
	}
	if len(keys) == 0 {
		return nil
	}
	// One statement for the batch: a device has at most one open command
	// (the unique index), so its device and counter name it.
	args := []any{timeArg(at)}
	var pairs strings.Builder
	for i, k := range keys {
		if i > 0 {
			pairs.WriteString(" OR ")
		}
		pairs.WriteString("(device_eui = ? AND counter = ?)")
		args = append(args, euiArg(k.Device), int64(k.Counter))
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE migration_commands SET state = 'sent', sent_at_us = ?
			WHERE state = 'intent' AND (`+pairs.String()+`)`), args...)
		if err != nil {
			return fmt.Errorf("store: %d commands sent: %w", len(keys), err)
		}
		if n, _ := res.RowsAffected(); n != int64(len(keys)) {
			return &TransitionError{Entity: "migration command", Key: fmt.Sprintf("%d of %d", int64(len(keys))-n, len(keys)), From: "not intent", To: "sent"}
		}
		return nil
	})
}

// Settlement is the end of one own command and the move it causes.
type Settlement struct {
	OwnKey
	State    OwnState // answered or failed
	Outcome  string
	Response []byte
	Move     *Move // nil: the device stays where it is
}

// SettleCommands records the settlements in one transaction. A settlement
// whose command is already settled, or whose move the device's state
// refuses, is reported in its slot and changes nothing (a refused move
// leaves its command open); the others are made.
func (db *DB) SettleCommands(ctx context.Context, ss []Settlement, at time.Time) ([]error, error) {
	if len(ss) > maxClaims {
		return nil, invalidf("%d settlements in one batch (at most %d)", len(ss), maxClaims)
	}
	out := make([]error, len(ss))
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		clear(out)
		if !sameDeviceTwice(ss) {
			return db.settle(ctx, tx, ss, at, out)
		}
		// Later settlements of a device depend on its earlier ones: one at
		// a time, in order.
		for i := range ss {
			if err := db.settle(ctx, tx, ss[i:i+1], at, out[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// settle makes the settlements ss, of distinct devices, filling out with
// each one's refusal; an error ends the transaction.
func (db *DB) settle(ctx context.Context, tx *sql.Tx, ss []Settlement, at time.Time, out []error) error {
	open, err := db.openOf(ctx, tx, ss)
	if err != nil {
		return err
	}
	var moves []Move
	var moved []int // the settlements the moves are for
	for i, s := range ss {
		if s.State != OwnAnswered && s.State != OwnFailed {
			out[i] = invalidf("device %s counter %d: settle as %q", s.Device, s.Counter, s.State)
			continue
		}
		if s.Move != nil {
			if err := s.Move.check(); err != nil {
				out[i] = err
				continue
			}
		}
		// The command must be open before the device moves, and the move
		// made before the command is settled: a refused move leaves the
		// command open, for recovery, instead of settled with its device
		// stuck in sent.
		if !open[OwnKey{Device: s.Device, Counter: s.Counter}] {
			out[i] = &TransitionError{Entity: "migration command", Key: fmt.Sprintf("%s/%d", s.Device, s.Counter), From: "settled or unknown", To: string(s.State)}
			continue
		}
		if s.Move != nil {
			moves = append(moves, *s.Move)
			moved = append(moved, i)
		}
	}
	// The batch's moves go together (most are the same move: sent to
	// ecos); a refused one leaves its command open.
	_, errs, err := db.moveMany(ctx, tx, moves)
	if err != nil {
		return err
	}
	for k, i := range moved {
		out[i] = errs[k]
	}
	for i, s := range ss {
		if out[i] != nil {
			continue
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE migration_commands SET state = ?, outcome = ?, response = ?, settled_at_us = ?
			WHERE device_eui = ? AND counter = ? AND state IN ('intent', 'sent')`),
			string(s.State), s.Outcome, nullBytesArg(s.Response), timeArg(at), euiArg(s.Device), int64(s.Counter))
		if err != nil {
			return fmt.Errorf("store: settle device %s counter %d: %w", s.Device, s.Counter, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			// Settled by another transaction since the check, or a device
			// in sent without its open command: undo the whole batch.
			return &TransitionError{Entity: "migration command", Key: fmt.Sprintf("%s/%d", s.Device, s.Counter), From: "settled", To: string(s.State)}
		}
	}
	return nil
}

func sameDeviceTwice(ss []Settlement) bool {
	seen := make(map[eui.EUI]bool, len(ss))
	for _, s := range ss {
		if seen[s.Device] {
			return true
		}
		seen[s.Device] = true
	}
	return false
}

// openOf is which of the settlements' commands are open, in one query.
func (db *DB) openOf(ctx context.Context, tx *sql.Tx, ss []Settlement) (map[OwnKey]bool, error) {
	open := make(map[OwnKey]bool, len(ss))
	if len(ss) == 0 {
		return open, nil
	}
	args := make([]any, len(ss))
	for i, s := range ss {
		args[i] = euiArg(s.Device)
	}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT device_eui, counter FROM migration_commands
		WHERE state IN ('intent', 'sent') AND device_eui IN (`+placeholders(len(ss))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: open commands of %d settlements: %w", len(ss), err)
	}
	keys, err := scanAll(rows, func(r *sql.Rows) (OwnKey, error) {
		var k OwnKey
		var b []byte
		var c int64
		if err := r.Scan(&b, &c); err != nil {
			return k, err
		}
		k.Device, err = scanEUI(b)
		k.Counter = uint64(c)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: open commands of %d settlements: %w", len(ss), err)
	}
	for _, k := range keys {
		open[k] = true
	}
	return open, nil
}

// OpenCommands returns the party's own commands not yet settled (a crash
// left them), up to limit, in device order.
func (db *DB) OpenCommands(ctx context.Context, limit int) ([]OwnCommand, error) {
	if limit < 1 || limit > maxWavePage {
		return nil, invalidf("a page of %d commands (1 to %d)", limit, maxWavePage)
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+ownCols+` FROM migration_commands
		WHERE state IN ('intent', 'sent') ORDER BY device_eui, counter LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: open migration commands: %w", err)
	}
	cs, err := scanAll(rows, scanOwn)
	if err != nil {
		return nil, fmt.Errorf("store: open migration commands: %w", err)
	}
	return cs, nil
}

// CommandsOf returns device's own commands, oldest first.
func (db *DB) CommandsOf(ctx context.Context, device eui.EUI) ([]OwnCommand, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+ownCols+` FROM migration_commands
		WHERE device_eui = ? ORDER BY counter`), euiArg(device))
	if err != nil {
		return nil, fmt.Errorf("store: migration commands of %s: %w", device, err)
	}
	cs, err := scanAll(rows, scanOwn)
	if err != nil {
		return nil, fmt.Errorf("store: migration commands of %s: %w", device, err)
	}
	return cs, nil
}

const ownCols = `device_eui, counter, kind, key_id, wave_id, tbs_sha256, state, outcome, response, created_at_us, sent_at_us, settled_at_us`

func scanOwn(r *sql.Rows) (OwnCommand, error) {
	var c OwnCommand
	var dev, hash []byte
	var counter, created int64
	var wave, sent, settled sql.NullInt64
	if err := r.Scan(&dev, &counter, &c.Kind, &c.KeyID, &wave, &hash, &c.State, &c.Outcome, &c.Response, &created, &sent, &settled); err != nil {
		return OwnCommand{}, err
	}
	var err error
	if c.Device, err = scanEUI(dev); err != nil {
		return OwnCommand{}, err
	}
	copy(c.TBSHash[:], hash)
	c.Counter, c.Wave = uint64(counter), WaveID(wave.Int64)
	c.CreatedAt, c.SentAt, c.SettledAt = timeOf(created), nullTimeOf(sent), nullTimeOf(settled)
	return c, nil
}

// WaveDevices returns up to limit devices of wave in state, in EUI-64
// order after after; for retry-wait and unknown, only those due by due.
func (db *DB) WaveDevices(ctx context.Context, wave WaveID, state MigrationState, after eui.EUI, due time.Time, limit int) ([]eui.EUI, error) {
	if limit < 1 || limit > maxWavePage {
		return nil, invalidf("a page of %d devices (1 to %d)", limit, maxWavePage)
	}
	q := `SELECT device_eui FROM devices WHERE migration_wave = ? AND migration_state = ? AND device_eui > ?`
	args := []any{int64(wave), string(state), euiArg(after)}
	if state == MigrationRetryWait || state == MigrationUnknown {
		q += ` AND (migration_due_us IS NULL OR migration_due_us <= ?)`
		args = append(args, timeArg(due))
	}
	rows, err := db.r.QueryContext(ctx, db.q(q+` ORDER BY device_eui LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: devices of wave %d: %w", wave, err)
	}
	out, err := scanAll(rows, scanEUIRow)
	if err != nil {
		return nil, fmt.Errorf("store: devices of wave %d: %w", wave, err)
	}
	return out, nil
}

// TakeForWave moves up to limit devices matching the wave's filter, in
// EUI-64 order after after, into it: tcos devices in no wave (or read back
// as tcos in this one) to queued, and unknown devices in no wave into it
// to be read back. It returns the last device looked at (the next call's
// after) and how many it took; 0 taken and the zero EUI mean none is left.
func (db *DB) TakeForWave(ctx context.Context, w Wave, after eui.EUI, limit int, at time.Time) (last eui.EUI, taken int, err error) {
	if limit < 1 || limit > maxClaims {
		return eui.EUI{}, 0, invalidf("a page of %d devices (1 to %d)", limit, maxClaims)
	}
	cond, condArgs := w.Filter.where()
	cause := fmt.Sprintf("wave %d", w.ID)
	err = db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		type dev struct {
			id    eui.EUI
			state MigrationState
		}
		// Two queries, each a range of the (migration_state, device_eui)
		// index read in order from the cursor: one query with an OR
		// between the states would sort every candidate on each page.
		page := func(state MigrationState, wave string, waveArgs ...any) ([]dev, error) {
			args := append(append([]any{string(state), euiArg(after)}, waveArgs...), condArgs...)
			rows, err := tx.QueryContext(ctx, db.q(`SELECT device_eui FROM devices
				WHERE migration_state = ? AND device_eui > ? AND `+wave+cond+`
				ORDER BY device_eui LIMIT ?`), append(args, limit)...)
			if err != nil {
				return nil, err
			}
			return scanAll(rows, func(r *sql.Rows) (dev, error) {
				id, err := scanEUIRow(r)
				return dev{id: id, state: state}, err
			})
		}
		tcos, err := page(MigrationTCoS, "(migration_wave IS NULL OR migration_wave = ?)", int64(w.ID))
		if err != nil {
			return err
		}
		unknown, err := page(MigrationUnknown, "migration_wave IS NULL")
		if err != nil {
			return err
		}
		ds := append(tcos, unknown...)
		slices.SortFunc(ds, func(a, b dev) int { return bytes.Compare(a.id[:], b.id[:]) })
		ds = ds[:min(len(ds), limit)]
		var moves []Move
		for _, d := range ds {
			last = d.id
			if d.state == MigrationUnknown {
				if _, err := tx.ExecContext(ctx, db.q(`UPDATE devices SET migration_wave = ? WHERE device_eui = ? AND migration_state = 'unknown' AND migration_wave IS NULL`),
					int64(w.ID), euiArg(d.id)); err != nil {
					return err
				}
				taken++
				continue
			}
			moves = append(moves, Move{Device: d.id, From: MigrationTCoS, To: MigrationQueued, At: at, Cause: cause, Wave: w.ID})
		}
		_, errs, err := db.moveMany(ctx, tx, moves)
		if err != nil {
			return err
		}
		for _, e := range errs {
			if e == nil {
				taken++
			}
		}
		return nil
	})
	if err != nil {
		return eui.EUI{}, 0, fmt.Errorf("store: take devices for wave %d: %w", w.ID, err)
	}
	return last, taken, nil
}

// DeferDevice keeps device, while still in state, from being picked again
// before due (a read-back that went unanswered). It changes no state and
// writes no history.
func (db *DB) DeferDevice(ctx context.Context, device eui.EUI, state MigrationState, due time.Time) error {
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`UPDATE devices SET migration_due_us = ? WHERE device_eui = ? AND migration_state = ?`),
			timeArg(due), euiArg(device), string(state))
		if err != nil {
			return fmt.Errorf("store: defer device %s: %w", device, err)
		}
		return nil
	})
}

// UnansweredReadBacks counts device's read-backs that failed since it
// last moved: how many times it has been asked and has not answered.
func (db *DB) UnansweredReadBacks(ctx context.Context, device eui.EUI) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM migration_commands c JOIN devices d ON d.device_eui = c.device_eui
		WHERE c.device_eui = ? AND c.kind = 'readback' AND c.state = 'failed'
		AND c.created_at_us >= COALESCE(d.migration_since_us, 0)`), euiArg(device)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: read-backs of %s: %w", device, err)
	}
	return n, nil
}

// OwnCommandsSince calls fn for each of the party's own commands recorded
// at or after since, oldest first: a start counts them again against the
// DCC-wide anomaly thresholds, as it does the Users' requests.
func (db *DB) OwnCommandsSince(ctx context.Context, since time.Time, fn func(kind OwnKind, at time.Time) error) error {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT kind, created_at_us FROM migration_commands
		WHERE created_at_us >= ? ORDER BY created_at_us`), timeArg(since))
	if err != nil {
		return fmt.Errorf("store: own commands since %v: %w", since, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind OwnKind
		var at int64
		if err := rows.Scan(&kind, &at); err != nil {
			return fmt.Errorf("store: own commands since %v: %w", since, err)
		}
		if err := fn(kind, timeOf(at)); err != nil {
			return err
		}
	}
	return rows.Err()
}
