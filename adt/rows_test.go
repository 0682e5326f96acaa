package adt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseRows(t *testing.T) {
	got, err := ParseRows([]string{"6.23,10,20,1440", "6.23,1,2,60", "1.1.1,0,0,5"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Threshold{{"6.23", 10, 20, 1440, false}, {"6.23", 1, 2, 60, false}, {"1.1.1", 0, 0, 5, false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseRows = %v, want %v", got, want)
	}
	// No 6.23 daily row is needed, and none at all is fine.
	if got, err := ParseRows(nil); err != nil || len(got) != 0 {
		t.Errorf("no rows: %v %v", got, err)
	}
	_, err = ParseRows([]string{"6.23,5,1,1440", "6.23,1,2", "9.9,1,1,1", "6.23,1,1,1441", "6.23,1,2,60", "6.23,1,2,60"})
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want *Problems", err)
	}
	for _, want := range []string{"line 1: warning threshold 5", "line 2: row has 3 fields", `line 3: SRV "9.9"`, "line 4: interval 1441", "line 6: duplicate row"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %q", err, want)
		}
	}
}

// FuzzParseRows: never panics; every row it accepts passes the row rules
// again, one threshold per row.
func FuzzParseRows(f *testing.F) {
	f.Add("6.23,10,20,1440\n6.23,1,2,60")
	f.Add("6.23,5,1,0\nx,y")
	f.Fuzz(func(t *testing.T, in string) {
		rows := strings.Split(in, "\n")
		th, err := ParseRows(rows)
		if err != nil {
			if th != nil {
				t.Fatal("thresholds returned with an error")
			}
			return
		}
		if len(th) != len(rows) {
			t.Fatalf("%d thresholds from %d rows", len(th), len(rows))
		}
		parsed := make([]Row, len(th))
		for i, r := range th {
			parsed[i] = Row{SRV: r.SRV, Warning: r.Warning, Quarantine: r.Quarantine, Interval: r.Interval, Line: i + 1}
		}
		var problems Problems
		rowSetRules(parsed, &problems)
		if len(problems) > 0 {
			t.Fatalf("accepted rows break the rules: %v", problems)
		}
	})
}
