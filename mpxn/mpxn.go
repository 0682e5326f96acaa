// Package mpxn validates the supply-point identifiers a 6.23 request names
// in ImportMPxN: an electricity MPAN core (13 digits, one check digit) or a
// gas MPRN (6 to 11 digits, two check digits).
//
// Trust level: pure functions over untrusted strings.
package mpxn

import (
	"errors"
	"fmt"
	"strconv"
)

// Kind says which fuel an identifier belongs to.
type Kind uint8

const (
	MPAN Kind = iota + 1 // electricity: Meter Point Administration Number core
	MPRN                 // gas: Meter Point Reference Number
)

func (k Kind) String() string {
	switch k {
	case MPAN:
		return "MPAN"
	case MPRN:
		return "MPRN"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ID is a validated MPAN core or MPRN.
type ID struct {
	Kind  Kind
	Value string
}

func (id ID) String() string { return id.Value }

// MPRN lengths accepted. Published MPRNs are usually 6 to 11 digits; the
// two check digits make shorter ones implausible and longer ones would be
// confused with an MPAN core.
const (
	MinMPRNDigits = 6
	MaxMPRNDigits = 11
)

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("mpxn: invalid MPAN or MPRN")

// Parse classifies s by length and checks its check digit(s): 13 digits
// is an MPAN core, 6 to 11 an MPRN. Anything else, or a wrong check digit,
// is refused with the expected digit named so an operator can see a typo.
func Parse(s string) (ID, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ID{}, fmt.Errorf("%w: %q has a non-digit at position %d", ErrInvalid, s, i+1)
		}
	}
	switch n := len(s); {
	case n == 13:
		if want := MPANCheckDigit(s[:12]); s[12] != want {
			return ID{}, fmt.Errorf("%w: MPAN core %s has check digit %c, want %c", ErrInvalid, s, s[12], want)
		}
		return ID{Kind: MPAN, Value: s}, nil
	case n >= MinMPRNDigits && n <= MaxMPRNDigits:
		if want := MPRNCheckDigits(s[:n-2]); s[n-2:] != want {
			return ID{}, fmt.Errorf("%w: MPRN %s has check digits %s, want %s", ErrInvalid, s, s[n-2:], want)
		}
		return ID{Kind: MPRN, Value: s}, nil
	default:
		return ID{}, fmt.Errorf("%w: %q has %d digits; an MPAN core has 13, an MPRN %d to %d", ErrInvalid, s, len(s), MinMPRNDigits, MaxMPRNDigits)
	}
}

// mpanWeights are the published weights of the MPAN core's first 12 digits.
var mpanWeights = [12]int{3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43}

// MPANCheckDigit is the check digit of the first 12 digits of an MPAN core:
// the weighted sum mod 11, mod 10. first12 must be 12 ASCII digits.
func MPANCheckDigit(first12 string) byte {
	sum := 0
	for i, w := range mpanWeights {
		sum += int(first12[i]-'0') * w
	}
	return byte('0' + sum%11%10)
}

// MPRNCheckDigits are the two check digits of an MPRN's leading digits:
// each digit weighted by its distance from the end (the first by the
// number of digits, the last by 1), the sum mod 11, as two digits.
func MPRNCheckDigits(body string) string {
	sum := 0
	for i := 0; i < len(body); i++ {
		sum += int(body[i]-'0') * (len(body) - i)
	}
	return fmt.Sprintf("%02d", sum%11)
}
