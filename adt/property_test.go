package adt

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyRoundTrip: any valid file, signed, reads back to the same
// rows, verifies, marshals to the same bytes, and stops verifying when any
// one byte of the signed part changes.
func TestPropertyRoundTrip(t *testing.T) {
	fx := newFixture(t)
	s1 := fx.pki.Suppliers[0]
	cert := parseCert(t, s1.FileSigning)
	rapid.Check(t, func(rt *rapid.T) {
		f := &File{
			User:     s1.EUI,
			Sequence: rapid.Uint64().Draw(rt, "seq"),
			CRLF:     rapid.Bool().Draw(rt, "crlf"),
		}
		seen := map[rowKey]bool{{SRVCoS, MaxInterval}: true}
		n := rapid.IntRange(0, 20).Draw(rt, "rows")
		rows := []Row{genRow(rt, SRVCoS, MaxInterval)}
		for range n {
			srv := rapid.SampledFrom(knownSRVs[:]).Draw(rt, "srv")
			iv := rapid.Uint64Range(1, MaxInterval).Draw(rt, "interval")
			if seen[rowKey{srv, iv}] {
				continue
			}
			seen[rowKey{srv, iv}] = true
			rows = append(rows, genRow(rt, srv, iv))
		}
		// Put the mandatory 6.23 row anywhere.
		at := rapid.IntRange(0, len(rows)-1).Draw(rt, "at")
		rows[0], rows[at] = rows[at], rows[0]
		for i := range rows {
			rows[i].Line = i + 2
		}
		f.Rows = rows

		body := f.AppendBody(nil)
		signed, err := Sign(body, s1.FileSigning.Key, cert, nil)
		if err != nil {
			rt.Fatal(err)
		}
		if rapid.Bool().Draw(rt, "trim-final-newline") {
			signed = bytes.TrimRight(signed, "\r\n")
		}
		g, err := Read(signed, ValidateOptions{})
		if err != nil {
			rt.Fatalf("Read: %v\n%q", err, signed)
		}
		if g.User != f.User || g.Sequence != f.Sequence || g.CRLF != f.CRLF || len(g.Rows) != len(f.Rows) {
			rt.Fatalf("read back %+v, want %+v", g, f)
		}
		for i := range g.Rows {
			if g.Rows[i] != f.Rows[i] {
				rt.Fatalf("row %d = %+v, want %+v", i, g.Rows[i], f.Rows[i])
			}
		}
		if !bytes.Equal(g.Signed, body) || !bytes.Equal(g.Marshal(), signed) {
			rt.Fatalf("signed part or Marshal differs from what was signed")
		}
		if _, err := fx.verify(g); err != nil {
			rt.Fatal(err)
		}
		if eff := g.Effective(); len(eff) < len(g.Rows) {
			rt.Fatalf("%d effective thresholds for %d rows", len(eff), len(g.Rows))
		}

		// Any one changed byte before the signature line breaks the file.
		i := rapid.IntRange(0, len(body)-1).Draw(rt, "flip")
		bad := bytes.Clone(signed)
		bad[i] ^= byte(rapid.IntRange(1, 255).Draw(rt, "xor"))
		if h, err := Read(bad, ValidateOptions{}); err == nil {
			if _, err := fx.verify(h); err == nil {
				rt.Fatalf("changed byte %d still verifies:\n%q", i, bad)
			}
		}
	})
}

func genRow(rt *rapid.T, srv string, iv uint64) Row {
	q := rapid.Uint64Range(0, MaxThreshold).Draw(rt, "quarantine")
	w := rapid.Uint64Range(0, q).Draw(rt, "warning")
	return Row{SRV: srv, Warning: w, Quarantine: q, Interval: iv}
}
