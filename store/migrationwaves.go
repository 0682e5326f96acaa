package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecos-cos/ecos/eui"
)

// WaveID identifies a migration wave.
type WaveID int64

// WaveState is where a wave is.
type WaveState string

// Wave states. Done and cancelled are final.
const (
	WaveRunning   WaveState = "running"
	WavePaused    WaveState = "paused"
	WaveDone      WaveState = "done"
	WaveCancelled WaveState = "cancelled"
)

// waveEdges is the wave's state graph. A done wave runs again when the
// operator retries one of its devices.
var waveEdges = map[WaveState][]WaveState{
	WaveRunning: {WavePaused, WaveDone, WaveCancelled},
	WavePaused:  {WaveRunning, WaveCancelled},
	WaveDone:    {WaveRunning},
}

// Wave is a filter over the inventory and the limits it runs with.
type Wave struct {
	ID          WaveID
	Name        string
	Filter      WaveFilter // State and After are not used
	Rate        float64    // devices per second; 0: no limit
	Concurrency int        // devices in flight at once
	State       WaveState
	Reason      string // why it is paused, cancelled or done
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const waveCols = `wave_id, name, filter, rate, concurrency, state, reason, created_at_us, updated_at_us`

func scanWave(r *sql.Rows) (Wave, error) {
	var w Wave
	var filter string
	var created, updated int64
	if err := r.Scan(&w.ID, &w.Name, &filter, &w.Rate, &w.Concurrency, &w.State, &w.Reason, &created, &updated); err != nil {
		return Wave{}, err
	}
	if err := json.Unmarshal([]byte(filter), &w.Filter); err != nil {
		return Wave{}, fmt.Errorf("store: wave %d: corrupt filter: %w", w.ID, err)
	}
	w.CreatedAt, w.UpdatedAt = timeOf(created), timeOf(updated)
	return w, nil
}

// CreateWave records w, running, and returns its ID.
func (db *DB) CreateWave(ctx context.Context, w Wave) (WaveID, error) {
	switch {
	case w.Name == "" || len(w.Name) > 200:
		return 0, invalidf("a wave needs a name of 1 to 200 bytes")
	case !utf8.ValidString(w.Name) || strings.IndexFunc(w.Name, unicode.IsControl) >= 0:
		return 0, invalidf("wave name %q: not printable text", w.Name)
	case w.Rate < 0 || math.IsNaN(w.Rate) || math.IsInf(w.Rate, 0):
		return 0, invalidf("wave %s: rate %g: want a number of devices a second, 0 or more", w.Name, w.Rate)
	case w.Concurrency < 1 || w.Concurrency > MaxWaveConcurrency:
		return 0, invalidf("wave %s: concurrency %d: want 1 to %d", w.Name, w.Concurrency, MaxWaveConcurrency)
	case w.CreatedAt.IsZero():
		return 0, invalidf("wave %s: no creation time", w.Name)
	}
	if err := w.Filter.check(); err != nil {
		return 0, err
	}
	w.Filter.State, w.Filter.After = "", eui.EUI{}
	filter, err := json.Marshal(w.Filter)
	if err != nil {
		return 0, err
	}
	var id WaveID
	err = db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, db.q(`INSERT INTO migration_waves (name, filter, rate, concurrency, state, reason, created_at_us, updated_at_us)
			VALUES (?, ?, ?, ?, ?, '', ?, ?) RETURNING wave_id`), w.Name, string(filter), w.Rate, w.Concurrency,
			string(WaveRunning), timeArg(w.CreatedAt), timeArg(w.CreatedAt)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("store: create wave %s: %w", w.Name, err)
	}
	return id, nil
}

// Waves returns every wave, oldest first.
func (db *DB) Waves(ctx context.Context) ([]Wave, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+waveCols+` FROM migration_waves ORDER BY wave_id`)
	if err != nil {
		return nil, fmt.Errorf("store: waves: %w", err)
	}
	ws, err := scanAll(rows, scanWave)
	if err != nil {
		return nil, fmt.Errorf("store: waves: %w", err)
	}
	return ws, nil
}

// WaveByID returns wave id, or ErrNotFound.
func (db *DB) WaveByID(ctx context.Context, id WaveID) (Wave, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+waveCols+` FROM migration_waves WHERE wave_id = ?`), int64(id))
	var ws []Wave
	if err == nil {
		ws, err = scanAll(rows, scanWave)
	}
	if err != nil {
		return Wave{}, fmt.Errorf("store: wave %d: %w", id, err)
	}
	if len(ws) == 0 {
		return Wave{}, fmt.Errorf("%w: wave %d", ErrNotFound, id)
	}
	return ws[0], nil
}

// SetWaveState moves wave id to state to with reason, if its graph allows
// the move from the state it is in (a *TransitionError otherwise).
func (db *DB) SetWaveState(ctx context.Context, id WaveID, to WaveState, reason string, at time.Time) (Wave, error) {
	var w Wave
	err := db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var from WaveState
		err := tx.QueryRowContext(ctx, db.q(`SELECT state FROM migration_waves WHERE wave_id = ?`), int64(id)).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: wave %d", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if !slices.Contains(waveEdges[from], to) {
			return &TransitionError{Entity: "wave", Key: fmt.Sprint(id), From: string(from), To: string(to)}
		}
		rows, err := tx.QueryContext(ctx, db.q(`UPDATE migration_waves SET state = ?, reason = ?, updated_at_us = ?
			WHERE wave_id = ? AND state = ? RETURNING `+waveCols), string(to), reason, timeArg(at), int64(id), string(from))
		if err != nil {
			return err
		}
		ws, err := scanAll(rows, scanWave)
		if err != nil {
			return err
		}
		if len(ws) != 1 {
			return &TransitionError{Entity: "wave", Key: fmt.Sprint(id), From: string(from), To: string(to)}
		}
		w = ws[0]
		return nil
	})
	if err != nil {
		return Wave{}, fmt.Errorf("store: wave %d to %s: %w", id, to, err)
	}
	return w, nil
}

// WaveCounts returns how many of wave id's devices are in each state
// (every state present), and how many matching devices it has not taken
// yet (tcos or unknown, in no wave).
func (db *DB) WaveCounts(ctx context.Context, id WaveID) (counts map[MigrationState]int64, untaken int64, err error) {
	w, err := db.WaveByID(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	counts = make(map[MigrationState]int64, len(MigrationStates))
	for _, s := range MigrationStates {
		counts[s] = 0
	}
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(`SELECT migration_state, COUNT(*) FROM devices WHERE migration_wave = ? GROUP BY migration_state`), int64(id))
		if err != nil {
			return err
		}
		type c struct {
			s MigrationState
			n int64
		}
		cs, err := scanAll(rows, func(r *sql.Rows) (c, error) {
			var x c
			return x, r.Scan(&x.s, &x.n)
		})
		if err != nil {
			return err
		}
		for _, x := range cs {
			counts[x.s] = x.n
		}
		where, args := w.Filter.where()
		return tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM devices WHERE migration_state IN ('tcos', 'unknown')
			AND migration_wave IS NULL`+where), args...).Scan(&untaken)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: wave %d counts: %w", id, err)
	}
	return counts, untaken, nil
}

// PlanWave counts the devices a wave with filter f would take now, by
// state (tcos: to migrate; unknown: to read back first), and returns the
// first of them, up to sample.
func (db *DB) PlanWave(ctx context.Context, f WaveFilter, sample int) (tcos, unknown int64, first []eui.EUI, err error) {
	if sample < 0 || sample > maxWavePage {
		return 0, 0, nil, invalidf("a sample of %d devices (0 to %d)", sample, maxWavePage)
	}
	if err := f.check(); err != nil {
		return 0, 0, nil, err
	}
	where, args := f.where()
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		for _, s := range []struct {
			state MigrationState
			n     *int64
		}{{MigrationTCoS, &tcos}, {MigrationUnknown, &unknown}} {
			err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM devices WHERE migration_state = ? AND migration_wave IS NULL`+where),
				append([]any{string(s.state)}, args...)...).Scan(s.n)
			if err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, db.q(`SELECT device_eui FROM devices WHERE migration_state IN ('tcos', 'unknown')
			AND migration_wave IS NULL`+where+` ORDER BY device_eui LIMIT ?`), append(args, sample)...)
		if err != nil {
			return err
		}
		first, err = scanAll(rows, scanEUIRow)
		return err
	})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("store: plan wave: %w", err)
	}
	return tcos, unknown, first, nil
}

func scanEUIRow(r *sql.Rows) (eui.EUI, error) {
	var b []byte
	if err := r.Scan(&b); err != nil {
		return eui.EUI{}, err
	}
	return scanEUI(b)
}

// MaxWaveConcurrency bounds a wave's devices in flight at once.
const MaxWaveConcurrency = 100000

// check refuses a filter no wave can use: a device list over
// MaxWaveDevices, an empty or unprintable value, an install-date range
// that holds no day.
func (f WaveFilter) check() error {
	if len(f.Devices) > MaxWaveDevices {
		return invalidf("a device list of %d (at most %d)", len(f.Devices), MaxWaveDevices)
	}
	for _, l := range []struct {
		name string
		vals []string
	}{{"supplier", f.Suppliers}, {"manufacturer", f.Manufacturers}, {"model", f.Models}, {"firmware", f.Firmware}} {
		if len(l.vals) > MaxWaveDevices {
			return invalidf("%d %s values (at most %d)", len(l.vals), l.name, MaxWaveDevices)
		}
		for _, v := range l.vals {
			if v == "" || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
				return invalidf("%s %q: want printable text", l.name, v)
			}
		}
	}
	if !utf8.ValidString(f.MPxNPrefix) || strings.IndexFunc(f.MPxNPrefix, unicode.IsControl) >= 0 {
		return invalidf("MPxN prefix %q: want printable text", f.MPxNPrefix)
	}
	if !f.InstalledFrom.IsZero() && !f.InstalledTo.IsZero() && !f.InstalledFrom.Before(f.InstalledTo) {
		return invalidf("installed from %s to %s: the range holds no day (from is inclusive, to exclusive)",
			f.InstalledFrom.Format(time.DateOnly), f.InstalledTo.Format(time.DateOnly))
	}
	return nil
}

// where is f's device conditions (without State and After) as " AND …".
func (f WaveFilter) where() (string, []any) {
	var where string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where += " AND " + col + " IN (" + placeholders(len(vals)) + ")"
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("responsible_party_id", f.Suppliers)
	in("manufacturer", f.Manufacturers)
	in("model", f.Models)
	in("firmware", f.Firmware)
	if f.MPxNPrefix != "" {
		// substr, not LIKE: a prefix with % or _ means itself.
		where += " AND substr(mpxn, 1, ?) = ?"
		// substr counts characters on both backends.
		args = append(args, utf8.RuneCountInString(f.MPxNPrefix), f.MPxNPrefix)
	}
	if !f.InstalledFrom.IsZero() {
		where += " AND installed_us >= ?"
		args = append(args, timeArg(f.InstalledFrom))
	}
	if !f.InstalledTo.IsZero() {
		where += " AND installed_us < ?"
		args = append(args, timeArg(f.InstalledTo))
	}
	if len(f.Devices) > 0 {
		where += " AND device_eui IN (" + placeholders(len(f.Devices)) + ")"
		for _, d := range f.Devices {
			args = append(args, euiArg(d))
		}
	}
	return where, args
}

// MigrationDurations calls each with how long each migrated device took
// from its last command's claim (its move into sent) to its move into
// ecos, in no particular order: the latency reports and benchmarks show.
func (db *DB) MigrationDurations(ctx context.Context, each func(time.Duration) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT e.at_us - s.at_us FROM migration_history s
		JOIN migration_history e ON e.device_eui = s.device_eui AND e.seq = s.seq + 1
		WHERE s.to_state = 'sent' AND e.to_state = 'ecos'`)
	if err != nil {
		return fmt.Errorf("store: migration durations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var us int64
		if err := rows.Scan(&us); err != nil {
			return fmt.Errorf("store: migration durations: %w", err)
		}
		if err := each(time.Duration(us) * time.Microsecond); err != nil {
			return err
		}
	}
	return rows.Err()
}

// WaveHasOpen reports whether any device of wave id is still on its way:
// queued, sent, unknown or waiting to retry. It reads at most one index
// entry per state, however large the wave: the runner asks it whenever a
// pass finds nothing to do.
func (db *DB) WaveHasOpen(ctx context.Context, id WaveID) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, db.q(`SELECT 1 FROM devices WHERE migration_wave = ?
		AND migration_state IN ('queued', 'sent', 'unknown', 'retry-wait') LIMIT 1`), int64(id)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: wave %d open: %w", id, err)
	}
	return true, nil
}
