package mpidreport

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2022-10", "2022-13", "22-10", "2022-1", "2022-10-01", "", "9999-12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMonth(s)
		if err != nil {
			return
		}
		if m.Day() != 1 || m.Location() != time.UTC || m.Hour() != 0 {
			t.Fatalf("ParseMonth(%q) = %v: not a month's first instant, UTC", s, m)
		}
		if back, err := ParseMonth(m.Format("2006-01")); err != nil || !back.Equal(m) {
			t.Fatalf("%q: %v does not read back (%v, %v)", s, m, back, err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"month":"2022-10","rows":[{"sec_party_id":"P1","outcome":"S","outcome_count":3}],"headline":{}}`))
	f.Add([]byte(`{"month":"2022-13"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("a decoded report does not decode again: %v", err)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("decode is not stable:\n%s\n%s", out, out2)
		}
	})
}
