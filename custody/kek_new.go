package custody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Env is what a ceremony takes from the world: randomness, the clock, and
// the console its transcript is echoed to.
type Env struct {
	Rand io.Reader // crypto/rand.Reader outside tests
	Now  func() time.Time
	Out  io.Writer
}

// KEKNewResult is what a KEK ceremony made.
type KEKNewResult struct {
	Files         []string // the component files, component 1 first
	ComponentKCVs []KCV    // by the ceremony's method, in the same order
	KEKKCVs       []KCV    // the whole KEK's, by every method
	Transcript    string
}

// ComponentFile is the file name component i of n of ceremony name gets.
func ComponentFile(name string, i, n int) string {
	return fmt.Sprintf("%s-component-%d-of-%d.txt", name, i, n)
}

// NewKEK runs a KEK ceremony: it makes the components of a new KEK and
// writes each to its own file (mode 0400) in c.OutDir, reads them back and
// checks that they give the same KEK, and logs each component's KCV and
// the KEK's by both methods. The KEK itself is never written. It refuses
// to start if any file it would write exists; if a step fails, the
// component files it wrote are removed.
func NewKEK(c *KEKNewCeremony, src Source, env Env) (*KEKNewResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	res := &KEKNewResult{Transcript: TranscriptFile(c, env.Now())}
	for i := 1; i <= c.Components; i++ {
		res.Files = append(res.Files, filepath.Join(c.OutDir, ComponentFile(c.Name, i, c.Components)))
	}
	if fi, err := os.Stat(c.OutDir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("out_dir %s is not a directory", c.OutDir)
	}
	if err := CheckAbsent(append([]string{res.Transcript}, res.Files...)...); err != nil {
		return nil, err
	}
	if err := checkParents(res.Transcript); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.OutDir, 0o700); err != nil {
		return nil, fmt.Errorf("making out_dir: %w", err)
	}
	t, err := OpenTranscript(res.Transcript, env.Out, env.Now, src, c)
	if err != nil {
		return nil, err
	}
	err = newKEK(c, env, t, res)
	if err != nil {
		t.Fail(err)
		for _, f := range res.Files {
			if rerr := os.Remove(f); rerr == nil {
				t.Logf("removed %s", f)
			}
		}
	} else {
		t.Logf("done: give each custodian their component file and its KCV; keep the KEK's KCVs with the ceremony record")
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func newKEK(c *KEKNewCeremony, env Env, t *Transcript, res *KEKNewResult) error {
	written := 0
	defer func() { res.Files = res.Files[:written] }() // on failure, what NewKEK removes
	t.Logf("generating %d components of a %d-bit KEK %q", c.Components, c.Bits, c.Name)
	comps, err := GenerateComponents(env.Rand, c.Name, c.Components, c.Bits, c.KCVMethod)
	if err != nil {
		return err
	}
	defer ClearAll(comps)
	kek, err := Combine(comps)
	if err != nil {
		return err
	}
	defer clear(kek)
	if res.KEKKCVs, err = kekKCVs(kek, c); err != nil {
		return err
	}
	for i, comp := range comps {
		text := FormatComponent(comp)
		err := WriteNew(res.Files[i], text, 0o400)
		clear(text)
		if err != nil {
			return err
		}
		written++
		res.ComponentKCVs = append(res.ComponentKCVs, comp.KCV)
		t.Logf("wrote component %d of %d to %s: KCV %s", comp.Index, comp.Of, res.Files[i], comp.KCV)
	}
	// Read back: the files, not memory, are what the custodians take away.
	back := make([]*Component, 0, len(comps))
	defer func() { ClearAll(back) }()
	for i, f := range res.Files {
		rc, err := ReadComponentFile(f)
		if err != nil {
			return err
		}
		back = append(back, rc)
		if !bytes.Equal(rc.Value, comps[i].Value) || rc.KCV != comps[i].KCV {
			return errors.New("component file " + f + " does not read back as written")
		}
	}
	again, err := Combine(back)
	if err != nil {
		return err
	}
	same := bytes.Equal(again, kek)
	clear(again)
	if !same {
		return errors.New("the component files read back do not give the KEK")
	}
	t.Logf("read the %d component files back: they give the same KEK", len(back))
	for _, k := range res.KEKKCVs {
		t.Logf("KEK KCV %s", k)
	}
	return t.Err()
}

// kekKCVs is the KEK's KCV by every method, the ceremony's first.
func kekKCVs(kek []byte, c *KEKNewCeremony) ([]KCV, error) {
	all, err := AllKCVs(kek)
	if err != nil {
		return nil, err
	}
	for i, k := range all {
		if k.Method == c.KCVMethod {
			all[0], all[i] = all[i], all[0]
		}
	}
	return all, nil
}
