package store

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// How Go values become column values. Both dialects get the same bytes and
// integers, so every query reads the same on both.

// euiArg is an EUI-64 column value: its 8 bytes.
func euiArg(e eui.EUI) []byte { return e[:] }

// nullEUIArg maps the zero EUI to NULL.
func nullEUIArg(e eui.EUI) any {
	if e.IsZero() {
		return nil
	}
	return e[:]
}

// scanEUI decodes an EUI-64 column; NULL or empty gives the zero EUI.
func scanEUI(b []byte) (eui.EUI, error) {
	if len(b) == 0 {
		return eui.EUI{}, nil
	}
	e, err := eui.FromBytes(b)
	if err != nil {
		return eui.EUI{}, fmt.Errorf("store: corrupt EUI-64 column: %w", err)
	}
	return e, nil
}

// u64Arg encodes a uint64 as 8 big-endian bytes: byte order is numeric
// order, so SQL's < on the column is unsigned comparison.
func u64Arg(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func scanU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("store: corrupt counter column: %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// timeArg is microseconds since the Unix epoch.
func timeArg(t time.Time) int64 { return t.UnixMicro() }

// nullTimeArg maps the zero time to NULL.
func nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func timeOf(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullTimeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return timeOf(v.Int64)
}

// nullBytesArg maps an empty slice to NULL.
func nullBytesArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// boolArg is 0 or 1: the column is an INTEGER in both dialects, which
// PostgreSQL does not fill from a bool.
func boolArg(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
