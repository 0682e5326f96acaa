package custody

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/keywrap"
)

// newKEKInDir runs a KEK ceremony into dir/components, its transcript in
// dir, and returns the result.
func newKEKInDir(t *testing.T, dir string, n int) *KEKNewResult {
	t.Helper()
	c := &KEKNewCeremony{Name: "kek-test", Components: n, Bits: 256, KCVMethod: keywrap.KCVCMAC,
		OutDir: filepath.Join(dir, "components"), Transcript: filepath.Join(dir, "kek-new.transcript")}
	res, err := NewKEK(c, Source{}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestNewKEK(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	c := &KEKNewCeremony{Name: "kek-2026", Components: 3, Bits: 256, KCVMethod: keywrap.KCVCMAC, OutDir: filepath.Join(dir, "out")}
	cer := writeFile(t, dir, "kek.json", `{"name": "kek-2026", "components": 3, "bits": 256, "kcv_method": "aes-cmac-zero", "out_dir": "out"}`)
	sum, err := LoadCeremony(cer, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // the default transcript goes to the current directory
	res, err := NewKEK(c, Source{File: cer, SHA256: sum}, testEnv(&out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Transcript != "kek-new-20261202T030405Z.transcript" {
		t.Errorf("transcript %s", res.Transcript)
	}
	var comps []*Component
	for i, f := range res.Files {
		if want := filepath.Join(dir, "out", ComponentFile("kek-2026", i+1, 3)); f != want {
			t.Errorf("file %s, want %s", f, want)
		}
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o400 {
			t.Errorf("%s has mode %v, want 0400", f, fi.Mode().Perm())
		}
		comp, err := ReadComponentFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if comp.KCV != res.ComponentKCVs[i] {
			t.Errorf("component %d: file KCV %s, reported %s", i+1, comp.KCV, res.ComponentKCVs[i])
		}
		comps = append(comps, comp)
	}
	kek, err := Combine(comps)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.KEKKCVs) != 2 || res.KEKKCVs[0] != mustKCV(t, kek, keywrap.KCVCMAC) || res.KEKKCVs[1] != mustKCV(t, kek, keywrap.KCVECB) {
		t.Errorf("KEK KCVs %v", res.KEKKCVs)
	}
	transcript, err := os.ReadFile(res.Transcript)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(transcript, out.Bytes()) {
		t.Error("the transcript file and the console differ")
	}
	lines := strings.Split(string(transcript), "\n")
	if want := "2026-12-02T03:04:05Z kek-new ceremony from file " + cer + ", sha256 "; !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], hex.EncodeToString(sum[:])) {
		t.Errorf("first line %q, want %q + the file's SHA-256", lines[0], want)
	}
	if lines[1] != "2026-12-02T03:04:05Z effective ceremony:" || lines[2] != "{" || !strings.Contains(string(transcript), `"out_dir": "`+filepath.Join(dir, "out")+`"`) {
		t.Errorf("no effective ceremony after the first line:\n%s", transcript)
	}
	for _, want := range []string{"KEK KCV " + res.KEKKCVs[0].String(), "KEK KCV " + res.KEKKCVs[1].String(), "wrote component 3 of 3 to " + res.Files[2] + ": KCV " + res.ComponentKCVs[2].String()} {
		if !strings.Contains(string(transcript), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	// The KEK and the component values are never in the transcript.
	assertAbsent(t, transcript, append([][]byte{kek}, comps[0].Value, comps[1].Value, comps[2].Value)...)
}

func TestNewKEKRefuses(t *testing.T) {
	base := func(dir string) *KEKNewCeremony {
		return &KEKNewCeremony{Name: "k", Components: 2, Bits: 128, KCVMethod: keywrap.KCVECB, OutDir: filepath.Join(dir, "out"), Transcript: filepath.Join(dir, "t")}
	}
	t.Run("a component file exists", func(t *testing.T) {
		dir := t.TempDir()
		c := base(dir)
		os.MkdirAll(c.OutDir, 0o700)
		writeFile(t, c.OutDir, ComponentFile("k", 2, 2), "old")
		if _, err := NewKEK(c, Source{}, testEnv(nil)); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), ComponentFile("k", 2, 2)) {
			t.Fatalf("got %v", err)
		}
		entries, _ := os.ReadDir(c.OutDir)
		if len(entries) != 1 {
			t.Errorf("%d files in out: something was written before the refusal", len(entries))
		}
		if _, err := os.Stat(c.Transcript); err == nil {
			t.Error("a transcript was started")
		}
	})
	t.Run("the transcript exists", func(t *testing.T) {
		dir := t.TempDir()
		c := base(dir)
		writeFile(t, dir, "t", "old")
		if _, err := NewKEK(c, Source{}, testEnv(nil)); !errors.Is(err, ErrExists) {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(c.OutDir); err == nil {
			t.Error("out was made")
		}
	})
	t.Run("out_dir is a file", func(t *testing.T) {
		dir := t.TempDir()
		c := base(dir)
		writeFile(t, dir, "out", "")
		if _, err := NewKEK(c, Source{}, testEnv(nil)); err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("invalid ceremony", func(t *testing.T) {
		c := base(t.TempDir())
		c.Bits = 100
		if _, err := NewKEK(c, Source{}, testEnv(nil)); err == nil || !strings.Contains(err.Error(), "bits: 100") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("broken randomness removes nothing but leaves a transcript", func(t *testing.T) {
		dir := t.TempDir()
		c := base(dir)
		env := testEnv(nil)
		env.Rand = bytes.NewReader(make([]byte, 32))
		if _, err := NewKEK(c, Source{}, env); err == nil || !strings.Contains(err.Error(), "the random source is broken") {
			t.Fatalf("got %v", err)
		}
		tr, _ := os.ReadFile(c.Transcript)
		if !strings.Contains(string(tr), "REFUSED: the random source is broken") {
			t.Errorf("transcript:\n%s", tr)
		}
		if entries, _ := os.ReadDir(c.OutDir); len(entries) != 0 {
			t.Errorf("%d files left in out", len(entries))
		}
	})
}
