package gbcs

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// DateTime is the 12-octet DLMS date-time (Blue Book §4.1.6.1) a device puts
// in the General Signing date-time field of its responses and alerts: year
// (2), month, day, day-of-week, hour, minute, second, hundredths, deviation
// (2, signed minutes), clock status. It is kept as raw octets because the
// "not specified" markers (0xFF, 0x8000) must survive a round trip.
type DateTime [12]byte

// deviationUnspecified is the DLMS "not specified" deviation.
const deviationUnspecified = 0x8000

// NewDateTime encodes t (converted to UTC) the way the RTDS devices do: day
// of week, hundredths of a second, deviation and clock status all "not
// specified" (FF, 00, 8000, FF). GBCS devices keep UTC, so the deviation is
// not needed.
func NewDateTime(t time.Time) DateTime {
	t = t.UTC()
	var d DateTime
	binary.BigEndian.PutUint16(d[0:2], uint16(t.Year()))
	d[2] = byte(t.Month())
	d[3] = byte(t.Day())
	d[4] = 0xFF
	d[5] = byte(t.Hour())
	d[6] = byte(t.Minute())
	d[7] = byte(t.Second())
	d[8] = 0x00
	binary.BigEndian.PutUint16(d[9:11], deviationUnspecified)
	d[11] = 0xFF
	return d
}

// Time decodes d. An unspecified deviation is read as UTC (GBCS devices run
// on UTC); a specified one is taken, as in DLMS, as minutes to add to the
// local time to get UTC. Unspecified date or time fields are an error.
func (d DateTime) Time() (time.Time, error) {
	year := int(binary.BigEndian.Uint16(d[0:2]))
	month, day := int(d[2]), int(d[3])
	hour, minute, sec, hund := int(d[5]), int(d[6]), int(d[7]), int(d[8])
	if year == 0xFFFF || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("gbcs: DLMS date-time %X has unspecified or invalid fields", d[:])
	}
	if hund == 0xFF {
		hund = 0
	} else if hund > 99 {
		return time.Time{}, fmt.Errorf("gbcs: DLMS date-time %X: hundredths %d", d[:], hund)
	}
	loc := time.UTC
	if dev := int16(binary.BigEndian.Uint16(d[9:11])); uint16(dev) != deviationUnspecified && dev != 0 {
		loc = time.FixedZone("", -int(dev)*60)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, hund*10_000_000, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("gbcs: DLMS date-time %X: no such day", d[:])
	}
	return t, nil
}

// String is RFC 3339 when d decodes, and the raw hex otherwise.
func (d DateTime) String() string {
	if t, err := d.Time(); err == nil {
		return t.Format(time.RFC3339Nano)
	}
	return hex.EncodeToString(d[:])
}

// MarshalText lets descriptions print date-times readably.
func (d DateTime) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
