package duis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ecos-cos/ecos/eui"
)

// RequestID is the DUIS "originator:target:counter" identifier. The
// originator is the sending User's EUI-64, the target the device's, and the
// counter is the User's own strictly increasing uint64.
type RequestID struct {
	Originator eui.EUI
	Target     eui.EUI
	Counter    uint64
}

// ParseRequestID parses the RequestIDType form
// "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006".
func ParseRequestID(s string) (RequestID, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return RequestID{}, fmt.Errorf("request ID %q: want originator:target:counter", s)
	}
	var id RequestID
	var err error
	// The schema pattern fixes the dashed form; the compact one is not a RequestID.
	if len(parts[0]) != 23 || len(parts[1]) != 23 {
		return RequestID{}, fmt.Errorf("request ID %q: EUI-64s must be 8 dash-separated hex pairs", s)
	}
	if id.Originator, err = eui.Parse(parts[0]); err != nil {
		return RequestID{}, fmt.Errorf("request ID originator: %w", err)
	}
	if id.Target, err = eui.Parse(parts[1]); err != nil {
		return RequestID{}, fmt.Errorf("request ID target: %w", err)
	}
	c := parts[2]
	if c == "" || (len(c) > 1 && c[0] == '0') || strings.TrimLeft(c, "0123456789") != "" {
		return RequestID{}, fmt.Errorf("request ID counter %q: want a decimal integer without sign or leading zeros", c)
	}
	if id.Counter, err = strconv.ParseUint(c, 10, 64); err != nil {
		return RequestID{}, fmt.Errorf("request ID counter %q: above 18446744073709551615", c)
	}
	return id, nil
}

func (r RequestID) String() string {
	return r.Originator.String() + ":" + r.Target.String() + ":" + strconv.FormatUint(r.Counter, 10)
}
