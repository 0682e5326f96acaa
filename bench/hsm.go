package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/keywrap"
)

// HSM puts the installation's TCoS, ECoS and DUIS signing keys on a
// PKCS#11 token before the benchmark, by the import path a ceremony uses:
// each key wrapped (RFC 5649) under a random KEK that is itself loaded
// onto the token as an unwrap-only key, and unwrapped inside the token as
// a sign-only, non-extractable key. The service then signs with them
// through its session pool.
type HSM struct {
	// SoftHSM makes a throwaway SoftHSM2 token in the run's directory
	// (with the module Token.Module, or found where distributions put
	// it); otherwise Token names the operator's.
	SoftHSM bool
	Token   hsm.PKCS11
	// Mechanism unwraps the keys; zero: hsm.MechanismSoftHSM. HSMs
	// disagree on RFC 5649's mechanism ID (see hsm.ParseMechanism).
	Mechanism hsm.Mechanism
}

// HSMResult is what the token did in the run.
type HSMResult struct {
	Module    string `json:"module"`
	Token     string `json:"token"`
	SoftHSM   bool   `json:"softhsm"`
	Mechanism string `json:"unwrap_mechanism"`
	// Keys are the configuration's keys as the token lists them after
	// the import.
	Keys []HSMKey `json:"keys"`
	// Token and software P-256 signatures timed in this run, before the
	// service starts: Signs each, from Concurrency goroutines, the
	// token's through a session pool of Concurrency sessions.
	Signs               int     `json:"signs"`
	Concurrency         int     `json:"concurrency"`
	TokenSignsPerSec    float64 `json:"token_signs_per_sec"`
	SoftwareSignsPerSec float64 `json:"software_signs_per_sec"`
	Ratio               float64 `json:"ratio"` // token / software
	// LeftOnToken lists the labels an operator's token still holds after
	// the run: those the run could not remove (a throwaway SoftHSM2
	// token is removed with the run).
	LeftOnToken []string `json:"left_on_token,omitempty"`
}

// HSMKey is one of the configuration's keys on the token.
type HSMKey struct {
	Config  string     `json:"config"` // "keys.tcos", "keys.ecos", "keys.dsp_xml_sign"
	Private hsm.Object `json:"private_key"`
}

// CryptoPerRequestHSM is CryptoPerRequest with the party's keys on a
// token: the three party signatures are the token's, and the service
// verifies each (signer.sign and xmldsig.Sign check a signature that is
// not Go's own).
var CryptoPerRequestHSM = []CryptoStep{
	{"request XML signature verify", 0, 1},
	{"CS02b sign (token)", 1, 0},
	{"CS02b: the token's signature verified", 0, 1},
	{"device: command verify", 0, 1},
	{"device: response sign", 1, 0},
	{"device response verify", 0, 1},
	{"DUIS ack + response: XML sign (token)", 2, 0},
	{"DUIS: the token's signatures verified", 0, 2},
}

// tokenSignsPerRequest are the signatures of CryptoPerRequestHSM made on
// the token.
const tokenSignsPerRequest = 3

// softHSMModules are where distributions put SoftHSM2's module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",                  // Debian, Ubuntu
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", // Debian multiarch
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",         // Fedora, RHEL
	"/usr/local/lib/softhsm/libsofthsm2.so",    // built from source
	"/opt/homebrew/lib/softhsm/libsofthsm2.so", // macOS
}

// onToken puts cfg's keys on the token h names (a fresh SoftHSM2 token
// in dir, when h.SoftHSM) and points cfg at them, then times signs
// signatures on the token and in software. restore undoes what it did to
// the process (SOFTHSM2_CONF); call it once the service is closed.
func onToken(cfg *config.Config, dir string, h HSM, signs int) (_ *HSMResult, restore func(), err error) {
	restore = func() {}
	tok := h.Token
	if h.SoftHSM {
		if tok, restore, err = softHSMToken(dir, tok.Module); err != nil {
			return nil, nil, err
		}
		defer func() {
			if err != nil {
				restore()
			}
		}()
	}
	mech := h.Mechanism
	if mech.ID == 0 {
		mech = hsm.MechanismSoftHSM
	}
	// Labels of their own, so an operator's token that has run the
	// benchmark before takes it again.
	prefix := "ecos-bench-" + strings.ToLower(rand.Text()[:8]) + "-"
	pairs := []struct {
		config string
		kp     *config.KeyPair
	}{{"keys.tcos", cfg.Keys.TCoS}, {"keys.ecos", cfg.Keys.ECoS}, {"keys.dsp_xml_sign", &cfg.Keys.DSPXMLSign}}
	res := &HSMResult{Module: tok.Module, Token: tok.TokenLabel, SoftHSM: h.SoftHSM, Mechanism: mech.String()}
	var labels []string
	for _, p := range pairs {
		if p.kp != nil {
			labels = append(labels, prefix+strings.TrimPrefix(p.config, "keys."))
		}
	}
	objs, err := importKeys(tok, mech, prefix+"kek", cfg, labels)
	if err != nil {
		if !h.SoftHSM {
			err = fmt.Errorf("%w (objects labelled %s… may be left on token %q)", err, prefix, tok.TokenLabel)
		}
		return nil, nil, err
	}
	if !h.SoftHSM {
		// An operator's token gets back what the run put on it, once the
		// service has let go of it; what cannot be removed is reported.
		res.LeftOnToken = append([]string{prefix + "kek"}, labels...)
		restore = func() { res.LeftOnToken = removeFrom(tok, res.LeftOnToken) }
	}
	i := 0
	for _, p := range pairs {
		if p.kp == nil {
			continue
		}
		label := labels[i]
		i++
		res.Keys = append(res.Keys, HSMKey{Config: p.config, Private: objs[label]})
		*p.kp = config.KeyPair{Cert: p.kp.Cert, PKCS11: &config.PKCS11Key{Module: tok.Module, TokenLabel: tok.TokenLabel, KeyLabel: label, PINFile: tok.PINFile, Sessions: tok.Sessions}}
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("bench: the configuration with the keys on the token: %w", err)
	}
	res.Signs, res.Concurrency = signs, tok.Sessions
	if res.Concurrency == 0 {
		res.Concurrency = hsm.DefaultSessions
	}
	if res.TokenSignsPerSec, res.SoftwareSignsPerSec, err = signRates(tok, labels[0], signs, res.Concurrency); err != nil {
		return nil, nil, err
	}
	res.Ratio = res.TokenSignsPerSec / res.SoftwareSignsPerSec
	return res, restore, nil
}

// importKeys loads a random KEK onto the token, wraps each key cfg's
// labels name (in the order keys.tcos, keys.ecos, keys.dsp_xml_sign,
// those present) under it and unwraps it inside the token, and returns
// the private keys as the token lists them, by label. The KEK and the
// clear keys live only in this process's memory, zeroed after use.
func importKeys(tok hsm.PKCS11, mech hsm.Mechanism, kekLabel string, cfg *config.Config, labels []string) (map[string]hsm.Object, error) {
	var files []string
	for _, kp := range []*config.KeyPair{cfg.Keys.TCoS, cfg.Keys.ECoS, &cfg.Keys.DSPXMLSign} {
		if kp == nil {
			continue
		}
		if kp.Key == "" {
			return nil, errors.New("bench: the installation names a key that is not in a file; only software keys are moved onto a token")
		}
		files = append(files, kp.Key)
	}
	a, err := hsm.OpenAdmin(tok)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer a.Close()
	kek := make([]byte, 32)
	defer clear(kek)
	if _, err := rand.Read(kek); err != nil {
		return nil, err
	}
	if _, err := a.ImportKEK(kekLabel, kek); err != nil {
		return nil, fmt.Errorf("bench: loading the KEK: %w", err)
	}
	for i, f := range files {
		if err := importKey(a, kek, kekLabel, mech, f, labels[i]); err != nil {
			return nil, err
		}
	}
	all, err := a.Objects()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	objs := map[string]hsm.Object{}
	for _, o := range all {
		if o.Class == "private key" {
			objs[o.Label] = o
		}
	}
	for _, l := range labels {
		if _, ok := objs[l]; !ok {
			return nil, fmt.Errorf("bench: the token does not list the private key %q it has just unwrapped", l)
		}
	}
	return objs, nil
}

func importKey(a *hsm.Admin, kek []byte, kekLabel string, mech hsm.Mechanism, file, label string) error {
	key, err := hsm.LoadFile(file)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	wrapped, err := keywrap.WrapPad(kek, der)
	clear(der)
	if err != nil {
		return err
	}
	if err := a.UnwrapSigningKey(kekLabel, mech, wrapped, label, &key.PublicKey); err != nil {
		return fmt.Errorf("bench: importing %s as %q: %w", file, label, err)
	}
	return nil
}

// signRates times n P-256 signatures with the key labelled label on the
// token, through a session pool of conc sessions, and n with a software
// key, each from conc goroutines.
func signRates(tok hsm.PKCS11, label string, n, conc int) (token, software float64, err error) {
	tok.Sessions = conc
	t, err := hsm.OpenToken(tok)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: %w", err)
	}
	defer t.Close()
	s, err := t.Signer(label, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: %w", err)
	}
	if token, err = signRate(s, n, conc); err != nil {
		return 0, 0, fmt.Errorf("bench: signing on the token: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, 0, err
	}
	if software, err = signRate(key, n, conc); err != nil {
		return 0, 0, err
	}
	return token, software, nil
}

func signRate(s crypto.Signer, n, conc int) (float64, error) {
	digest := sha256.Sum256([]byte("ecos bench cos: token against software"))
	var next atomic.Int64
	errs := make([]error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(n) / d.Seconds(), nil
}

// ErrNoSoftHSM: --hsm softhsm on a machine without SoftHSM2.
var ErrNoSoftHSM = errors.New("bench: SoftHSM2 is not installed (Debian and Ubuntu: apt-get install softhsm2)")

// softHSMToken makes a SoftHSM2 token in dir/softhsm with a random PIN,
// and points this process's SoftHSM2 at it (SOFTHSM2_CONF, which the
// module reads when it is loaded: the one piece of process state a
// SoftHSM2 run needs); restore puts SOFTHSM2_CONF back.
func softHSMToken(dir, module string) (_ hsm.PKCS11, restore func(), err error) {
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return hsm.PKCS11{}, nil, fmt.Errorf("%w: softhsm2-util is not on PATH", ErrNoSoftHSM)
	}
	if module != "" {
		if _, err := os.Stat(module); err != nil {
			return hsm.PKCS11{}, nil, fmt.Errorf("bench: the SoftHSM2 module: %w", err)
		}
	}
	for _, m := range softHSMModules {
		if module != "" {
			break
		}
		if _, err := os.Stat(m); err == nil {
			module = m
		}
	}
	if module == "" {
		return hsm.PKCS11{}, nil, fmt.Errorf("%w: no libsofthsm2.so in %s", ErrNoSoftHSM, strings.Join(softHSMModules, ", "))
	}
	root := filepath.Join(dir, "softhsm")
	tokens := filepath.Join(root, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return hsm.PKCS11{}, nil, err
	}
	conf := filepath.Join(root, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return hsm.PKCS11{}, nil, err
	}
	pin := rand.Text()
	pinFile := filepath.Join(root, "pin")
	if err := os.WriteFile(pinFile, []byte(pin+"\n"), 0o600); err != nil {
		return hsm.PKCS11{}, nil, err
	}
	const label = "ecos-bench"
	init := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", rand.Text())
	init.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := init.CombinedOutput(); err != nil {
		return hsm.PKCS11{}, nil, fmt.Errorf("bench: softhsm2-util --init-token: %v: %s", err, strings.TrimSpace(string(out)))
	}
	old, had := os.LookupEnv("SOFTHSM2_CONF")
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return hsm.PKCS11{}, nil, err
	}
	restore = func() {
		if had {
			os.Setenv("SOFTHSM2_CONF", old)
		} else {
			os.Unsetenv("SOFTHSM2_CONF")
		}
	}
	return hsm.PKCS11{Module: module, TokenLabel: label, PINFile: pinFile}, restore, nil
}

// removeFrom removes the objects labelled labels from the token and
// returns the labels it could not remove.
func removeFrom(tok hsm.PKCS11, labels []string) []string {
	a, err := hsm.OpenAdmin(tok)
	if err != nil {
		return labels
	}
	defer a.Close()
	var left []string
	for _, l := range labels {
		if _, err := a.Remove(l); err != nil {
			left = append(left, l)
		}
	}
	return left
}
