// Package prove is `ecos keys prove`: the deck's proofs of concept 2 and 3
// for a CoS signing key, wherever it lives (a PKCS#11 token, or a file on
// the old side before export). It signs a CS02b mode 7
// (supplierByTransCoS) and a mode 6 (transCoSByTransCoS) with the key,
// through the signer the service uses; verifies each signature in
// software with the certificate; and runs each command through a
// simulated meter whose transitionalCoS trust anchor is that certificate,
// once with the meter's clock inside the certificate's validity and once
// after its notAfter, since GBCS devices do not time-check anchors and an
// expired TCoS certificate must go on authorising commands.
//
// Trust level: a ceremony tool. It holds no key of its own: it asks the
// signer it is given for signatures. The meters and the replacement
// credentials they are sent come from a throwaway test PKI.
package prove

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/smki"
)

// Options is one proof.
type Options struct {
	// Signer is the key under proof: a token key (hsm.Token.Signer) or a
	// software key.
	Signer crypto.Signer
	// Key names it in the report, e.g. `key "tcos" on token "ecos"
	// (/usr/lib/softhsm/libsofthsm2.so)`; Label, shorter, in each
	// signature's line (Key when "").
	Key, Label string
	// Cert is the DER certificate the key must be: the transitionalCoS
	// digital-signing certificate the meters hold.
	Cert []byte
	// Now is the wall clock; the meters' clocks are set from it and from
	// the certificate's validity.
	Now func() time.Time
	// Rand is the randomness of the signatures and of the throwaway PKI;
	// nil: crypto/rand.
	Rand io.Reader
}

// ErrNotTheKey: the certificate's public key is not the key's. Nothing is
// signed.
var ErrNotTheKey = errors.New("the certificate's public key is not the key's")

// Certificate is what a custodian checks of the certificate the key is
// proved against.
type Certificate struct {
	Subject   string    `json:"subject"`
	Role      string    `json:"role"`
	KeyUsage  string    `json:"key_usage"`
	EUI       string    `json:"eui"`
	SKI       string    `json:"ski"` // hex, upper case
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"` // of the DER
}

// Check is one line of the proof.
type Check struct {
	// Meter is the simulated meter the check belongs to ("" for the key
	// check): "anchor-valid" or "anchor-expired".
	Meter string `json:"meter,omitempty"`
	// Step is "key", "sign", "verify", "device" or "control".
	Step string `json:"step"`
	// Mode is the CS02b mode (7 or 6), 0 when the check has none.
	Mode    int    `json:"mode,omitempty"`
	Counter uint64 `json:"counter,omitempty"`
	OK      bool   `json:"ok"`
	Detail  string `json:"detail"`
}

// Meter is one simulated meter the commands were sent to.
type Meter struct {
	Name  string    `json:"name"`
	EUI   string    `json:"eui"`
	Clock time.Time `json:"clock"`
	// AnchorExpired: the clock is after the certificate's notAfter.
	AnchorExpired bool `json:"anchor_expired"`
}

// Report is the proof's outcome.
type Report struct {
	Key         string      `json:"key"`
	Certificate Certificate `json:"certificate"`
	Meters      []Meter     `json:"meters"`
	Checks      []Check     `json:"checks"`
	Passed      int         `json:"passed"`
	Failed      int         `json:"failed"`
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Failed == 0 && r.Passed > 0 }

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	if c.OK {
		r.Passed++
	} else {
		r.Failed++
	}
}

// Run proves o.Signer against o.Cert. It returns an error, having signed
// nothing, when the certificate is not a transitionalCoS digital-signing
// certificate or is not the key's (ErrNotTheKey); otherwise a report
// whose failed checks say what did not work.
func Run(o Options) (*Report, error) {
	switch {
	case o.Signer == nil:
		return nil, errors.New("prove: no key")
	case o.Now == nil:
		return nil, errors.New("prove: no clock")
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Label == "" {
		o.Label = o.Key
	}
	cert, err := smki.Parse(o.Cert)
	if err != nil {
		return nil, fmt.Errorf("the certificate: %w", err)
	}
	if cert.Kind != smki.Organisation || cert.Role != smki.RoleTransitionalCoS || cert.KeyUsage != smki.KeyUsageDigitalSignature {
		return nil, fmt.Errorf("the certificate %s is a %s %s certificate; a CoS key is proved against a transitionalCoS digitalSignature one", cert, cert.Role, cert.KeyUsage)
	}
	info := describe(cert)
	if err := hsm.CheckMatches(o.Signer, cert.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %s is not the key of the certificate with EUI-64 %s, SKI %s; nothing was signed",
			ErrNotTheKey, o.Key, info.EUI, info.SKI)
	}
	r := &Report{Key: o.Key, Certificate: info}
	r.add(Check{Step: "key", OK: true,
		Detail: fmt.Sprintf("%s is the certificate's key: its public key is the certificate's (SKI %s)", o.Key, info.SKI)})
	for _, m := range meterClocks(cert, o.Now()) {
		if err := proveOn(r, o, cert, m); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func describe(c *smki.Certificate) Certificate {
	sum := sha256.Sum256(c.Raw)
	return Certificate{Subject: c.Subject.String(), Role: c.Role.String(), KeyUsage: c.KeyUsage.String(), EUI: c.EUI.String(),
		SKI: strings.ToUpper(hex.EncodeToString(c.SubjectKeyID)), Serial: fmt.Sprintf("%X", c.SerialNumber),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), SHA256: hex.EncodeToString(sum[:])}
}

// meterClocks are the clocks of the two meters: one inside the
// certificate's validity (now, when it is), one a day after its notAfter.
// A certificate that never expires (notAfter in 9999) has no second meter.
func meterClocks(c *smki.Certificate, now time.Time) []Meter {
	now = now.UTC().Truncate(time.Second)
	valid := now
	switch {
	case now.Before(c.NotBefore):
		valid = c.NotBefore.Add(time.Hour)
	case now.After(c.NotAfter):
		valid = c.NotAfter.Add(-time.Hour)
	}
	out := []Meter{{Name: "anchor-valid", Clock: valid.UTC()}}
	if after := c.NotAfter.Add(24 * time.Hour); after.Year() <= lastClockYear {
		out = append(out, Meter{Name: "anchor-expired", Clock: after.UTC(), AnchorExpired: true})
	}
	return out
}

// lastClockYear bounds a meter's clock: the throwaway PKI is issued an
// hour before it, and its CAs' 25 years must end in a GeneralizedTime.
const lastClockYear = 9999 - 26
