package authorise

import (
	"math/big"
	"testing"

	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// TestPresentedMPIDIsTheAttribute: the MPID a certificate presents is its
// attribute's value, with only XML white space around it ignored (as
// product.md has every value): a Unicode space (U+00A0, U+3000, U+2028)
// is part of the value, so "SUPB\u00a0" is not SUPB, whatever a lenient
// trim would make of it, and the outcome is I, not S.
func TestPresentedMPIDIsTheAttribute(t *testing.T) {
	c := MPIDConfig{Policy: PolicyEnforce}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	reg := &store.Registration{MPID: "SUPB"}
	for value, want := range map[string]Outcome{
		"SUPB":       OutcomeSuccess,
		" SUPB\t":    OutcomeSuccess,
		"SUPB\u00a0": OutcomeIncorrect,
		"\u3000SUPB": OutcomeIncorrect,
		"SUPB\u2028": OutcomeIncorrect,
		"\u0085SUPB": OutcomeIncorrect,
		"supb":       OutcomeIncorrect,
		"\u00a0":     OutcomeIncorrect, // a value, not an absent MPID
		" \r\n":      OutcomeMissing,
		"SUPB\u200b": OutcomeIncorrect, // zero-width space
		"SU\u00adPB": OutcomeIncorrect, // soft hyphen
		"ＳＵＰＢ":       OutcomeIncorrect, // full-width letters
	} {
		cert := &smki.Certificate{SerialNumber: big.NewInt(7), Subject: smki.Name{Attributes: []smki.Attribute{
			{Type: oidOrganization, Tag: smki.TagUTF8String, Value: []byte(value)},
		}}}
		if got := c.outcome(cert, reg, store.Party{ID: "SUP2"}); got.Outcome != want {
			t.Errorf("O=%q: outcome %s (presented %q), want %s", value, got.Outcome, got.Presented, want)
		}
	}
}
