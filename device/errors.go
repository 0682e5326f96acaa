package device

import (
	"fmt"
	"strings"
)

// Reason says why a device refused a command outright. A refused command
// changes nothing on the device and gets no response: a real meter stays
// silent to the CoS Party (it may log a security event locally, which this
// model does not keep). Reason is an error so callers can write
// errors.Is(err, device.Replay) through any wrapping.
type Reason uint8

const (
	_ Reason = iota
	// Malformed: the frame or its payload does not decode, or it is not a
	// command.
	Malformed
	// WrongRecipient: the command is addressed to another device.
	WrongRecipient
	// UnknownDevice: a Fleet has no device with the recipient's EUI-64.
	UnknownDevice
	// Unsupported: a message code, CS02b mode or authorisation scheme this
	// model does not implement (see the package comment).
	Unsupported
	// CodeMismatch: the CS02b message code does not select the payload's
	// credentialsReplacementMode.
	CodeMismatch
	// NoAuthorisingAnchor: the authorising cell is absent, is not one the
	// mode allows, or holds no digital-signing certificate.
	NoAuthorisingAnchor
	// WrongOriginator: the grouping-header originator is not the entity
	// whose certificate is in the authorising cell.
	WrongOriginator
	// BadMAC: the ACB's GMAC on a General Ciphering frame does not verify.
	BadMAC
	// BadSignature: the KRP signature is missing or does not verify with the
	// authorising anchor's public key.
	BadSignature
	// Replay: the originator counter is not strictly greater than the last
	// one accepted from the authorising party (or that party's floor).
	Replay
	// SeqNumberMismatch: the CS02b authorisingRemotePartySeqNumber differs
	// from the grouping-header originator counter.
	SeqNumberMismatch
	// Injected: fault injection (FaultReject) refused the command.
	Injected
)

var reasonNames = [...]string{
	Malformed:           "malformed",
	WrongRecipient:      "wrong-recipient",
	UnknownDevice:       "unknown-device",
	Unsupported:         "unsupported",
	CodeMismatch:        "code-mismatch",
	NoAuthorisingAnchor: "no-authorising-anchor",
	WrongOriginator:     "wrong-originator",
	BadMAC:              "bad-mac",
	BadSignature:        "bad-signature",
	Replay:              "replay",
	SeqNumberMismatch:   "seq-number-mismatch",
	Injected:            "injected",
}

// String is the stable machine name, e.g. "bad-signature", for logs,
// metrics and the simulator's HTTP error bodies.
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

func (r Reason) Error() string { return "device: " + r.String() }

// RejectError is the one error type Handle returns for a refused command.
// Detail is a human explanation; Err, when set, is the underlying cause
// (a *gbcs.ParseError, gbcs.ErrBadSignature, ...).
type RejectError struct {
	Reason Reason
	Detail string
	Err    error
}

func (e *RejectError) Error() string {
	var b strings.Builder
	b.WriteString("device: command rejected: ")
	b.WriteString(e.Reason.String())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the Reason and the cause to errors.Is / errors.As.
func (e *RejectError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// reject builds every *RejectError, so all refusals look alike.
func reject(r Reason, err error, format string, args ...any) *RejectError {
	return &RejectError{Reason: r, Detail: fmt.Sprintf(format, args...), Err: err}
}
