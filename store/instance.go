package store

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Holder is who holds a database's instance lock.
type Holder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// Me is the Holder for this process, from now.
func Me(now time.Time) Holder {
	host, _ := os.Hostname()
	return Holder{PID: os.Getpid(), Host: host, Since: now.UTC().Truncate(time.Second)}
}

func (h Holder) String() string {
	s := fmt.Sprintf("pid %d on %s", h.PID, h.Host)
	if h.Host == "" {
		s = fmt.Sprintf("pid %d", h.PID)
	}
	if !h.Since.IsZero() {
		s += " since " + h.Since.UTC().Format(time.RFC3339)
	}
	return s
}

// LockedError is LockInstance's refusal: another process holds the lock.
type LockedError struct {
	Database string
	Holder   Holder
	Known    bool // false: the holder did not say who it is (yet)
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Known {
		who = "ecos " + e.Holder.String()
	}
	return fmt.Sprintf("database %s is in use by %s: one ecos serves a database at a time", e.Database, who)
}

// InstanceLock is held while one ecos serves a database; Release lets the
// next one in. The operating system (SQLite) or the server (PostgreSQL)
// drops it when its process dies, so a crash never leaves it stuck.
type InstanceLock struct {
	release func() error
}

// Release gives the lock up. It is safe to call more than once.
func (l *InstanceLock) Release() error {
	if l == nil || l.release == nil {
		return nil
	}
	r := l.release
	l.release = nil
	return r()
}

// LockInstance takes the database's instance lock for me, or returns a
// *LockedError saying who has it. On SQLite it is a file lock on the
// database file's name + ".lock", which also records the holder; on
// PostgreSQL a session advisory lock held on a connection of its own,
// whose application_name says who holds it. A lock whose holder just
// died may take the server a moment to drop: when the holder is a process
// of this host that no longer runs, LockInstance waits up to wait for it
// (PostgreSQL; on SQLite the kernel drops it at once).
func (db *DB) LockInstance(ctx context.Context, me Holder, wait time.Duration) (*InstanceLock, error) {
	if db.d.name == DriverPostgres {
		return db.lockPostgres(ctx, me, wait)
	}
	return lockFile(db.file+".lock", db.file, me)
}

// InstanceHolder says who holds the instance lock, if anyone.
func (db *DB) InstanceHolder(ctx context.Context) (Holder, bool, error) {
	if db.d.name == DriverPostgres {
		return db.postgresHolder(ctx)
	}
	return fileHolder(db.file + ".lock")
}
