package duis

import (
	"errors"
	"fmt"
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

// parseDateTime reads xs:dateTime. DUIS always sends a zone; a time without
// one would be ambiguous for a future-dated command, so it is refused.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			if err := checkDateTime(t); err != nil {
				return time.Time{}, fmt.Errorf("%q: %v", s, err)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an xs:dateTime with a time zone", s)
}
