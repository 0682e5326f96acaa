package refdata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

func TestPartiesGood(t *testing.T) {
	in := "\ufeffparty_id,name,state,user_eui,role,mpids\r\n" +
		"SUP2,Supplier Two,active,EE-C0-5E-00-01-00-00-02,import-supplier,SUPB;SUPC\r\n" +
		"SUP2,Supplier Two,active,EE-C0-5E-00-01-00-00-12,gas-supplier,SUPB;SUPC\r\n" +
		"\r\n" +
		"SUP1,\"Supplier, One\",suspended,EEC05E0001000001,IMPORT-SUPPLIER,\r\n"
	ps, lines, err := Parties("parties.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0] != 2 || lines[1] != 5 {
		t.Errorf("lines %v", lines)
	}
	if len(ps) != 2 || len(ps[0].Users) != 2 || ps[0].Users[1].Role != store.RoleGasSupplier || len(ps[0].MPIDs) != 2 {
		t.Fatalf("parties %+v", ps)
	}
	if ps[1].Name != "Supplier, One" || ps[1].State != store.PartySuspended || ps[1].Users[0].EUI != eui.MustParse("EE-C0-5E-00-01-00-00-01") || ps[1].MPIDs != nil {
		t.Errorf("party 2 %+v", ps[1])
	}
}

// TestEveryProblemWithItsLine: a bad file yields nothing and names each
// fault with its line number, so an operator fixes them all at once.
func TestEveryProblemWithItsLine(t *testing.T) {
	in := "device_eui,type,smi_status,credential\n" +
		"EE-C0-5E-DE-00-00-00-01,ESME,commissioned,tcos\n" +
		"EE-C0-5E-DE-00-00-00-0Z,ESME,commissioned,tcos\n" +
		"EE-C0-5E-DE-00-00-00-02,WATER,commissioned,tcos\n" +
		"EE-C0-5E-DE-00-00-00-03,GSME,lost,tcos\n" +
		"EE-C0-5E-DE-00-00-00-04,GSME,commissioned,maybe\n" +
		"EE-C0-5E-DE-00-00-00-01,ESME,commissioned,ecos\n" +
		"EE-C0-5E-DE-00-00-00-05,ESME\n"
	ds, _, err := Devices("devices.csv", strings.NewReader(in))
	if ds != nil {
		t.Fatal("devices returned with errors")
	}
	re, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("err %v", err)
	}
	want := []string{"line 3: device_eui", "line 4: type \"WATER\"", "line 5: smi_status \"lost\"", "line 6: credential \"maybe\"", "line 7: device EE-C0-5E-DE-00-00-00-01 already appears on line 2", "line 8: 2 fields, want 4"}
	if len(re.Problems) != len(want) {
		t.Fatalf("problems:\n%v", err)
	}
	for i, w := range want {
		if !strings.HasPrefix(re.Problems[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, re.Problems[i], w)
		}
	}
	if !strings.Contains(err.Error(), "devices.csv: 6 problem(s)") {
		t.Errorf("message %q", err)
	}
}

func TestRegistrations(t *testing.T) {
	in := "mpxn,effective_from,effective_to,supplier_party_id,mpid,device_eui\n" +
		"1200023305967,2026-01-01,2026-03-01T12:00:00Z,SUP1,SUPA,EE-C0-5E-DE-00-00-00-01\n" +
		"1200023305967,2026-03-01T12:00:00Z,,SUP2,SUPB,EE-C0-5E-DE-00-00-00-01\n" +
		"3938424403,2026-01-01,,SUP3,SUPG,\n"
	rs, _, err := Registrations("reg.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || !rs[0].From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !rs[1].To.IsZero() || !rs[2].Device.IsZero() {
		t.Errorf("registrations %+v", rs)
	}
	bad := "mpxn,effective_from,effective_to,supplier_party_id,mpid,device_eui\n" +
		"1200023305968,2026-01-01,,SUP1,SUPA,\n" +
		"1200023305967,,2026-01-01,SUP1,SUPA,\n" +
		"1200023305967,2026-02-01,2026-01-01,,SUPA,\n" +
		"1200023305967,01/02/2026,,SUP1,SUPA,\n"
	_, _, err = Registrations("reg.csv", strings.NewReader(bad))
	for _, w := range []string{"line 2: mpxn: invalid MPAN", "line 3: effective_from is required", "line 4: effective_to is not after", "line 4: supplier_party_id and mpid are required", "line 5: effective_from \"01/02/2026\""} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

func TestHeaderProblems(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "empty file",
		"device_eui,type,smi_status\n": "missing column \"credential\"",
		"device_eui,type,smi_status,credential,colour\n": "unknown column \"colour\"",
		"device_eui,type,type,smi_status,credential\n":   "appears twice",
		"device_eui,type,smi_status,credential\n":        "no rows",
		"device_eui,\"type,smi_status,credential\n":      "line 1",
	} {
		if _, _, err := Devices("d.csv", strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestPartyLinesMustAgree(t *testing.T) {
	in := "party_id,name,state,user_eui,role,mpids\n" +
		"SUP2,Supplier Two,active,EE-C0-5E-00-01-00-00-02,import-supplier,SUPB\n" +
		"SUP2,Supplier 2,active,EE-C0-5E-00-01-00-00-12,gas-supplier,SUPB\n" +
		"SUP3,Three,active,EE-C0-5E-00-01-00-00-02,import-supplier,SUPD\n" +
		",Four,dormant,x,wizard,\n"
	_, _, err := Parties("p.csv", strings.NewReader(in))
	for _, w := range []string{"line 3: party SUP2: name, state or MPIDs differ", "line 4: User EE-C0-5E-00-01-00-00-02 already appears on line 2", "line 5: party_id is empty"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

func FuzzParsers(f *testing.F) {
	f.Add("device_eui,type,smi_status,credential\nEE-C0-5E-DE-00-00-00-01,ESME,commissioned,tcos\n")
	f.Add("party_id,name,state,user_eui,role,mpids\nA,B,active,EEC05E0001000001,import-supplier,X\n")
	f.Add("mpxn,effective_from,effective_to,supplier_party_id,mpid,device_eui\n1200023305967,2026-01-01,,S,M,\n")
	f.Fuzz(func(t *testing.T, in string) {
		ds, dl, err := Devices("f", strings.NewReader(in))
		if (err == nil) == (ds == nil) {
			t.Fatal("devices: both or neither of value and error")
		}
		lineOrder(t, "devices", len(ds), dl)
		seen := map[eui.EUI]bool{}
		for _, d := range ds {
			if seen[d.EUI] {
				t.Fatalf("device %s twice", d.EUI)
			}
			seen[d.EUI] = true
		}
		ps, pl, err := Parties("f", strings.NewReader(in))
		if (err == nil) == (ps == nil) {
			t.Fatal("parties: both or neither of value and error")
		}
		lineOrder(t, "parties", len(ps), pl)
		ids := map[string]bool{}
		for _, p := range ps {
			if ids[p.ID] || p.ID == "" {
				t.Fatalf("party %q twice or empty", p.ID)
			}
			ids[p.ID] = true
		}
		// A refused registrations file still gives what its lines
		// reference: each with a supplier, for the reference check.
		rs, rl, err := Registrations("f", strings.NewReader(in))
		if err == nil && rs == nil {
			t.Fatal("registrations: neither value nor error")
		}
		lineOrder(t, "registrations", len(rs), rl)
		for _, r := range rs {
			if r.Supplier == "" || err == nil && (!r.To.IsZero() && !r.To.After(r.From) || r.MPID == "") {
				t.Fatalf("registration %+v accepted (err %v)", r, err)
			}
		}
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
		}
	})
}

// lineOrder: a parser gives one line per record, each after the header
// and after the one before.
func lineOrder(t *testing.T, what string, n int, lines []int) {
	t.Helper()
	if len(lines) != n {
		t.Fatalf("%s: %d records, %d lines", what, n, len(lines))
	}
	for i, l := range lines {
		if l < 2 || i > 0 && l <= lines[i-1] {
			t.Fatalf("%s: lines %v out of order", what, lines)
		}
	}
}
