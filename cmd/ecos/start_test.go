package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/testpki"
)

// smallestConfig is the block docs/config.md calls the smallest file that
// starts.
func smallestConfig(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "The smallest file that starts")
	if !ok {
		t.Fatal("docs/config.md no longer has its smallest file that starts")
	}
	_, rest, ok = strings.Cut(rest, "\n```json\n")
	if !ok {
		t.Fatal("docs/config.md: no ```json block after the smallest file that starts")
	}
	block, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		t.Fatal("docs/config.md: unterminated block")
	}
	return []byte(block)
}

// watched is an output the test reads while the command still writes it,
// and can wait on until it shows a line.
type watched struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func watch(want string) *watched { return &watched{want: want, seen: make(chan struct{})} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := strings.Contains(w.buf.String(), w.want)
	w.buf.Write(p)
	if !had && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
	}
	return len(p), nil
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestSmallestConfigStarts: docs/config.md's smallest file, with a test PKI
// beside it, migrates and serves; the start logs its summary and the
// warning the file earns; a second instance on the same database is
// refused naming the first; stopping logs a line.
func TestSmallestConfigStarts(t *testing.T) {
	dir := t.TempDir()
	p, err := testpki.Generate(testpki.Options{Now: time.Now(), Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteDir(filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	tp, err := testpki.GenerateTLS(testpki.TLSOptions{Now: time.Now().Add(-time.Hour), Rand: rand.Reader, Users: []eui.EUI{testpki.SupplierEUI(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.WriteDir(filepath.Join(dir, "tls")); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ecos.json")
	if err := os.WriteFile(cfg, smallestConfig(t), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(t.Context(), []string{"db", "migrate", "--config", cfg}, stdio{out: &out, err: &errs}); code != 0 {
		t.Fatalf("db migrate: exit %d: %s", code, errs.String())
	}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	sout, serr := watch("serving on"), watch("")
	done := make(chan int)
	args := []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--operator-listen", "127.0.0.1:0"}
	go func() { done <- run(ctx, args, stdio{out: sout, err: serr}) }()
	select {
	case <-sout.seen:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, serr)
	}

	second := watch("")
	if code := run(t.Context(), args, stdio{out: second, err: second}); code == 0 {
		t.Error("a second serve on the same database started")
	}
	holder := regexp.MustCompile(`ecos serve: error: database .*ecos.db is in use by ecos pid ` + strconv.Itoa(os.Getpid()) + ` on .* since `)
	if !holder.MatchString(second.String()) {
		t.Errorf("second serve said %q, want the holder named", second)
	}

	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, serr)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	log := serr.String()
	for _, want := range []string{
		`"level":"WARN","msg":"anomaly.without_file is \"zero\" and anomaly.file_signing_cas is empty`,
		`"msg":"ecos starting","database":"` + filepath.Join(dir, "ecos.db") + `","schema_version":`,
		`"keys.tcos.ski":"`, `"keys.dsp_xml_sign.ski":"`, `"parties":0`, `"devices":0`,
		`"msg":"ecos serving","listen":"127.0.0.1:`, `"mutual_tls":true`, `"operator_listen":"127.0.0.1:`,
		`"msg":"ecos stopped"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	if ski := fmt.Sprintf(`"keys.tcos.ski":"%X"`, p.TCoS.SKI); !strings.Contains(log, ski) {
		t.Errorf("the log does not name the TCoS key's SKI: want %s", ski)
	}
}
