// Package hexfile reads the hex dumps the RTDS and our tools exchange:
// hex digits with any white space between them.
package hexfile

import (
	"encoding/hex"
	"fmt"
	"unicode"
)

// Decode strips white space and decodes the remaining hex digits. The error
// names the offset of the first character that is not a hex digit.
func Decode(b []byte) ([]byte, error) {
	digits := make([]byte, 0, len(b))
	for i, c := range b {
		switch {
		case unicode.IsSpace(rune(c)):
		case ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F'):
			digits = append(digits, c)
		default:
			return nil, fmt.Errorf("hex: byte %d (%q) is not a hex digit", i, c)
		}
	}
	if len(digits)%2 != 0 {
		return nil, fmt.Errorf("hex: odd number of digits (%d)", len(digits))
	}
	out := make([]byte, len(digits)/2)
	if _, err := hex.Decode(out, digits); err != nil {
		return nil, fmt.Errorf("hex: %w", err)
	}
	return out, nil
}

// LooksLikeHex reports whether b holds only hex digits and white space, so a
// CLI can accept either a hex dump or raw binary on the same argument.
func LooksLikeHex(b []byte) bool {
	seen := false
	for _, c := range b {
		switch {
		case unicode.IsSpace(rune(c)):
		case ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F'):
			seen = true
		default:
			return false
		}
	}
	return seen
}
