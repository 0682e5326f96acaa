package ecoserr

import (
	"fmt"
	"regexp"
)

// Reason is why a request ended where it did. Its name is stable: scripts,
// metrics and audit records use it.
type Reason uint8

// The reasons, in the order of the 6.23 pipeline (product.md §2).
const (
	_ Reason = iota
	TooLarge
	Malformed
	UnsupportedRequest
	ExecutionTimeUnsupported
	BadSignature
	UnknownSigner
	SignerNotUser
	Replay
	UnknownUser
	RoleNotPermitted
	UserNotActive
	UnknownDevice
	DeviceState
	DeviceTypeMismatch
	InvalidMPxN
	MPxNNotAssociated
	NotRegisteredSupplier
	CancelNotOwner
	BeyondHorizon
	BadReplacementCertificate
	MPIDIncorrect
	MPIDMissing
	Quarantined
	QuarantineDeleted
	QuarantineExpired
	DeviceUnreachable
	NoResponse
	ResponseUnverifiable
	Internal
	numReasons
)

// Entry is one row of the reason table.
type Entry struct {
	Reason  Reason
	Name    string // stable machine name
	Step    int    // product.md §2 step; 0 for none
	Code    string // default DUIS ResponseCode
	Message string // public message
	// Configurable marks the 6.23-specific codes E062301–E062306, whose
	// meanings are not public: operators map them to the DCC's.
	Configurable bool
}

// table is the single source of truth. Generic codes are used where their
// public meaning fits (domain.md §1.4); the rest use the 6.23-specific
// codes, allocated here and configurable.
var table = [numReasons]Entry{
	TooLarge:                  {TooLarge, "too-large", 1, "E062301", "the request is larger than the service accepts", true},
	Malformed:                 {Malformed, "malformed", 1, "E062301", "the request is not a well-formed DUIS 5.4 SR 6.23 request", true},
	UnsupportedRequest:        {UnsupportedRequest, "unsupported-request", 1, "E12", "the Service Request, variant or Command Variant is not one this service accepts (SR 6.23, Command Variant 1)", false},
	ExecutionTimeUnsupported:  {ExecutionTimeUnsupported, "execution-time-unsupported", 1, "E062301", "ExecutionDateTime is not a time a GBCS command can carry: whole seconds, in the years 0001 to 9999 UTC", true},
	BadSignature:              {BadSignature, "bad-signature", 2, "E062302", "the request's XML signature does not verify", true},
	UnknownSigner:             {UnknownSigner, "unknown-signer", 2, "E062302", "the request is signed with a certificate the service does not know", true},
	SignerNotUser:             {SignerNotUser, "signer-not-user", 2, "E062302", "the signing certificate is not a valid XML-signing certificate of the requesting User", true},
	Replay:                    {Replay, "replay", 3, "E062303", "the RequestID counter is not greater than the last one accepted from this User for this device", true},
	UnknownUser:               {UnknownUser, "unknown-user", 4, "E1", "the User is not known", false},
	RoleNotPermitted:          {RoleNotPermitted, "role-not-permitted", 4, "E2", "the User's role may not send SR 6.23", false},
	UserNotActive:             {UserNotActive, "user-not-active", 4, "E3", "the User is not in an active state", false},
	UnknownDevice:             {UnknownDevice, "unknown-device", 5, "E19", "the device does not exist", false},
	DeviceState:               {DeviceState, "device-state", 5, "E5", "the device's SMI status does not allow a change of supplier", false},
	DeviceTypeMismatch:        {DeviceTypeMismatch, "device-type-mismatch", 5, "E11", "the device type does not match the MPxN's fuel", false},
	InvalidMPxN:               {InvalidMPxN, "invalid-mpxn", 6, "E062304", "ImportMPxN is not a valid MPAN or MPRN", true},
	MPxNNotAssociated:         {MPxNNotAssociated, "mpxn-not-associated", 6, "E4", "the MPxN is not associated with the device", false},
	NotRegisteredSupplier:     {NotRegisteredSupplier, "not-registered-supplier", 6, "E4", "the User is not the registered supplier for the MPxN at the execution date-time", false},
	CancelNotOwner:            {CancelNotOwner, "cancel-not-owner", 6, "E4", "only the party whose future-dated request is pending on the device may cancel it", false},
	BeyondHorizon:             {BeyondHorizon, "beyond-horizon", 6, "E062304", "ExecutionDateTime is further in the future than this service accepts", true},
	BadReplacementCertificate: {BadReplacementCertificate, "bad-replacement-certificate", 7, "E062305", "a replacement certificate is not a valid supplier certificate of the requesting User", true},
	MPIDIncorrect:             {MPIDIncorrect, "mpid-incorrect", 8, "E062306", "the request was signed under an MPID other than the one registered for the MPxN", true},
	MPIDMissing:               {MPIDMissing, "mpid-missing", 8, "E062306", "the signing certificate carries no MPID", true},
	Quarantined:               {Quarantined, "quarantined", 9, "I99", "the request is held by anomaly detection", false},
	QuarantineDeleted:         {QuarantineDeleted, "quarantine-deleted", 9, "E062301", "the request was held by anomaly detection and deleted at the User's or the operator's instruction", true},
	QuarantineExpired:         {QuarantineExpired, "quarantine-expired", 9, "E062301", "the request was held by anomaly detection and deleted when its hold expired", true},
	DeviceUnreachable:         {DeviceUnreachable, "device-unreachable", 11, "E20", "the device cannot be reached: the command was not sent", false},
	NoResponse:                {NoResponse, "no-response", 12, "E21", "the device did not respond: it may have carried out the command", false},
	ResponseUnverifiable:      {ResponseUnverifiable, "response-unverifiable", 12, "E21", "the device's response could not be read or verified: it may have carried out the command", false},
	Internal:                  {Internal, "internal", 0, "E062301", "the service could not process the request", true},
}

// Table returns the reason table, in pipeline order.
func Table() []Entry {
	return append([]Entry(nil), table[1:]...)
}

// Name is the stable machine name ("replay").
func (r Reason) Name() string {
	if r == 0 || r >= numReasons {
		return fmt.Sprintf("reason(%d)", uint8(r))
	}
	return table[r].Name
}

// Message is the generic public message.
func (r Reason) Message() string {
	if r == 0 || r >= numReasons {
		return table[Internal].Message
	}
	return table[r].Message
}

func (r Reason) Error() string { return r.Name() }

// ByName finds a reason by its machine name.
func ByName(name string) (Reason, bool) {
	for _, e := range table[1:] {
		if e.Name == name {
			return e.Reason, true
		}
	}
	return 0, false
}

// Codes maps reasons to DUIS response codes: the defaults, with operator
// overrides for the configurable ones.
type Codes struct {
	override map[Reason]string
}

var specificCode = regexp.MustCompile(`^E0623(0[1-9]|[1-9][0-9])$`)

// NewCodes applies overrides given by reason name. Only configurable
// reasons may be overridden, and only with a 6.23-specific code: the
// generic codes have public meanings that must not be bent.
func NewCodes(overrides map[string]string) (*Codes, error) {
	c := &Codes{override: map[Reason]string{}}
	for name, code := range overrides {
		r, ok := ByName(name)
		if !ok {
			return nil, fmt.Errorf("response codes: unknown reason %q", name)
		}
		if !table[r].Configurable {
			return nil, fmt.Errorf("response codes: %s uses the generic code %s, which cannot be changed", name, table[r].Code)
		}
		if !specificCode.MatchString(code) {
			return nil, fmt.Errorf("response codes: %s: %q is not a 6.23-specific code E0623nn", name, code)
		}
		c.override[r] = code
	}
	return c, nil
}

// Code is the DUIS ResponseCode for r.
func (c *Codes) Code(r Reason) string {
	if c != nil {
		if code, ok := c.override[r]; ok {
			return code
		}
	}
	if r == 0 || r >= numReasons {
		return table[Internal].Code
	}
	return table[r].Code
}
