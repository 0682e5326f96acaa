package adt

import "bytes"

// Kind is which of the two signed files a byte string claims to be.
type Kind uint8

const (
	KindUnknown    Kind = iota
	KindThresholds      // an ADT file: Parse, Read
	KindAction          // a Quarantined Communications Action File: ParseAction
)

// Sniff tells an ADT file from an action file without judging either, so
// that a tool taking both can pick the parser whose problems will make
// sense to the author. Line 2 decides: a threshold row has four fields, an
// action row two. When line 2 is no row (the signature line, a malformed
// line, nothing) the header decides if it can: "GUID,sequence" is an ADT
// header, while a GUID alone could open either kind.
func Sniff(b []byte) Kind {
	header, rest, _ := bytes.Cut(b, []byte("\n"))
	second, _, _ := bytes.Cut(rest, []byte("\n"))
	second = bytes.TrimSuffix(second, []byte("\r"))
	if !bytes.HasPrefix(second, []byte(sigTag+",")) {
		switch bytes.Count(second, []byte(",")) {
		case 3:
			return KindThresholds
		case 1:
			return KindAction
		}
	}
	if bytes.Count(header, []byte(",")) == 1 {
		return KindThresholds
	}
	return KindUnknown
}
