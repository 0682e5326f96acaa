package service_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/store"
)

// signalled is a log sink that says when a message first appears.
type signalled struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (s *signalled) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if s.seen != nil && strings.Contains(s.buf.String(), s.want) {
		close(s.seen)
		s.seen = nil
	}
	return len(p), nil
}

// expect returns a channel closed once msg is logged from now on.
func (s *signalled) expect(msg string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	s.want, s.seen = msg, make(chan struct{})
	return s.seen
}

// TestAuditReopenOnSignal: log rotation. After the audit file is renamed
// and SIGHUP arrives on the injected channel, new records go to a new file
// at the configured path and the renamed one keeps only the old ones.
func TestAuditReopenOnSignal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := installDemo(t, dir, demoworld.InstallOptions{Devices: 5})
	logs := &signalled{}
	hup := make(chan os.Signal, 1)
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), Reopen: hup, Simulator: simulator(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, ln, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	client := demoClient(t, dir, w, 2, ln.Addr())
	send := func(device int) string {
		t.Helper()
		doc, err := w.Sign(demoworld.Request{Supplier: 2, Device: demoworld.Device(device), Counter: uint64(time.Now().UnixNano())})
		if err != nil {
			t.Fatal(err)
		}
		if ack, accepted, err := client.Submit(ctx, doc); err != nil || !accepted {
			t.Fatalf("submit: accepted=%v err=%v\n%s", accepted, err, ack)
		}
		req, err := duis.DecodeRequest(doc)
		if err != nil {
			t.Fatal(err)
		}
		id := req.Header.RequestID.String()
		if _, final, err := client.Response(ctx, id, 10*time.Second); err != nil || !final {
			t.Fatalf("response: final=%v err=%v", final, err)
		}
		return id
	}
	audit := filepath.Join(dir, "audit.log")
	first := send(1)
	if err := os.Rename(audit, audit+".1"); err != nil {
		t.Fatal(err)
	}
	reopened := logs.expect(`"msg":"audit log reopened"`)
	hup <- syscall.SIGHUP
	<-reopened
	second := send(2)

	old, err := os.ReadFile(audit + ".1")
	if err != nil {
		t.Fatal(err)
	}
	now, err := os.ReadFile(audit)
	if err != nil {
		t.Fatalf("no new audit file after SIGHUP: %v", err)
	}
	if !bytes.Contains(old, []byte(first)) || bytes.Contains(old, []byte(second)) {
		t.Errorf("the rotated file holds the wrong records:\n%s", old)
	}
	if !bytes.Contains(now, []byte(second)) || bytes.Contains(now, []byte(first)) {
		t.Errorf("the new file holds the wrong records:\n%s", now)
	}
}

// TestOneInstancePerDatabase: a second service on the same database is
// refused and told who holds it; once the first closes, the next starts.
// On SQLite and on PostgreSQL.
func TestOneInstancePerDatabase(t *testing.T) {
	for name, db := range map[string]func(*testing.T) store.Config{
		"sqlite":   func(*testing.T) store.Config { return store.Config{} },
		"postgres": func(t *testing.T) store.Config { return testkit.FreshPostgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			cfg := installDemo(t, t.TempDir(), demoworld.InstallOptions{Devices: 2, Database: db(t)})
			open := func() (*service.Service, error) {
				return service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: simulator(t, cfg)})
			}
			first, err := open()
			if err != nil {
				t.Fatal(err)
			}
			_, err = open()
			le, ok := errors.AsType[*store.LockedError](err)
			if !ok || !le.Known || le.Holder.PID != os.Getpid() {
				t.Fatalf("second instance: %v, want refused naming pid %d", err, os.Getpid())
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			next, err := open()
			if err != nil {
				t.Fatalf("after the first closed: %v", err)
			}
			next.Close()
		})
	}
}
