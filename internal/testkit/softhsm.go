package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 puts its PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSM makes a fresh SoftHSM2 token labelled label with user PIN pin,
// in a directory of the test's own (SOFTHSM2_CONF is set for the test, so
// tests using it must not run in parallel), and returns a file holding
// the PIN. Without softhsm2 the test is Unavailable.
func SoftHSM(tb testing.TB, label, pin string) (pinFile string) {
	tb.Helper()
	util := Tool(tb, "softhsm2-util", "apt-get install softhsm2")
	if _, err := os.Stat(SoftHSMModule); err != nil {
		Unavailable(tb, "the SoftHSM2 module %s is not installed (apt-get install softhsm2)", SoftHSMModule)
	}
	dir := tb.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if t, ok := tb.(interface{ Setenv(k, v string) }); ok {
		t.Setenv("SOFTHSM2_CONF", conf)
	} else {
		tb.Fatal("testkit.SoftHSM needs a *testing.T or *testing.B")
	}
	out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", pin+"-so").CombinedOutput()
	if err != nil {
		tb.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	pinFile = filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(pin+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return pinFile
}
