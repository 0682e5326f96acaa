package service

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ecos-cos/ecos/config"
)

// TestMPIDTableSerialTwiceRefused: a serial → MPID table that names one
// certificate twice, once with a blank and in upper case, stops the start
// with the file and both lines named, instead of one row silently winning.
func TestMPIDTableSerialTwiceRefused(t *testing.T) {
	table := filepath.Join(t.TempDir(), "mpid-by-serial.csv")
	if err := os.WriteFile(table, []byte("serial,mpid\n0a,SUPA\n1b,SUPB\n 0A,SUPC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := mpidConfig(config.Policy{MPID: "enforce", MPIDAttribute: "O", MPIDBySerialFile: table})
	want := "policy.mpid_by_serial_file: " + table + ": 1 problem(s)\n  line 4: serial a is already on line 2"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
