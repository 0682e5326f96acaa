package refdata

import (
	"encoding/csv"
	"io"
	"strings"
)

// maxSerialDigits is the longest certificate serial: 20 octets (RFC 5280
// §4.1.2.2).
const maxSerialDigits = 40

// MPIDBySerial reads the operator's table of certificate serial → MPID
// (policy.mpid_by_serial_file): "serial,mpid" lines, the first of which
// may name the columns. Serials are hex and come back canonical, as
// authorise looks them up: lower case, no "0x", no leading zeros, no
// surrounding blanks. Two lines that name one serial however spelled
// (" 0A", "0a", "000A") are refused with both line numbers: a table that
// silently kept the last would decide a supplier's MPID by line order.
func MPIDBySerial(name string, r io.Reader) (map[string]string, error) {
	t := &table{file: name}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	out := map[string]string{}
	lines := map[string]int{}
	first := true
	t.eachRecord(cr, func(line int, rec []string) {
		if first {
			first = false
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			if strings.EqualFold(blankTrim(rec[0]), "serial") {
				if len(rec) != 2 || !strings.EqualFold(blankTrim(rec[1]), "mpid") {
					t.addf(line, "header %q: want serial,mpid", strings.Join(rec, ","))
				}
				return
			}
		}
		if len(rec) != 2 {
			t.addf(line, "%d fields, want 2 (serial,mpid)", len(rec))
			return
		}
		serial, ok := canonicalSerial(rec[0])
		if !ok {
			t.addf(line, "serial %q is not a certificate serial in hex (1 to %d digits, not zero)", rec[0], maxSerialDigits)
			return
		}
		mpid := blankTrim(rec[1])
		if mpid == "" || strings.ContainsFunc(mpid, func(r rune) bool {
			return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
		}) {
			t.addf(line, "MPID %q: want letters and digits", rec[1])
			return
		}
		if prev, dup := lines[serial]; dup {
			t.addf(line, "serial %s is already on line %d", serial, prev)
			return
		}
		lines[serial] = line
		out[serial] = mpid
	})
	if len(out) == 0 && len(t.problems) == 0 {
		t.addf(0, "no rows: want serial,mpid lines")
	}
	if err := t.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// canonicalSerial is s as a lower-case hex serial without "0x" or leading
// zeros; false unless s is one.
func canonicalSerial(s string) (string, bool) {
	s = blankTrim(s)
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F')
	}) {
		return "", false
	}
	s = strings.ToLower(strings.TrimLeft(s, "0"))
	return s, s != "" && len(s) <= maxSerialDigits
}

// blankTrim trims spaces and tabs: the blanks a hand-edited CSV gathers.
// Other characters, Unicode spaces included, are the value's own.
func blankTrim(s string) string { return strings.Trim(s, " \t") }
