package refdata

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/store"
)

var (
	tcosSKI = []byte{0x7C, 0x05, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	ecosSKI = []byte{0xEC, 0x05, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	goLive  = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	invOpts = InventoryOptions{TCoSSKI: tcosSKI, ECoSSKI: ecosSKI, GoLive: goLive}
)

const invHeader = "device_eui,type,manufacturer,model,firmware,mpxn,responsible_supplier,smi_status,install_date,credential\n"

// readAll drains an inventory.
func readAll(in *Inventory) ([]int, []store.InventoryDevice, error) {
	var lines []int
	var ds []store.InventoryDevice
	for {
		l, d, ok := in.Next()
		if !ok {
			return lines, ds, in.Err()
		}
		lines, ds = append(lines, l), append(ds, d)
	}
}

func TestInventoryGood(t *testing.T) {
	file := "\ufeff" + strings.ToUpper(invHeader[:10]) + invHeader[10:] +
		"EE-C0-5E-DE-00-00-00-01,ESME,Acme,A1,1.2.3,1200023305967,SUP1,commissioned,2019-03-04,tcos\r\n" +
		"\n" +
		"eec05ede00000002, gsme ,\"Gas, Co\",G7,0x10,,SUP2,Installed-Not-Commissioned,2024-01-02,EC:05:11:22:33:44:55:66\n" +
		"EEC05EDE00000003,ESME,Acme,A1,1.2.3,1200023305967,SUP1,pending,2023-05-31,unknown\n" +
		"EEC05EDE00000004,ESME,Acme,A1,1.2.3,1200023305967,SUP1,pending,2023-07-31,7c05112233445566\n"
	lines, ds, err := readAll(NewInventory("inv.csv", strings.NewReader(file), invOpts))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines, []int{2, 4, 5, 6}) {
		t.Fatalf("lines %v", lines)
	}
	want := []store.InventoryDevice{
		{Device: store.Device{EUI: [8]byte{0xEE, 0xC0, 0x5E, 0xDE, 0, 0, 0, 1}, Type: store.ESME, SMIStatus: store.SMICommissioned,
			Credential: store.CredentialTCoS, CredentialSKI: tcosSKI},
			Manufacturer: "Acme", Model: "A1", Firmware: "1.2.3", MPxN: "1200023305967", ResponsibleSupplier: "SUP1",
			Installed: time.Date(2019, 3, 4, 0, 0, 0, 0, time.UTC)},
		{Device: store.Device{EUI: [8]byte{0xEE, 0xC0, 0x5E, 0xDE, 0, 0, 0, 2}, Type: store.GSME, SMIStatus: store.SMIInstalledNotCommissioned,
			Credential: store.CredentialECoS, CredentialSKI: ecosSKI},
			Manufacturer: "Gas, Co", Model: "G7", Firmware: "0x10", ResponsibleSupplier: "SUP2",
			Installed: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	for i, w := range want {
		if fmt.Sprintf("%+v", ds[i]) != fmt.Sprintf("%+v", w) {
			t.Errorf("device %d:\n got %+v\nwant %+v", i, ds[i], w)
		}
	}
	if ds[2].Credential != store.CredentialUnknown || ds[2].CredentialSKI != nil {
		t.Errorf("unknown before go-live: %+v", ds[2])
	}
	if ds[3].Credential != store.CredentialTCoS {
		t.Errorf("TCoS SKI in lower case: %+v", ds[3])
	}
}

// Every bad line is named with its column and why; the good ones between
// them are still yielded, and Err is not nil.
func TestInventoryBad(t *testing.T) {
	good := "EEC05EDE00000001,ESME,Acme,A1,1.2.3,1200023305967,SUP1,commissioned,2019-03-04,tcos"
	set := func(col, v string) string {
		f := strings.Split(good, ",")
		f[slices.Index(InventoryColumns, col)] = v
		return strings.Join(f, ",")
	}
	cases := []struct{ line, want string }{
		{set("device_eui", "EEC05EDE0000001"), "column device_eui"},
		{set("device_eui", "0000000000000000"), "column device_eui: the zero EUI-64"},
		{set("type", "HCALCS"), `column type: "HCALCS"`},
		{set("manufacturer", ""), "column manufacturer: empty"},
		{set("model", strings.Repeat("m", 300)), "column model: 300 bytes"},
		{set("firmware", "1\x01"), "column firmware"},
		{set("mpxn", "1200023305968"), "column mpxn"},
		{set("responsible_supplier", ""), "column responsible_supplier: empty"},
		{set("smi_status", "happy"), `column smi_status: "happy"`},
		{set("install_date", "2023-13-01"), `column install_date: "2023-13-01"`},
		{set("install_date", ""), `column install_date: ""`},
		{set("credential", "zcos"), `column credential: "zcos"`},
		{set("credential", "0102030405060708"), "SKI 0102030405060708 is neither the TCoS certificate's (7C05112233445566)"},
		{set("install_date", "2023-06-01") + "," + "x", "11 fields, want 10"},
		// Supply chain: installed on or after go-live, unknown is refused.
		{set("credential", "unknown")[:0] + strings.Replace(set("credential", "unknown"), "2019-03-04", "2023-06-01", 1),
			"column credential: unknown for a device installed 2023-06-01, on or after go-live (2023-06-01)"},
	}
	var file strings.Builder
	file.WriteString(invHeader + good + "\n")
	for _, c := range cases {
		file.WriteString(c.line + "\n")
	}
	file.WriteString(good + "\n")
	lines, _, err := readAll(NewInventory("inv.csv", strings.NewReader(file.String()), invOpts))
	if !slices.Equal(lines, []int{2, len(cases) + 3}) {
		t.Errorf("good lines %v", lines)
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("got %v, want *Error", err)
	}
	if len(e.Problems) != len(cases) {
		t.Fatalf("%d problems, want %d:\n%v", len(e.Problems), len(cases), err)
	}
	for i, c := range cases {
		if p := e.Problems[i]; p.Line != i+3 || !strings.Contains(p.Msg, c.want) {
			t.Errorf("case %d: problem %v, want line %d containing %q", i, p, i+3, c.want)
		}
	}
}

func TestInventoryFile(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"empty", "", "empty file"},
		{"header only", invHeader, "no rows after the header"},
		{"missing column", strings.Replace(invHeader, ",credential", "", 1), `missing column "credential"`},
		{"unknown column", strings.TrimSuffix(invHeader, "\n") + ",colour\n", `unknown column "colour"`},
		{"column twice", strings.Replace(invHeader, "model", "type", 1), `column "type" appears twice`},
		{"bad quoting", invHeader + "\"EEC0,\n", "line 2"},
		{"endless line", invHeader + strings.Repeat("x", 100<<10) + "\n", "line 2: longer than 65536 bytes"},
		{"endless quoted field", invHeader + "\"" + strings.Repeat("y", 70<<10), "line 2: longer than 65536 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ds, err := readAll(NewInventory("inv.csv", strings.NewReader(c.file), invOpts))
			if err == nil || !strings.Contains(err.Error(), c.want) || len(ds) != 0 {
				t.Fatalf("got %d devices, %v; want an error containing %q", len(ds), err, c.want)
			}
		})
	}
	// Without the certificates an SKI cannot be resolved, and says so.
	_, _, err := readAll(NewInventory("inv.csv", strings.NewReader(invHeader+
		"EEC05EDE00000001,ESME,Acme,A1,1.2.3,,SUP1,commissioned,2019-03-04,7C05112233445566\n"), InventoryOptions{}))
	if err == nil || !strings.Contains(err.Error(), "not known here to resolve it") {
		t.Fatalf("SKI without certificates: %v", err)
	}
}

// FuzzInventory: whatever the bytes, the reader yields lines in order,
// each a device the store would take, with a credential the rules allow;
// and a file it accepts has at least one device.
func FuzzInventory(f *testing.F) {
	f.Add(invHeader + "EEC05EDE00000001,ESME,Acme,A1,1.2.3,1200023305967,SUP1,commissioned,2019-03-04,tcos\n")
	f.Add(invHeader + "EEC05EDE00000002,GSME,\"G, Co\",G7,0x10,,SUP2,pending,2024-01-02,EC:05:11:22:33:44:55:66\n")
	f.Add(invHeader + "EEC05EDE00000003,ESME,Acme,A1,1,,SUP1,pending,2024-01-02,unknown\n")
	f.Fuzz(func(t *testing.T, file string) {
		in := NewInventory("f", strings.NewReader(file), invOpts)
		prev, n := 0, 0
		for {
			line, d, ok := in.Next()
			if !ok {
				break
			}
			n++
			if line <= prev {
				t.Fatalf("line %d after line %d", line, prev)
			}
			prev = line
			switch {
			case d.EUI.IsZero():
				t.Fatal("zero EUI yielded")
			case d.Type != store.ESME && d.Type != store.GSME, !knownSMI(d.SMIStatus):
				t.Fatalf("type %q, status %q yielded", d.Type, d.SMIStatus)
			case d.Manufacturer == "" || d.Model == "" || d.Firmware == "" || d.ResponsibleSupplier == "":
				t.Fatalf("empty text column yielded: %+v", d)
			case d.Credential == store.CredentialUnknown && !d.Installed.Before(goLive):
				t.Fatalf("unknown credential after go-live yielded: %+v", d)
			case d.Credential == store.CredentialTCoS && !slices.Equal(d.CredentialSKI, tcosSKI),
				d.Credential == store.CredentialECoS && !slices.Equal(d.CredentialSKI, ecosSKI),
				d.Credential == store.CredentialUnknown && d.CredentialSKI != nil:
				t.Fatalf("credential %s with SKI %X", d.Credential, d.CredentialSKI)
			case d.Credential != store.CredentialTCoS && d.Credential != store.CredentialECoS && d.Credential != store.CredentialUnknown:
				t.Fatalf("credential %q yielded", d.Credential)
			}
		}
		err := in.Err()
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
		} else if n == 0 {
			t.Fatal("a file without devices accepted")
		}
	})
}
