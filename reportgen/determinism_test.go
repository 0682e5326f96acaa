package reportgen_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/reportgen"
)

// dump is every row the generator writes, in a fixed order, as text.
func dump(t *testing.T, raw *sql.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT party_id, name, state FROM parties ORDER BY party_id`,
		`SELECT party_id, mpid FROM party_mpids ORDER BY party_id, mpid`,
		`SELECT party_id, user_eui, role FROM party_users ORDER BY party_id`,
		`SELECT device_eui, device_type, smi_status FROM devices ORDER BY device_eui`,
		`SELECT mpxn, effective_from_us, supplier_party_id, mpid, device_eui FROM registrations ORDER BY mpxn`,
		`SELECT originator_eui, target_eui, counter, received_at_us, state, party_id, mpid_outcome, mpid_presented, mpid_expected, signer_serial
			FROM requests ORDER BY received_at_us, counter`,
	} {
		rows, err := raw.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, v := range vals {
				fmt.Fprintf(&b, "%v|", v)
			}
			out = append(out, b.String())
		}
		rows.Close()
	}
	return out
}

func TestDeterministicForASeed(t *testing.T) {
	var dumps [3][]string
	for i, seed := range []uint64{7, 7, 8} {
		db, raw := backends[0].open(t)
		o := small()
		o.Requests, o.Seed = 3000, seed
		if _, err := reportgen.Generate(t.Context(), db, o, clock()); err != nil {
			t.Fatal(err)
		}
		dumps[i] = dump(t, raw)
	}
	if d := cmp.Diff(dumps[0], dumps[1]); d != "" {
		t.Fatalf("two runs with seed 7 differ (-first +second):\n%s", d[:min(len(d), 3000)])
	}
	if cmp.Equal(dumps[0], dumps[2]) {
		t.Fatal("seeds 7 and 8 made the same month")
	}
}

// A month that holds requests is refused whole, unless appended to; an
// append adds its requests beside the first run's.
func TestRefusesAMonthWithRequests(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db, raw := b.open(t)
			o := small()
			o.Requests = 2000
			if _, err := reportgen.Generate(t.Context(), db, o, clock()); err != nil {
				t.Fatal(err)
			}
			before := dump(t, raw)
			_, err := reportgen.Generate(t.Context(), db, o, clock())
			var taken *reportgen.MonthTakenError
			if !errors.As(err, &taken) || err.Error() != "the database already holds requests received in 2022-10" {
				t.Fatalf("second run into 2022-10: %v; want a MonthTakenError naming the month", err)
			}
			if d := cmp.Diff(before, dump(t, raw)); d != "" {
				t.Fatalf("a refused run changed the database:\n%s", d[:min(len(d), 2000)])
			}
			next := o
			next.Month = o.Month.AddDate(0, 1, 0)
			if _, err := reportgen.Generate(t.Context(), db, next, clock()); err != nil {
				t.Fatalf("the next month: %v", err)
			}
			o.Append = true
			if _, err := reportgen.Generate(t.Context(), db, o, clock()); err != nil {
				t.Fatalf("--append: %v", err)
			}
			if n := count(t, raw, `SELECT count(*) FROM requests`); n != 6000 {
				t.Fatalf("%d requests after three runs of 2,000", n)
			}
		})
	}
}

func TestRefusesBadOptions(t *testing.T) {
	db, raw := backends[0].open(t)
	for _, c := range []struct {
		edit func(*reportgen.Options)
		want string
	}{
		{func(o *reportgen.Options) { o.MPIDs = o.Parties - 1 }, "--mpids 11"},
		{func(o *reportgen.Options) { o.Requests = o.MPIDs - 1 }, "--requests 24"},
		{func(o *reportgen.Options) { o.Parties = 0 }, "--parties 0"},
		{func(o *reportgen.Options) { o.Incorrect, o.Missing = 0.7, 0.4 }, "--incorrect 0.7"},
		{func(o *reportgen.Options) { o.Missing = -0.1 }, "--missing -0.1"},
		{func(o *reportgen.Options) { o.SilentParties = -1 }, "--silent-parties -1"},
	} {
		o := small()
		c.edit(&o)
		_, err := reportgen.Generate(t.Context(), db, o, clock())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want an error naming %q", o, err, c.want)
		}
	}
	if n := count(t, raw, `SELECT count(*) FROM parties`); n != 0 {
		t.Fatalf("refused options wrote %d parties", n)
	}
}
