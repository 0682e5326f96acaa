package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// instanceLockKey is the advisory lock ("ecosinst"); both 32-bit halves
// are below 2³¹, so pg_locks shows them as they are.
const (
	instanceLockHigh = 0x65636f73
	instanceLockLow  = 0x696e7374
	instanceLockKey  = instanceLockHigh<<32 | instanceLockLow
)

// application_name holds at most 63 bytes.
const maxApplicationName = 63

func (h Holder) applicationName() string {
	s := fmt.Sprintf("ecos pid=%d host=%s", h.PID, h.Host)
	if len(s) > maxApplicationName {
		s = s[:maxApplicationName]
	}
	return s
}

var applicationName = regexp.MustCompile(`^ecos pid=([0-9]+) host=(.*)$`)

func (db *DB) lockPostgres(ctx context.Context, me Holder, wait time.Duration) (*InstanceLock, error) {
	// A connection of its own, outside the pool the work uses: the lock
	// lives as long as this session.
	own, err := sql.Open("pgx", db.cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: instance lock: %w", err)
	}
	own.SetMaxOpenConns(1)
	conn, err := own.Conn(ctx)
	if err != nil {
		own.Close()
		return nil, fmt.Errorf("store: instance lock: %w", err)
	}
	got, err := db.tryAdvisory(ctx, conn, me, wait)
	if err != nil || !got {
		conn.Close()
		own.Close()
		if err != nil {
			return nil, fmt.Errorf("store: instance lock: %w", err)
		}
		h, known, herr := db.postgresHolder(ctx)
		if herr != nil {
			return nil, herr
		}
		// LockedError says "database …" itself.
		return nil, &LockedError{Database: strings.TrimPrefix(db.Describe(ctx), "postgres database "), Holder: h, Known: known && h.PID != 0}
	}
	return &InstanceLock{release: func() error {
		// A fresh context: release runs at shutdown, after ctx ended.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(instanceLockKey))
		return errors.Join(err, conn.Close(), own.Close())
	}}, nil
}

// lockSession names the session after me and has the server probe the
// client every 30 s, so a holder whose host died loses the lock in about
// a minute instead of the operating system's two hours.
var lockSession = []string{
	"SELECT set_config('application_name', $1, false)",
	"SELECT set_config('tcp_keepalives_idle', '30', false)",
	"SELECT set_config('tcp_keepalives_interval', '10', false)",
	"SELECT set_config('tcp_keepalives_count', '3', false)",
}

// tryAdvisory takes the lock. If it is held by a process of this host
// that no longer runs, it waits up to wait, on the server, for the server
// to notice the dead client; a live holder is refused at once.
func (db *DB) tryAdvisory(ctx context.Context, conn *sql.Conn, me Holder, wait time.Duration) (bool, error) {
	if _, err := conn.ExecContext(ctx, lockSession[0], me.applicationName()); err != nil {
		return false, err
	}
	for _, q := range lockSession[1:] {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return false, err
		}
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", int64(instanceLockKey)).Scan(&got); err != nil || got || wait <= 0 {
		return got, err
	}
	h, held, err := db.postgresHolder(ctx)
	if err != nil {
		return false, err
	}
	if held && (h.Host != me.Host || h.PID == me.PID || processAlive(h.PID)) {
		return false, nil
	}
	ms := max(wait.Milliseconds(), 1)
	if _, err := conn.ExecContext(ctx, "SELECT set_config('lock_timeout', $1, false)", strconv.FormatInt(ms, 10)); err != nil {
		return false, err
	}
	_, err = conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(instanceLockKey))
	if _, rerr := conn.ExecContext(ctx, "SELECT set_config('lock_timeout', '0', false)"); rerr != nil && err == nil {
		return true, rerr
	}
	if postgresCode(err) == "55P03" { // lock_not_available
		return false, nil
	}
	return err == nil, err
}

// postgresHolder reads who holds the lock from the holding session.
func (db *DB) postgresHolder(ctx context.Context) (Holder, bool, error) {
	const q = `SELECT a.application_name, a.backend_start, COALESCE(host(a.client_addr), '')
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.classid::bigint = $1 AND l.objid::bigint = $2
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	var name, addr string
	var since time.Time
	err := db.r.QueryRowContext(ctx, q, instanceLockHigh, instanceLockLow).Scan(&name, &since, &addr)
	if errors.Is(err, sql.ErrNoRows) {
		return Holder{}, false, nil
	}
	if err != nil {
		return Holder{}, false, fmt.Errorf("store: instance lock holder: %w", err)
	}
	h := Holder{Since: since.UTC().Truncate(time.Second), Host: addr}
	if m := applicationName.FindStringSubmatch(name); m != nil {
		h.PID, _ = strconv.Atoi(m[1])
		h.Host = m[2]
	}
	return h, true, nil
}

// Describe names the database for messages and logs: the SQLite file, or
// the PostgreSQL database's name and server, never the DSN, which may
// carry a password.
func (db *DB) Describe(ctx context.Context) string {
	if db.d.name != DriverPostgres {
		return db.file
	}
	var name, addr string
	q := "SELECT current_database(), COALESCE(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket')"
	if err := db.r.QueryRowContext(ctx, q).Scan(&name, &addr); err != nil {
		return "postgres database (unknown)"
	}
	return "postgres database " + name + " on " + addr
}
