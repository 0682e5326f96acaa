package xmldsig

import "fmt"

// Reason classifies why Verify refused a document. It is an error itself,
// so callers can write errors.Is(err, xmldsig.BadSignature).
//
// Malformed and Hostile mean the bytes are not an acceptable XML document
// at all (the CLI exits 2); every other reason means a well-formed document
// whose signature is missing or invalid (the CLI exits 1). See IsMalformed.
type Reason int

const (
	_ Reason = iota
	// Malformed: empty, not UTF-8, not well-formed XML or not
	// namespace-well-formed.
	Malformed
	// Hostile: a construct that only an attack needs: a DTD or entity
	// declaration, a processing instruction, an oversized or too deeply
	// nested document.
	Hostile
	// NoSignature: a well-formed document without a ds:Signature.
	NoSignature
	// ProfileViolation: a ds:Signature that is not the DUIS profile (wrong
	// place, algorithm, reference, transform, KeyInfo, extra content).
	ProfileViolation
	// UnknownSigner: X509IssuerSerial names no certificate in the store, or
	// one without a P-256 key.
	UnknownSigner
	// DigestMismatch: the signature over SignedInfo is valid but the
	// document has changed since it was signed.
	DigestMismatch
	// BadSignature: SignatureValue does not verify over SignedInfo with the
	// signer's key (or is not a 64-byte r‖s value).
	BadSignature
)

var reasonNames = [...]string{
	Malformed:        "malformed XML",
	Hostile:          "hostile XML",
	NoSignature:      "no signature",
	ProfileViolation: "signature profile violation",
	UnknownSigner:    "unknown signer",
	DigestMismatch:   "digest mismatch",
	BadSignature:     "bad signature",
}

func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

func (r Reason) Error() string { return "xmldsig: " + r.String() }

// IsMalformed reports whether r means the input was not acceptable XML
// (unparseable or hostile), as opposed to an invalid signature.
func (r Reason) IsMalformed() bool { return r == Malformed || r == Hostile }

// Error is the only error type Verify returns, and the one Sign returns for
// an unacceptable input document. Detail is safe to show to the sender: it
// names what is wrong and never echoes more than a short excerpt.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return "xmldsig: " + e.Reason.String() + ": " + e.Detail }

// Unwrap exposes the Reason to errors.Is.
func (e *Error) Unwrap() error { return e.Reason }

// errorf builds every *Error, so all refusals look alike.
func errorf(r Reason, format string, a ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, a...)}
}
