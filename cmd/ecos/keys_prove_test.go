package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// TestKeysProveOnSoftHSM: the ZAZ1 TCoS key on a SoftHSM2 token signs a
// mode 7 and a mode 6 that verify with its certificate and that simulated
// meters trusting it accept, the one whose clock is past the
// certificate's notAfter too; ZAZ1b's certificate (same EUI-64, another
// key) is refused before anything is signed.
func TestKeysProveOnSoftHSM(t *testing.T) {
	v := testkit.VectorsDir(t)
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	testkit.SoftHSMImport(t, "ecos", "1234", "tcos", testkit.ECKey(t, "keys/Z1-transitionalCoS-ds.key"))
	token := []string{"keys", "prove", "--module", testkit.SoftHSMModule, "--token-label", "ecos", "--pin-file", pinFile, "--key-label", "tcos"}
	cert := filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem")

	code, out, errs := ecos(t, "", append(token, "--cert", cert, "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var r struct {
		Certificate struct{ SKI, EUI string }
		Meters      []struct {
			Name          string
			AnchorExpired bool `json:"anchor_expired"`
		}
		Checks []struct {
			Meter, Step, Detail string
			Mode                int
			Counter             uint64
			OK                  bool
		}
		Passed, Failed int
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Certificate.SKI != "4B38EB47561D93E8" || r.Certificate.EUI != "90-B3-D5-1F-30-00-00-04" {
		t.Errorf("certificate %+v", r.Certificate)
	}
	if r.Failed != 0 || r.Passed != 15 {
		t.Errorf("%d passed, %d failed\n%s", r.Passed, r.Failed, out)
	}
	if len(r.Meters) != 2 || !r.Meters[1].AnchorExpired {
		t.Fatalf("meters %+v", r.Meters)
	}
	accepted := map[string]bool{}
	for _, c := range r.Checks {
		if c.Step == "device" && c.OK {
			accepted[c.Meter+"/"+string(rune('0'+c.Mode))] = true
		}
		if c.Step == "sign" && !strings.Contains(c.Detail, `signed with key "tcos"`) {
			t.Errorf("a signature not by the token key: %s", c.Detail)
		}
	}
	for _, want := range []string{"anchor-valid/7", "anchor-valid/6", "anchor-expired/7", "anchor-expired/6"} {
		if !accepted[want] {
			t.Errorf("the meter did not accept %s", want)
		}
	}

	code, out, errs = ecos(t, "", append(token, "--cert", cert)...)
	if code != 0 || !strings.Contains(out, "15 of 15 checks passed") || !strings.Contains(out, "anchor-expired  device   mode 6 counter 2: accepted") {
		t.Errorf("text: exit %d\n%s%s", code, out, errs)
	}

	code, out, errs = ecos(t, "", append(token, "--cert", filepath.Join(v, "keys/Z1b-transitionalCoS-ds.pem"))...)
	if code != exitInvalid || out != "" || !strings.Contains(errs, "the certificate's public key is not the key's") ||
		!strings.Contains(errs, "SKI 4F3F10855696FEF2") || !strings.Contains(errs, "nothing was signed") {
		t.Errorf("ZAZ1b's certificate: exit %d\nstdout %q\nstderr %s", code, out, errs)
	}
}

// TestKeysProveSoftwareKey: the old side proves the clear key before it
// exports it, the same way.
func TestKeysProveSoftwareKey(t *testing.T) {
	v := testkit.VectorsDir(t)
	code, out, errs := ecos(t, "", "keys", "prove", "--key", filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), "--cert", filepath.Join(v, "keys/Z1-transitionalCoS-ds.pem"))
	if code != 0 || !strings.Contains(out, "15 of 15 checks passed") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = ecos(t, "", "keys", "prove", "--key", filepath.Join(v, "keys/Z1-transitionalCoS-ds.key"), "--cert", filepath.Join(v, "keys/Z1-supplier-ds.pem"))
	if code != exitInvalid || !strings.Contains(errs, "transitionalCoS digitalSignature") {
		t.Errorf("a supplier certificate: exit %d\n%s", code, errs)
	}
}

func TestKeysProveUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "k"}, "--cert is required"},
		{[]string{"--cert", "c"}, "the key:"},
		{[]string{"--cert", "c", "--key", "k", "--key-label", "tcos"}, "not both"},
		{[]string{"--cert", "c", "--module", "m", "--key-label", "tcos"}, "--token-label"},
		{[]string{"--cert", "c", "--module", "m", "--token-label", "t", "--pin-file", "p"}, "--key-label"},
		{[]string{"--cert", "/nonexistent.pem", "--key", "k"}, "/nonexistent.pem"},
	} {
		code, _, errs := ecos(t, "", append([]string{"keys", "prove"}, c.args...)...)
		if code != exitMalformed || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, want %d saying %q\n%s", c.args, code, exitMalformed, c.want, errs)
		}
	}
}
