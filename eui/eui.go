// Package eui is the 64-bit Entity Identifier (EUI-64) that names every
// party and device in GB smart metering: SMKI certificates carry it, GBCS
// frames address with it, DUIS RequestIDs are made of it.
//
// Trust level: pure value type; parses untrusted text.
package eui

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EUI is an EUI-64 in network byte order.
type EUI [8]byte

// ErrSyntax is wrapped by every Parse failure.
var ErrSyntax = errors.New("eui: invalid EUI-64")

// Parse accepts the DUIS form "90-B3-D5-1F-30-00-00-04" and the compact
// hex form "90B3D51F30000004", in either case. Anything else is refused:
// a lenient parser here would let two spellings name one party.
func Parse(s string) (EUI, error) {
	var e EUI
	var compact string
	switch len(s) {
	case 16:
		compact = s
	case 23:
		var b strings.Builder
		for i := 0; i < 8; i++ {
			if i > 0 && s[3*i-1] != '-' {
				return EUI{}, fmt.Errorf("%w %q: expected '-' at offset %d", ErrSyntax, s, 3*i-1)
			}
			b.WriteString(s[3*i : 3*i+2])
		}
		compact = b.String()
	default:
		return EUI{}, fmt.Errorf("%w %q: want 16 hex digits or 8 dash-separated pairs", ErrSyntax, s)
	}
	if _, err := hex.Decode(e[:], []byte(compact)); err != nil {
		return EUI{}, fmt.Errorf("%w %q: %v", ErrSyntax, s, err)
	}
	return e, nil
}

// MustParse is Parse for constants in tests and demo data; it panics on error.
func MustParse(s string) EUI {
	e, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return e
}

// FromBytes copies an 8-byte slice into an EUI.
func FromBytes(b []byte) (EUI, error) {
	var e EUI
	if len(b) != len(e) {
		return EUI{}, fmt.Errorf("%w: %d bytes, want 8", ErrSyntax, len(b))
	}
	copy(e[:], b)
	return e, nil
}

// String is the DUIS form, upper case with dashes: 90-B3-D5-1F-30-00-00-04.
func (e EUI) String() string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 23)
	for i, c := range e {
		if i > 0 {
			out = append(out, '-')
		}
		out = append(out, digits[c>>4], digits[c&0x0f])
	}
	return string(out)
}

// Hex is the compact upper-case form used in file names and SMKI tooling.
func (e EUI) Hex() string { return strings.ToUpper(hex.EncodeToString(e[:])) }

// IsZero reports whether e is all zeros (unset).
func (e EUI) IsZero() bool { return e == EUI{} }

// MarshalText makes EUIs print in the DUIS form in JSON and logs.
func (e EUI) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText accepts either form Parse does.
func (e *EUI) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
