package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkImportInventory times `ecos import inventory` of a generated
// million-line inventory into a fresh SQLite database, end to end: CSV
// parsing, checks, duplicate detection and the batched upserts, in one
// transaction. The target is under 15 s:
//
//	go test -run XXX -bench ImportInventory -benchtime 1x ./cmd/ecos
func BenchmarkImportInventory(b *testing.B) {
	const lines = 1_000_000
	dir := b.TempDir()
	csv := filepath.Join(dir, "inventory.csv")
	writeInventory(b, csv, lines)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		db := filepath.Join(dir, fmt.Sprintf("ecos%d.db", i))
		parties := filepath.Join(dir, "parties.csv")
		must(b, os.WriteFile(parties, []byte("party_id,name,state,user_eui,role,mpids\n"+
			"SUP1,One,active,EEC05E0001000001,import-supplier,SUPA\nSUP2,Two,active,EEC05E0001000002,gas-supplier,SUPB\n"), 0o600))
		cli(b, "db", "migrate", "--db", db)
		cli(b, "import", "parties", "--db", db, parties)
		b.StartTimer()
		out := cli(b, "import", "inventory", "--db", db, "--go-live", "2023-06-01", csv)
		if !strings.Contains(out, fmt.Sprintf("imported %d devices", lines)) {
			b.Fatalf("import said %q", out)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}

func cli(b *testing.B, args ...string) string {
	b.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb}); code != 0 {
		b.Fatalf("ecos %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// writeInventory writes n good lines: two suppliers, several makes, models
// and firmware versions, a tenth already on ECoS.
func writeInventory(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	must(b, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "device_eui,type,manufacturer,model,firmware,mpxn,responsible_supplier,smi_status,install_date,credential")
	types, creds := []string{"GSME", "ESME"}, []string{"ecos", "tcos"}
	for i := range n {
		fmt.Fprintf(w, "EEC05E%010X,%s,Maker %d,Model %d,%d.%d.0,,SUP%d,commissioned,20%d-0%d-1%d,%s\n",
			i, types[i%2], i%7, i%13, i%5, i%3, i%2+1, 19+i%4, 1+i%9, i%9, creds[min(1, i%10)])
	}
	must(b, w.Flush())
	must(b, f.Close())
}
