package store_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// The child process of TestInstanceLockSurvivesKill: it takes the lock on
// the database in $ECOS_LOCK_CHILD_DSN, says so, and waits to be killed.
func TestInstanceLockChild(t *testing.T) {
	dsn := os.Getenv("ECOS_LOCK_CHILD_DSN")
	if dsn == "" {
		t.Skip("run by TestInstanceLockSurvivesKill")
	}
	db, err := store.Open(t.Context(), store.Config{Driver: os.Getenv("ECOS_LOCK_CHILD_DRIVER"), DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LockInstance(t.Context(), store.Me(time.Now()), 0); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	select {}
}

func TestInstanceLock(t *testing.T) {
	for name, open := range lockBackends(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open(t), open(t)
			first := store.Holder{PID: 4242, Host: "node-a", Since: time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)}
			l, err := a.LockInstance(t.Context(), first, 0)
			if err != nil {
				t.Fatal(err)
			}
			// A second instance is refused and told who holds it.
			_, err = b.LockInstance(t.Context(), store.Me(time.Now()), 0)
			le, ok := errors.AsType[*store.LockedError](err)
			if !ok {
				t.Fatalf("second lock: %v, want a *LockedError", err)
			}
			if !le.Known || le.Holder.PID != 4242 || le.Holder.Host != "node-a" {
				t.Errorf("holder %+v", le.Holder)
			}
			for _, want := range []string{"pid 4242 on node-a", "one ecos serves a database at a time"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
			if strings.Count(err.Error(), "database") != 2 {
				t.Errorf("%q: the database named once, as a database", err)
			}
			if h, held, err := b.InstanceHolder(t.Context()); err != nil || !held || h.PID != 4242 {
				t.Errorf("InstanceHolder = %+v, %v, %v", h, held, err)
			}
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
			if _, held, err := b.InstanceHolder(t.Context()); err != nil || held {
				t.Errorf("after release: held %v, %v", held, err)
			}
			l2, err := b.LockInstance(t.Context(), store.Me(time.Now()), 0)
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			l2.Release()
		})
	}
}

// TestInstanceLockSurvivesKill: an instance killed with SIGKILL does not
// leave the database locked.
func TestInstanceLockSurvivesKill(t *testing.T) {
	for name, open := range lockBackends(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestInstanceLockChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ECOS_LOCK_CHILD_DSN="+db.Config().DSN, "ECOS_LOCK_CHILD_DRIVER="+db.Driver())
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
				t.Fatalf("child said %q, %v", line, err)
			}
			_, err = db.LockInstance(t.Context(), store.Me(time.Now()), 0)
			le, ok := errors.AsType[*store.LockedError](err)
			if !ok || le.Holder.PID != cmd.Process.Pid {
				t.Fatalf("while the child holds it: %v, want it named by pid %d", err, cmd.Process.Pid)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			// The server notices the dead client's closed socket on its own
			// schedule: LockInstance waits for it, on the server.
			l, err := db.LockInstance(t.Context(), store.Me(time.Now()), 30*time.Second)
			if err != nil {
				t.Fatalf("after kill -9: %v", err)
			}
			l.Release()
		})
	}
}

// lockBackends opens handles on one fresh migrated database per backend; each
// call of the returned func opens another handle on the same database.
func lockBackends(t *testing.T) map[string]func(*testing.T) *store.DB {
	t.Helper()
	sqlite := filepath.Join(t.TempDir(), "ecos.db")
	pg := freshPostgres(t)
	open := func(cfg store.Config) func(*testing.T) *store.DB {
		return func(t *testing.T) *store.DB {
			db, err := store.Open(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return db
		}
	}
	return map[string]func(*testing.T) *store.DB{
		"sqlite":   open(store.Config{Driver: store.DriverSQLite, DSN: sqlite}),
		"postgres": open(pg),
	}
}

// TestNoCreate: a database that does not exist is refused, not made.
func TestNoCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := store.Open(t.Context(), store.Config{Driver: store.DriverSQLite, DSN: path, NoCreate: true})
	if !errors.Is(err, store.ErrNoDatabase) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err %v, want ErrNoDatabase naming %s", err, path)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the refused file exists: %v", err)
	}
}
