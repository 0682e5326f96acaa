package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
)

// benchHSM is the part of `ecos bench cos --format json` about the token.
type benchHSM struct {
	Failures             int     `json:"failures"`
	N                    int     `json:"n"`
	TokenSignsPerRequest int     `json:"token_signs_per_request"`
	CryptoFloorPerSec    float64 `json:"crypto_floor_per_sec"`
	HSM                  *struct {
		Token, Module string
		SoftHSM       bool
		Keys          []struct {
			Config  string
			Private map[string]any `json:"private_key"`
		}
		TokenSignsPerSec    float64  `json:"token_signs_per_sec"`
		SoftwareSignsPerSec float64  `json:"software_signs_per_sec"`
		Ratio               float64  `json:"ratio"`
		LeftOnToken         []string `json:"left_on_token"`
	}
}

func runBenchHSM(t *testing.T, args ...string) benchHSM {
	t.Helper()
	code, out, errs := ecos(t, "", append([]string{"bench", "cos", "--n", "50", "--devices", "50", "--concurrency", "8", "--adt-users", "0", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var r benchHSM
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Failures != 0 || r.N != 50 || r.HSM == nil {
		t.Fatalf("failures %d, n %d, hsm %v\n%s", r.Failures, r.N, r.HSM, out)
	}
	h := r.HSM
	if h.TokenSignsPerSec <= 0 || h.SoftwareSignsPerSec <= 0 || h.Ratio <= 0 || r.TokenSignsPerRequest != 3 || r.CryptoFloorPerSec <= 0 {
		t.Errorf("token %v signs/s, software %v, ratio %v, token signs per request %d, floor %v", h.TokenSignsPerSec, h.SoftwareSignsPerSec, h.Ratio, r.TokenSignsPerRequest, r.CryptoFloorPerSec)
	}
	var configs []string
	for _, k := range h.Keys {
		configs = append(configs, k.Config)
		p := k.Private
		if p["token"] != true || p["sensitive"] != true || p["extractable"] != false || p["sign"] != true ||
			p["decrypt"] != false || p["unwrap"] != false || p["value_readable"] != false || !strings.HasSuffix(p["label"].(string), strings.TrimPrefix(k.Config, "keys.")) {
			t.Errorf("%s on the token: %v", k.Config, p)
		}
	}
	if strings.Join(configs, " ") != "keys.tcos keys.ecos keys.dsp_xml_sign" {
		t.Errorf("keys on the token: %v", configs)
	}
	return r
}

// TestBenchCoSOnSoftHSM: `ecos bench cos --hsm softhsm` imports the
// demo's TCoS, ECoS and DUIS signing keys wrapped into a throwaway
// SoftHSM2 token, where they are sensitive, non-extractable and sign
// only; the service signs every request's commands and documents there,
// with no failure; and the token's and software's signing rates are
// measured in the same run.
func TestBenchCoSOnSoftHSM(t *testing.T) {
	testkit.Tool(t, "softhsm2-util", "apt-get install softhsm2")
	t.Setenv("SOFTHSM2_CONF", "/nonexistent/before.conf")
	r := runBenchHSM(t, "--hsm", "softhsm")
	if !r.HSM.SoftHSM || r.HSM.Token != "ecos-bench" || len(r.HSM.LeftOnToken) != 0 {
		t.Errorf("softhsm %v, token %q, left %v", r.HSM.SoftHSM, r.HSM.Token, r.HSM.LeftOnToken)
	}
	if got := os.Getenv("SOFTHSM2_CONF"); got != "/nonexistent/before.conf" {
		t.Errorf("SOFTHSM2_CONF %q after the run", got)
	}
}

// TestBenchCoSOnOperatorToken: the same on a token the operator names,
// which keeps the KEK and the keys, under labels the report lists.
func TestBenchCoSOnOperatorToken(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "operator", "1234")
	r := runBenchHSM(t, "--pkcs11-module", testkit.SoftHSMModule, "--token-label", "operator", "--pin-file", pinFile, "--wrap-mechanism", "CKM_AES_KEY_WRAP_PAD")
	if r.HSM.SoftHSM || r.HSM.Token != "operator" || len(r.HSM.LeftOnToken) != 0 {
		t.Errorf("softhsm %v, token %q, left %v", r.HSM.SoftHSM, r.HSM.Token, r.HSM.LeftOnToken)
	}
	// The operator's token gets back what the run put on it.
	a, err := hsm.OpenAdmin(hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "operator", PINFile: pinFile})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if objs, err := a.Objects(); err != nil || len(objs) != 0 {
		t.Errorf("the token holds %d objects after the run (%v)", len(objs), err)
	}
}

func TestBenchCoSHSMRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--hsm", "luna"}, "want softhsm or pkcs11"},
		{[]string{"--hsm", "softhsm", "--token-label", "x"}, "makes its own token"},
		{[]string{"--token-label", "x"}, "needs all of"},
		{[]string{"--wrap-mechanism", "0x210A"}, "goes with --hsm"},
		{[]string{"--hsm", "softhsm", "--wrap-mechanism", "CKM_NOPE"}, "--wrap-mechanism"},
	} {
		code, _, errs := ecos(t, "", append([]string{"bench", "cos"}, c.args...)...)
		if code != exitMalformed || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, want %d saying %q\n%s", c.args, code, exitMalformed, c.want, errs)
		}
	}
	// Without SoftHSM2: one sentence saying how to get it.
	t.Setenv("PATH", t.TempDir())
	code, _, errs := ecos(t, "", "bench", "cos", "--hsm", "softhsm", "--n", "1", "--devices", "1", "--concurrency", "1")
	if code == 0 || !strings.Contains(errs, "SoftHSM2 is not installed") || !strings.Contains(errs, "apt-get install softhsm2") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("no softhsm2-util: exit %d\n%s", code, errs)
	}
}
