package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/smki"
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

// smallestCommands are the ecos commands of the block after the smallest
// file in docs/config.md, in order, comments dropped.
func smallestCommands(t *testing.T) [][]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "The smallest file that starts")
	_, rest, ok := strings.Cut(rest, "\n```sh\n")
	if !ok {
		t.Fatal("docs/config.md: no ```sh block after the smallest file that starts")
	}
	block, _, _ := strings.Cut(rest, "\n```\n")
	var cmds [][]string
	for line := range strings.Lines(block) {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "ecos" {
			t.Fatalf("docs/config.md: %q is not an ecos command", line)
		}
		cmds = append(cmds, f[1:])
	}
	return cmds
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
	file, commands := smallestConfig(t), smallestCommands(t)
	dir := t.TempDir()
	t.Chdir(dir) // the doc's commands name paths relative to where they run
	if err := os.WriteFile("ecos.json", file, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ecos.json")
	for _, args := range commands {
		if args[0] == "serve" {
			continue
		}
		var out, errs bytes.Buffer
		if code := run(t.Context(), args, stdio{out: &out, err: &errs}); code != 0 {
			t.Fatalf("ecos %s: exit %d: %s", strings.Join(args, " "), code, errs.String())
		}
	}
	tcos, err := os.ReadFile(filepath.Join(dir, "pki", "tcos-ds.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := smki.ParsePEM(tcos)
	if err != nil || len(certs) != 1 {
		t.Fatalf("pki/tcos-ds.pem: %v", err)
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
	if ski := fmt.Sprintf(`"keys.tcos.ski":"%X"`, certs[0].SubjectKeyID); !strings.Contains(log, ski) {
		t.Errorf("the log does not name the TCoS key's SKI: want %s", ski)
	}
}
