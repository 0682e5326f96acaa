package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Off a terminal the import's progress is a plain line at each tenth of
// the file, with the count and the rate; on one, a bar redrawn in place at
// most ten times a second, ended with a newline.
func TestInventoryProgress(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	var out bytes.Buffer
	in := &countingReader{}
	p := newProgress(&out, "inv.csv", 1000, in, now)
	for i := 1; i <= 20; i++ {
		clock = clock.Add(time.Second)
		in.n = int64(i * 50)
		p.update(i * 100)
	}
	p.done()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 9 || lines[0] != "inv.csv: 10%, 200 lines, 100 lines/s" || lines[8] != "inv.csv: 90%, 1800 lines, 100 lines/s" {
		t.Fatalf("plain progress:\n%s", out.String())
	}

	out.Reset()
	clock = time.Unix(0, 0)
	in.n = 0
	p = newProgress(&out, "inv.csv", 1000, in, now)
	p.tty = true
	for i := 1; i <= 20; i++ {
		clock = clock.Add(50 * time.Millisecond)
		in.n = int64(i * 50)
		p.update(i * 100)
	}
	p.done()
	p.done()
	s := out.String()
	if n := strings.Count(s, "\r"); n != 11 {
		t.Errorf("%d redraws in 1 s of updates every 50 ms (and the last), want 11:\n%q", n, s)
	}
	if !strings.HasSuffix(s, "\rinv.csv [##############################] 100% 2000 lines 2000 lines/s \n") {
		t.Errorf("final bar: %q", s[strings.LastIndex(s, "\r"):])
	}
}
