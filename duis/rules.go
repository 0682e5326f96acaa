package duis

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"
)

// The value rules below are shared by the decoders and by Validate, so that
// whatever decodes can be encoded again and whatever encodes decodes to the
// same value. They return plain errors; callers add the element path.

// SchemaVersion is the DUIS / MMC schema version this package writes.
const SchemaVersion = "5.4"

// MaxFloorSeqNumber is the largest sr:floorSequenceNumber (2^63−1): GBCS
// carries floors as signed 64-bit integers.
const MaxFloorSeqNumber = 1<<63 - 1

// checkText accepts a string that survives an XML round trip unchanged:
// valid UTF-8 made of XML 1.0 characters, and no leading or trailing XML
// white space (the decoder trims it from collapsed types, as xs:token
// does, and refuses it around an xs:string, where it would be part of the
// value).
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, c := range s {
		if !isXMLChar(c) {
			return fmt.Errorf("character %U is not allowed in XML", c)
		}
	}
	if trimXMLSpace(s) != s {
		return errors.New("leading or trailing white space would be lost")
	}
	return nil
}

func isXMLChar(c rune) bool {
	return c == 0x9 || c == 0xA || c == 0xD ||
		(c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF)
}

// checkLength applies an xs:string length facet, which counts characters.
func checkLength(s string, minLen, maxLen int) error {
	if err := checkText(s); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		if minLen == maxLen {
			return fmt.Errorf("length %d, want %d", n, minLen)
		}
		return fmt.Errorf("length %d, want %d..%d", n, minLen, maxLen)
	}
	return nil
}

// checkDecimal accepts the xs:decimal lexical form used by schemaVersion.
// strconv.ParseFloat is not enough: it also takes "1e3", "Inf" and hex.
// Versions are short ("5.4"); the length cap keeps them inside what every
// XSD validator holds (libxml2: 24 digits).
func checkDecimal(s string) error {
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || len(t) > maxDecimalLen {
		return fmt.Errorf("%q is not an xs:decimal", s)
	}
	intPart, frac, _ := strings.Cut(t, ".")
	if intPart+frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return fmt.Errorf("%q is not an xs:decimal", s)
	}
	return nil
}

// checkServiceReference accepts the shape of every sr:ServiceReference and
// sr:ServiceReferenceVariant value ("6.23", "6.15.1", "11.2"). The schema
// enumerates them; the shape is enough to keep text out of the field, and
// the XSD tests check the values we use.
func checkServiceReference(s string) error {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("%q is not a service reference like 6.23", s)
	}
	for _, p := range parts {
		if p == "" || len(p) > 2 || !allDigits(p) {
			return fmt.Errorf("%q is not a service reference like 6.23", s)
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkEnum accepts one of the schema's enumerated values.
func checkEnum(s string, values []string) error {
	for _, v := range values {
		if s == v {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", truncate(s), strings.Join(values, ", "))
}

// checkSerial accepts a certificate serial number for xs:integer. SMKI
// serials are positive and at most 20 octets; 64 digits leaves room while
// keeping a hostile value cheap.
func checkSerial(n *big.Int) error {
	if n.Sign() < 0 {
		return errors.New("negative serial number")
	}
	if len(n.String()) > maxSerialDigits {
		return fmt.Errorf("serial number longer than %d digits", maxSerialDigits)
	}
	return nil
}

const maxSerialDigits = 64

const maxDecimalLen = 16

// maxPathCertificates is CertificationPathCertificates' maxOccurs.
const maxPathCertificates = 3

// checkMPxN applies sr:ImportMPxN: an xs:string of 1..13 characters. Whether
// it is a valid MPAN or MPRN is authorisation's question, not the schema's.
func checkMPxN(s string) error { return checkLength(s, 1, 13) }

// checkCommandVariant applies sr:CommandVariant: 1..8 (9 is DCC-internal).
func checkCommandVariant(cv int) error {
	if cv < 1 || cv > 8 {
		return fmt.Errorf("%d is not a command variant 1..8", cv)
	}
	return nil
}

// checkRequiredText is checkText for an element that must have content.
func checkRequiredText(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	return checkText(s)
}
