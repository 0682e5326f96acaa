package testkit

import (
	"crypto/ecdsa"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"
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

// SoftHSMImport puts key, in the clear, on the token labelled token as a
// key pair labelled label (private key with CKA_ID, its public key beside
// it), as a test's fixture: production keys arrive wrapped (ecos keys
// import), never like this.
func SoftHSMImport(tb testing.TB, token, pin, label string, key *ecdsa.PrivateKey) {
	tb.Helper()
	p := pkcs11.New(SoftHSMModule)
	if p == nil {
		tb.Fatalf("cannot load %s", SoftHSMModule)
	}
	if err := p.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		tb.Fatal(err)
	}
	defer func() {
		p.Finalize()
		p.Destroy()
	}()
	slots, err := p.GetSlotList(true)
	if err != nil {
		tb.Fatal(err)
	}
	slot, found := uint(0), false
	for _, s := range slots {
		if ti, err := p.GetTokenInfo(s); err == nil && strings.TrimRight(ti.Label, " ") == token {
			slot, found = s, true
		}
	}
	if !found {
		tb.Fatalf("no token %q", token)
	}
	sess, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		tb.Fatal(err)
	}
	defer p.CloseSession(sess)
	if err := p.Login(sess, pkcs11.CKU_USER, pin); err != nil {
		tb.Fatal(err)
	}
	defer p.Logout(sess)
	params := []byte{0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07} // prime256v1
	point, err := key.PublicKey.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	ecPoint := append([]byte{0x04, byte(len(point))}, point...) // DER OCTET STRING
	d, err := key.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	id := []byte(label)
	common := func(class uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id), pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
		}
	}
	priv := append(common(pkcs11.CKO_PRIVATE_KEY), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_VALUE, d))
	pub := append(common(pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, ecPoint))
	for _, tmpl := range [][]*pkcs11.Attribute{priv, pub} {
		if _, err := p.CreateObject(sess, tmpl); err != nil {
			tb.Fatal(err)
		}
	}
}
