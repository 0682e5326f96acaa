package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/refdata"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

func runImportInventory(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos import inventory", "FILE.csv")
	f := newDBFlags(fs)
	goLive := fs.String("go-live", "", "the go-live `DAY` (YYYY-MM-DD) from which a device must declare its credential (default migration.go_live of --config)")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	opts, err := inventoryOptions(f, *goLive)
	if err != nil {
		return err
	}
	file, db, err := f.importInto(ctx, name)
	if err != nil {
		return err
	}
	defer file.Close()
	defer db.Close()
	size := int64(0)
	if fi, err := file.Stat(); err == nil {
		size = fi.Size()
	}
	in := &countingReader{r: file}
	bar := newProgress(std.err, name, size, in, time.Now)
	res, err := db.ImportInventory(ctx, refdata.NewInventory(name, in, opts), bar.update)
	bar.done()
	if err != nil {
		return inventoryRefusal(name, err)
	}
	fmt.Fprintf(std.out, "imported %d devices from %s: %d new or changed, %d as stored already\n",
		res.Lines, name, res.Written, res.Lines-res.Written)
	if opts.GoLive.IsZero() {
		fmt.Fprintf(std.out, "no go-live day (migration.go_live or --go-live): devices installed since were not held to declare their credential\n")
	}
	return nil
}

// inventoryOptions resolves the credential SKIs (from the certificates of
// keys.tcos and keys.ecos) and the go-live day.
func inventoryOptions(f dbFlags, goLive string) (refdata.InventoryOptions, error) {
	var opts refdata.InventoryOptions
	if *f.config != "" {
		c, err := config.Load(*f.config)
		if err != nil {
			return opts, malformed(err)
		}
		opts.GoLive = c.Migration.GoLiveDate()
		for _, k := range []struct {
			key  string
			pair *config.KeyPair
			ski  *[]byte
		}{{"keys.tcos", c.Keys.TCoS, &opts.TCoSSKI}, {"keys.ecos", c.Keys.ECoS, &opts.ECoSSKI}} {
			if k.pair == nil {
				continue
			}
			certs, err := smki.LoadFiles(k.pair.Cert)
			if err != nil {
				return opts, fmt.Errorf("%s.cert: %w", k.key, err)
			}
			*k.ski = certs[0].SubjectKeyID
		}
	}
	if goLive != "" {
		t, err := time.Parse(time.DateOnly, goLive)
		if err != nil {
			return opts, usagef("--go-live %q: want a day, YYYY-MM-DD", goLive)
		}
		opts.GoLive = t
	}
	return opts, nil
}

// inventoryRefusal merges the reader's and the store's refusals into one
// list of lines, in line order.
func inventoryRefusal(name string, err error) error {
	rerr, fromReader := errors.AsType[*refdata.Error](err)
	ie, fromStore := errors.AsType[*store.ImportErrors](err)
	if !fromReader && !fromStore {
		return err
	}
	if !fromReader {
		rerr = &refdata.Error{File: name}
	}
	// The inventory's rows are its lines.
	rerr = withRefusals(rerr, ie, func(row int) int { return row })
	return invalid(fmt.Errorf("%w\nnothing was imported", rerr))
}

// countingReader counts the bytes read through it, for the progress bar.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress shows an import's progress on w: on a terminal a bar redrawn
// in place at most ten times a second, elsewhere (a log, a pipe) a plain
// line at each tenth of the file.
type progress struct {
	w        io.Writer
	name     string
	size     int64
	in       *countingReader
	now      func() time.Time
	start    time.Time
	tty      bool
	last     time.Time
	tenth    int64
	lines    int
	finished bool
}

func newProgress(w io.Writer, name string, size int64, in *countingReader, now func() time.Time) *progress {
	return &progress{w: w, name: name, size: size, in: in, now: now, start: now(), tty: isTerminal(w)}
}

// isTerminal reports whether w is a terminal, where a progress line may be
// redrawn in place; elsewhere (a log, a pipe) each update is its own line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(lines int) {
	p.lines = lines
	t := p.now()
	if p.tty {
		if t.Sub(p.last) >= 100*time.Millisecond {
			p.last = t
			p.draw(t)
		}
		return
	}
	if p.size > 0 {
		if tenth := p.in.n * 10 / p.size; tenth > p.tenth && tenth < 10 {
			p.tenth = tenth
			fmt.Fprintf(p.w, "%s: %d%%, %d lines, %s lines/s\n", p.name, tenth*10, lines, p.rate(t))
		}
	}
}

func (p *progress) rate(t time.Time) string {
	s := t.Sub(p.start).Seconds()
	if s <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(p.lines)/s)
}

func (p *progress) draw(t time.Time) {
	const width = 30
	frac := 0.0
	if p.size > 0 {
		frac = min(1, float64(p.in.n)/float64(p.size))
	}
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d lines %s lines/s ", p.name, strings.Repeat("#", fill), strings.Repeat(".", width-fill),
		frac*100, p.lines, p.rate(t))
}

// done ends the bar's line, so what follows starts on its own.
func (p *progress) done() {
	if p.finished {
		return
	}
	p.finished = true
	if p.tty {
		p.draw(p.now())
		fmt.Fprintln(p.w)
	}
}
