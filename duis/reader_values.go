package duis

import (
	"encoding/base64"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Typed readers for simple elements. Each reads one whole element and names
// it in its error, so a failure says which field was wrong.

func (r *reader) failAt(local, format string, a ...any) error {
	return errorf(r.where()+"/"+local, format, a...)
}

// checked reads a text element and applies one of the shared value rules.
func (r *reader) checked(ns, local string, rule func(string) error) (string, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return "", err
	}
	if err := rule(s); err != nil {
		return "", r.failAt(local, "%v", err)
	}
	return s, nil
}

// str reads an xs:string element (ServiceReference, ImportMPxN) and applies
// rule. An xs:string keeps its white space, so " 6.23" is not one of the
// schema's values and a padded MPxN is one character too long: rather
// than trim what the XSD would refuse, surrounding white space is refused.
func (r *reader) str(ns, local string, rule func(string) error) (string, error) {
	s, err := r.rawText(ns, local)
	if err != nil {
		return "", err
	}
	if trimXMLSpace(s) != s {
		return "", r.failAt(local, "%q has white space around it, which an xs:string keeps", truncate(s))
	}
	if err := checkText(s); err != nil {
		return "", r.failAt(local, "%v", err)
	}
	if err := rule(s); err != nil {
		return "", r.failAt(local, "%v", err)
	}
	return s, nil
}

func (r *reader) boolean(ns, local string) (bool, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return false, err
	}
	switch s {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, r.failAt(local, "%q is not an xs:boolean", s)
}

// floor reads a floorSequenceNumber: a non-negative integer ≤ 2^63−1.
func (r *reader) floor(ns, local string) (uint64, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 63)
	if err != nil {
		return 0, r.failAt(local, "%q is not an integer in 0..9223372036854775807", s)
	}
	return n, nil
}

// uint reads an xs:nonNegativeInteger that GBCS holds in 64 bits
// (counters, floors in responses, quarantine references).
func (r *reader) uint(ns, local string) (uint64, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil {
		return 0, r.failAt(local, "%q is not an integer in 0..18446744073709551615", s)
	}
	return n, nil
}

// bigInt reads a non-negative xs:integer of any size (certificate serials).
func (r *reader) bigInt(ns, local string) (*big.Int, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return nil, err
	}
	digits := strings.TrimPrefix(s, "+")
	if digits == "" || len(digits) > maxSerialDigits || !allDigits(digits) {
		return nil, r.failAt(local, "%q is not a non-negative integer of at most %d digits", truncate(s), maxSerialDigits)
	}
	n, _ := new(big.Int).SetString(digits, 10)
	return n, nil
}

func (r *reader) base64(ns, local string) ([]byte, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return nil, err
	}
	// xs:base64Binary allows white space anywhere; Java signers wrap lines.
	s = strings.Map(func(c rune) rune {
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			return -1
		}
		return c
	}, s)
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, r.failAt(local, "invalid base64: %v", err)
	}
	// Every base64 field we model is a certificate, payload or hash: empty
	// is never meaningful, and refusing it keeps nil the one "absent" value.
	if len(b) == 0 {
		return nil, r.failAt(local, "empty value")
	}
	return b, nil
}

// eui reads an sr:EUI / ra:EUI: the dashed form only, as the schema's
// pattern requires.
func (r *reader) eui(ns, local string) (eui.EUI, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return eui.EUI{}, err
	}
	if len(s) != 23 {
		return eui.EUI{}, r.failAt(local, "%q is not 8 dash-separated hex pairs", truncate(s))
	}
	e, err := eui.Parse(s)
	if err != nil {
		return eui.EUI{}, r.failAt(local, "%v", err)
	}
	return e, nil
}

func (r *reader) requestID(ns, local string) (RequestID, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return RequestID{}, err
	}
	id, err := ParseRequestID(s)
	if err != nil {
		return RequestID{}, r.failAt(local, "%v", err)
	}
	return id, nil
}

func (r *reader) dateTime(ns, local string) (time.Time, error) {
	s, err := r.text(ns, local)
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseDateTime(s)
	if err != nil {
		return time.Time{}, r.failAt(local, "%w", err)
	}
	return t, nil
}

// optional runs read when ns:local comes next, for minOccurs="0" elements.
func (r *reader) optional(ns, local string, read func() error) error {
	ok, err := r.is(ns, local)
	if err != nil || !ok {
		return err
	}
	return read()
}
