package authorise

import (
	"encoding/asn1"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// Policy is what an MPID outcome other than S does to a request.
type Policy string

const (
	// PolicyReport records the outcome and lets the request through: the
	// 2022 tracking phase.
	PolicyReport Policy = "report"
	// PolicyEnforce refuses I (incorrect) and M (missing).
	PolicyEnforce Policy = "enforce"
)

// Outcome is the deck's MPID usage outcome.
type Outcome string

const (
	OutcomeSuccess   Outcome = "S" // presented MPID = expected MPID
	OutcomeIncorrect Outcome = "I" // an MPID presented, not the expected one
	OutcomeMissing   Outcome = "M" // no MPID presented
)

// MPIDConfig says where a signing certificate's MPID is found (product.md
// §3): a subject attribute, by default organizationName (O), then an
// operator table of certificate serial → MPID.
type MPIDConfig struct {
	Policy Policy
	// Attribute is the subject attribute holding the MPID; nil means O.
	Attribute asn1.ObjectIdentifier
	// BySerial maps a certificate serial (hex, any case) to its MPID.
	BySerial map[string]string
}

var oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}

// xmlSpace is XML's white space: the only padding a value may carry.
const xmlSpace = " \t\r\n"

func (c *MPIDConfig) validate() error {
	switch c.Policy {
	case PolicyReport, PolicyEnforce:
	case "":
		c.Policy = PolicyReport
	default:
		return fmt.Errorf("authorise: MPID policy %q is not %q or %q", c.Policy, PolicyReport, PolicyEnforce)
	}
	if c.Attribute == nil {
		c.Attribute = oidOrganization
	}
	normalised := make(map[string]string, len(c.BySerial))
	spelled := make(map[string]string, len(c.BySerial))
	for _, serial := range slices.Sorted(maps.Keys(c.BySerial)) {
		mpid := c.BySerial[serial]
		n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(serial), "0x"), 16)
		if !ok || n.Sign() <= 0 || mpid == "" {
			return fmt.Errorf("authorise: MPID table entry %q → %q is not a hex serial and an MPID", serial, mpid)
		}
		// Two spellings of one serial would leave the MPID to map order.
		if first, dup := spelled[n.Text(16)]; dup {
			return fmt.Errorf("authorise: MPID table serials %q and %q are one certificate serial", first, serial)
		}
		spelled[n.Text(16)] = serial
		normalised[n.Text(16)] = mpid
	}
	c.BySerial = normalised
	return nil
}

// MPIDResult is one row of MPID usage, for reports.
type MPIDResult struct {
	Party             string
	CertificateSerial *big.Int
	Presented         string
	Expected          string
	Outcome           Outcome
}

// presented reads the MPID the signer's certificate carries.
func (c *MPIDConfig) presented(signer *smki.Certificate) string {
	if signer == nil {
		return ""
	}
	// Only XML white space is padding, as in every value a request
	// carries: a Unicode space is part of the MPID, so "SUPB\u00a0" is
	// not SUPB.
	for _, attr := range signer.Subject.Find(c.Attribute) {
		if s, ok := attr.Text(); ok && strings.Trim(s, xmlSpace) != "" {
			return strings.Trim(s, xmlSpace)
		}
	}
	if signer.SerialNumber != nil {
		return c.BySerial[signer.SerialNumber.Text(16)]
	}
	return ""
}

// outcome compares the presented MPID with the expected one: the MPID the
// registered supplier holds the MPxN under. A cancellation has no
// registration to read, so any MPID the party holds is the expected one.
func (c *MPIDConfig) outcome(signer *smki.Certificate, reg *store.Registration, party store.Party) *MPIDResult {
	r := &MPIDResult{Party: party.ID, Presented: c.presented(signer)}
	if signer != nil {
		r.CertificateSerial = signer.SerialNumber
	}
	switch {
	case r.Presented == "":
		r.Outcome = OutcomeMissing
	case reg != nil:
		r.Expected = reg.MPID
		r.Outcome = OutcomeIncorrect
		if r.Presented == reg.MPID {
			r.Outcome = OutcomeSuccess
		}
	default:
		r.Outcome = OutcomeIncorrect
		for _, m := range party.MPIDs {
			if m == r.Presented {
				r.Expected, r.Outcome = m, OutcomeSuccess
			}
		}
	}
	return r
}

func (c *MPIDConfig) enforce(r *MPIDResult) error {
	if c.Policy != PolicyEnforce {
		return nil
	}
	switch r.Outcome {
	case OutcomeIncorrect:
		return ecoserr.New(ecoserr.MPIDIncorrect, nil, "signed under MPID %s; the MPxN is registered under %s", r.Presented, r.Expected)
	case OutcomeMissing:
		return ecoserr.New(ecoserr.MPIDMissing, nil, "")
	}
	return nil
}
