package adt

import (
	"fmt"
	"strconv"

	"github.com/ecos-cos/ecos/eui"
)

// Action is what a Quarantined Communications Action File asks for one
// quarantined request.
type Action uint8

// The zero Action is none, so a row built in code without one cannot
// silently mean either.
const (
	Release Action = iota + 1 // send the request on, from step 10 of product.md §2
	Delete                    // drop the request and tell the User
)

func (a Action) String() string {
	switch a {
	case Release:
		return "Release"
	case Delete:
		return "Delete"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// ActionFile is a parsed Quarantined Communications Action File (product.md
// §4): a User's signed instruction to release or delete requests the ECoS
// Party quarantined. The TADP's format is not public; ours is
//
//	70-B3-D5-1F-30-00-A0-04              User GUID
//	18446744073709551615,Release         QuarantineEventRef,action
//	42,Delete
//	Signature,<issuer>,<serial>,<base64> as in an ADT file
//
// with the ADT file's line-ending, size and signature rules. ParseAction
// fills every field from the bytes; Marshal writes the same bytes back.
type ActionFile struct {
	User eui.EUI // the User whose quarantined requests these are
	CRLF bool    // lines end in CRLF rather than LF
	Rows []ActionRow

	Seal
}

// ActionRow is one action line: QuarantineEventRef,action.
type ActionRow struct {
	Ref    uint64 // the QuarantineEventRef the DCC alert gave the User; never 0
	Action Action
	Line   int // 1-based line number in the file; 0 for rows built in code
	// Spelling is the action exactly as written when that is not
	// Action.String() ("release", "DELETE"): the action is read without
	// regard to case, and Marshal must give back the bytes it was parsed
	// from. Empty means Action.String().
	Spelling string
}

// AppendBody appends the signed part of the file (GUID line and action
// rows, every line terminated) to dst, for Sign. It does not check the
// rows: tests use it to write bad files on purpose.
func (f *ActionFile) AppendBody(dst []byte) []byte {
	eol := "\n"
	if f.CRLF {
		eol = "\r\n"
	}
	dst = append(dst, f.User.String()...)
	dst = append(dst, eol...)
	for _, r := range f.Rows {
		dst = strconv.AppendUint(dst, r.Ref, 10)
		dst = append(dst, ',')
		if r.Spelling != "" {
			dst = append(dst, r.Spelling...)
		} else {
			dst = append(dst, r.Action.String()...)
		}
		dst = append(dst, eol...)
	}
	return dst
}

// Marshal returns the whole file, signature line included. For an
// ActionFile that ParseAction returned it gives back exactly the parsed
// bytes.
func (f *ActionFile) Marshal() []byte {
	eol := "\n"
	if f.CRLF {
		eol = "\r\n"
	}
	return append(f.AppendBody(nil), f.Seal.line(eol)...)
}
