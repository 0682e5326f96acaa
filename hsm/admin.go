package hsm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// Admin is a PKCS#11 session on one token for key ceremonies: loading a
// KEK, unwrapping a key under it, generating a key, proving a key by a
// signature. The service signs through Token (crypto11's session pool);
// crypto11 has no wrap or unwrap and keeps its sessions to itself.
//
// Both can live in one process, in this order only: an Admin opened while
// a Token is open shares its initialised library and login; a Token opened
// after an Admin needs the Admin closed first (crypto11 refuses a library
// someone else initialised).
type Admin struct {
	mu    sync.Mutex // a PKCS#11 session does one thing at a time
	p     *pkcs11.Ctx
	sess  pkcs11.SessionHandle
	label string
	// owner: this Admin initialised the library, so it logs out and
	// finalises it on Close; otherwise another user (crypto11) is live.
	owner bool
}

// The ways a ceremony step is refused; each error wraps one.
var (
	ErrLabelTaken = errors.New("hsm: the label is already on the token")
	ErrNoObject   = errors.New("hsm: no such object on the token")
	ErrMechanism  = errors.New("hsm: the token does not support the mechanism")
	ErrUnwrap     = errors.New("hsm: the token could not unwrap the key")
	ErrNotTheKey  = errors.New("hsm: the key on the token is not the expected one")
)

// OpenAdmin opens a read-write session on the token c names and logs in
// as its user with the PIN from c.PINFile.
func OpenAdmin(c PKCS11) (*Admin, error) {
	pin, err := readPIN(c)
	if err != nil {
		return nil, err
	}
	p := pkcs11.New(c.Module)
	if p == nil {
		return nil, fmt.Errorf("hsm: %s is not a PKCS#11 module that can be loaded", c.Module)
	}
	a := &Admin{p: p, label: c.TokenLabel, owner: true}
	if err := p.Initialize(); err != nil {
		if !isCKR(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			p.Destroy()
			return nil, fmt.Errorf("hsm: initialising %s: %w", c.Module, err)
		}
		a.owner = false
	}
	slot, err := a.slot()
	if err != nil {
		a.release()
		return nil, err
	}
	if a.sess, err = p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION); err != nil {
		a.release()
		return nil, fmt.Errorf("hsm: opening a session on token %q: %w", c.TokenLabel, err)
	}
	if err := p.Login(a.sess, pkcs11.CKU_USER, pin); err != nil && !isCKR(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		p.CloseSession(a.sess)
		a.release()
		if isCKR(err, pkcs11.CKR_PIN_INCORRECT) {
			return nil, fmt.Errorf("hsm: token %q refused the PIN in %s", c.TokenLabel, c.PINFile)
		}
		return nil, fmt.Errorf("hsm: logging in to token %q: %w", c.TokenLabel, err)
	}
	return a, nil
}

func readPIN(c PKCS11) (string, error) {
	switch {
	case c.Module == "":
		return "", errors.New("hsm: no PKCS#11 module")
	case c.TokenLabel == "":
		return "", errors.New("hsm: no token label")
	case c.PINFile == "":
		return "", errors.New("hsm: no PIN file (the PIN is never given inline)")
	}
	if _, err := os.Stat(c.Module); err != nil {
		return "", fmt.Errorf("hsm: PKCS#11 module %s: %w", c.Module, err)
	}
	b, err := os.ReadFile(c.PINFile)
	if err != nil {
		return "", fmt.Errorf("hsm: PIN file: %w", err)
	}
	pin := strings.TrimRight(string(b), "\r\n")
	if pin == "" {
		return "", fmt.Errorf("hsm: PIN file %s is empty", c.PINFile)
	}
	return pin, nil
}

func (a *Admin) slot() (uint, error) {
	slots, err := a.p.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("hsm: listing slots: %w", err)
	}
	var found []uint
	var labels []string
	for _, s := range slots {
		ti, err := a.p.GetTokenInfo(s)
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue // SoftHSM2 always offers an empty slot to initialise
		}
		l := strings.TrimRight(ti.Label, " \x00")
		labels = append(labels, fmt.Sprintf("%q", l))
		if l == a.label {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(labels) == 0 {
			return 0, fmt.Errorf("hsm: no token %q: the module has no initialised token", a.label)
		}
		return 0, fmt.Errorf("hsm: no token %q (the module has %s)", a.label, strings.Join(labels, ", "))
	default:
		return 0, fmt.Errorf("hsm: %d tokens labelled %q: a label must name one token", len(found), a.label)
	}
}

// Token is the label of the token the session is on.
func (a *Admin) Token() string { return a.label }

// Close ends the session (and, when this Admin initialised the library,
// logs out and finalises it).
func (a *Admin) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.p == nil {
		return nil
	}
	if a.owner {
		a.p.Logout(a.sess)
	}
	err := a.p.CloseSession(a.sess)
	a.release()
	return err
}

func (a *Admin) release() {
	if a.owner {
		a.p.Finalize()
	}
	a.p.Destroy()
	a.p = nil
}

func isCKR(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// find returns the handles of the objects labelled label (of class
// class, unless class is ^0).
func (a *Admin) find(label string, class uint) ([]pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}
	if class != ^uint(0) {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_CLASS, class))
	}
	return a.findAll(tmpl)
}

func (a *Admin) findAll(tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := a.p.FindObjectsInit(a.sess, tmpl); err != nil {
		return nil, fmt.Errorf("hsm: searching token %q: %w", a.label, err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := a.p.FindObjects(a.sess, 100)
		if err != nil {
			a.p.FindObjectsFinal(a.sess)
			return nil, fmt.Errorf("hsm: searching token %q: %w", a.label, err)
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if err := a.p.FindObjectsFinal(a.sess); err != nil {
		return nil, fmt.Errorf("hsm: searching token %q: %w", a.label, err)
	}
	return all, nil
}

// one is the one object labelled label of class class.
func (a *Admin) one(label string, class uint, what string) (pkcs11.ObjectHandle, error) {
	hs, err := a.find(label, class)
	if err != nil {
		return 0, err
	}
	switch len(hs) {
	case 1:
		return hs[0], nil
	case 0:
		return 0, fmt.Errorf("%w: no %s labelled %q on token %q", ErrNoObject, what, label, a.label)
	default:
		return 0, fmt.Errorf("hsm: %d %ss labelled %q on token %q: a label must name one", len(hs), what, label, a.label)
	}
}

// free refuses a label any object on the token already has: a ceremony
// never adds a second key under a name a configuration already uses.
func (a *Admin) free(label string) error {
	if label == "" {
		return errors.New("hsm: an empty key label")
	}
	hs, err := a.find(label, ^uint(0))
	if err != nil {
		return err
	}
	if len(hs) > 0 {
		return fmt.Errorf("%w: token %q already has %d object(s) labelled %q; choose a new label (a ceremony never replaces a key)", ErrLabelTaken, a.label, len(hs), label)
	}
	return nil
}

// p256Params is the DER OID of prime256v1, CKA_EC_PARAMS of a P-256 key.
var p256Params = []byte{0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07}

// ecPoint is CKA_EC_POINT: the uncompressed point as a DER OCTET STRING.
func ecPoint(pub *ecdsa.PublicKey) ([]byte, error) {
	b, err := pub.Bytes()
	if err != nil {
		return nil, err
	}
	return append([]byte{0x04, byte(len(b))}, b...), nil
}

// parseECPoint reads CKA_EC_POINT, DER-wrapped (as the standard says) or
// raw (as some HSMs give it).
func parseECPoint(v []byte) (*ecdsa.PublicKey, error) {
	if len(v) == 67 && v[0] == 0x04 && v[1] == 65 {
		v = v[2:]
	}
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), v)
}
