package duis

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Fraction digits the two DUIS senders write: the RTDS request templates
// use hundredths ("2030-01-02T00:00:00.00Z", and the cancellation
// "3000-12-31T00:00:00.00Z"); DCC Boxed stamps responses in milliseconds
// ("2022-08-17T15:45:42.790Z").
const (
	requestFracDigits  = 2
	responseFracDigits = 3
)

// formatDateTime writes t as an xs:dateTime in UTC with a Z. The fraction
// has at least minFrac digits, and more when t has them, so decoding gives
// back the same instant: output is deterministic and lossless.
func formatDateTime(t time.Time, minFrac int) (string, error) {
	if err := checkDateTime(t); err != nil {
		return "", err
	}
	t = t.UTC()
	frac := strings.TrimRight(fmt.Sprintf("%09d", t.Nanosecond()), "0")
	if len(frac) < minFrac {
		frac += strings.Repeat("0", minFrac-len(frac))
	}
	return t.Format("2006-01-02T15:04:05") + "." + frac + "Z", nil
}

// checkDateTime refuses what xs:dateTime or our own round trip cannot hold:
// years outside 0001..9999 (XSD 1.0 has no year 0; Go parses four digits)
// and the zero time, which is almost always a field someone forgot to set.
func checkDateTime(t time.Time) error {
	if t.IsZero() {
		return errors.New("time is not set")
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("year %d is outside 0001..9999", y)
	}
	return nil
}

// ErrDateTimeRange marks an xs:dateTime the XSD allows but no encoding we
// carry it in can hold: its UTC year is outside 0001..9999 (GBCS's
// GeneralizedTime has four year digits).
var ErrDateTimeRange = errors.New("outside the years 0001..9999 UTC that GBCS carries")

// dateTimeLexical is xs:dateTime's lexical form (XSD 1.0 §3.2.7) with the
// zone made mandatory: DUIS always sends one, and a time without one would
// be ambiguous for a future-dated command. time.Parse alone is laxer than
// the XSD: it takes a comma before the fraction, one-digit hours and
// offsets beyond ±14:00.
var dateTimeLexical = regexp.MustCompile(`^(-?[0-9]{4,})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([0-9]{2}):([0-9]{2}))?$`)

// parseDateTime reads an xs:dateTime with a time zone and returns it in
// UTC. A value of the right form that no GBCS time can hold (year 10000,
// or a negative year) wraps ErrDateTimeRange.
func parseDateTime(s string) (time.Time, error) {
	m := dateTimeLexical.FindStringSubmatch(s)
	switch {
	case m == nil:
		return time.Time{}, fmt.Errorf("%q is not an xs:dateTime", truncate(s))
	case m[3] == "":
		return time.Time{}, fmt.Errorf("%q is not an xs:dateTime with a time zone", s)
	case m[4] != "" && (m[4] > "14" || m[5] > "59" || (m[4] == "14" && m[5] != "00")):
		return time.Time{}, fmt.Errorf("%q: time zone offset outside -14:00..+14:00", s)
	case m[1] == "0000" || m[1] == "-0000":
		return time.Time{}, fmt.Errorf("%q: there is no year 0000 in xs:dateTime", s)
	case len(m[1]) != 4:
		return time.Time{}, fmt.Errorf("%q: year %s is %w", truncate(s), truncate(m[1]), ErrDateTimeRange)
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid date and time", s)
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is year %d in UTC, %w", s, y, ErrDateTimeRange)
	}
	if t.IsZero() {
		return time.Time{}, fmt.Errorf("%q: %w", s, checkDateTime(t))
	}
	return t, nil
}
