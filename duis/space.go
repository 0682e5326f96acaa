package duis

import (
	"bytes"
	"strings"
)

// xmlSpace is XML's white space (the S production: space, tab, CR, LF),
// the only characters the XSD whiteSpace facets replace, collapse or
// trim. Unicode's other spaces (U+00A0, U+0085, U+2028, U+3000, …) are
// content: a value carrying one is a different value, not a padded one.
const xmlSpace = " \t\r\n"

// trimXMLSpace removes leading and trailing XML white space, as the
// collapse facet of xs:token, xs:dateTime, xs:integer and xs:boolean does.
func trimXMLSpace(s string) string { return strings.Trim(s, xmlSpace) }

// isXMLSpace reports whether b is nothing but XML white space: the only
// text element-only content may hold.
func isXMLSpace(b []byte) bool { return len(bytes.Trim(b, xmlSpace)) == 0 }
