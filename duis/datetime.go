package duis

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// dateTimeLayout is the one shape every xs:dateTime this package writes
// takes: UTC, milliseconds, Z. DCC Boxed stamps its documents so
// ("2022-08-17T15:45:42.790Z" in the vectors' readfw-response.xml), and
// SmartDCC's tools compare them as strings; the RTDS request templates'
// hundredths ("2030-01-02T00:00:00.00Z") read as the same instant.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// formatDateTime writes t in dateTimeLayout. Finer precision is cut to
// the millisecond, as DCC's clock writes it: values whose instant matters
// (ExecutionDateTime) are checked by Validate not to have any.
func formatDateTime(t time.Time) (string, error) {
	if err := checkDateTime(t); err != nil {
		return "", err
	}
	return t.UTC().Format(dateTimeLayout), nil
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

// checkExactDateTime is checkDateTime for a time whose every digit is the
// sender's meaning: one DUIS cannot write exactly is refused, not cut.
func checkExactDateTime(t time.Time) error {
	if err := checkDateTime(t); err != nil {
		return err
	}
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return fmt.Errorf("%s is more precise than the millisecond DUIS writes", t.UTC().Format(time.RFC3339Nano))
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
