package duis

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FutureDatedAlertCode is the sr:FutureDatedAlertCode: the GBCS alert code
// a device raised when a future-dated command's time came.
type FutureDatedAlertCode uint16

// The two codes the schema allows.
const (
	FutureDatedSuccess FutureDatedAlertCode = 0x8F66 // the command was actioned
	FutureDatedFailure FutureDatedAlertCode = 0x8F67 // it was not
)

// String is the code as the schema writes it ("8F66").
func (c FutureDatedAlertCode) String() string { return fmt.Sprintf("%04X", uint16(c)) }

// Valid reports whether the schema's enumeration holds c.
func (c FutureDatedAlertCode) Valid() bool { return c == FutureDatedSuccess || c == FutureDatedFailure }

// parseFutureDatedAlertCode reads xs:hexBinary restricted to 8F66 / 8F67:
// hexBinary compares values, so either letter case is the same code.
func parseFutureDatedAlertCode(s string) (FutureDatedAlertCode, error) {
	n, err := strconv.ParseUint(s, 16, 16)
	c := FutureDatedAlertCode(n)
	if err != nil || len(s) != 4 || strings.ContainsAny(s, "+-_xX") || !c.Valid() {
		return 0, fmt.Errorf("%q is not 8F66 or 8F67", truncate(s))
	}
	return c, nil
}

// FutureDatedDeviceAlert is sr:FutureDatedDeviceAlertMessage: the device's
// alert that a future-dated command ran (8F66) or failed (8F67), which
// DUIS delivers as a ResponseMessage to the request that scheduled it.
// An SR with one command, as 6.23 is, has instruction 1 of 1.
type FutureDatedDeviceAlert struct {
	AlertCode                FutureDatedAlertCode
	GBCSPayload              []byte // the device's GBCS alert (0x00CB for a CS02b)
	InstructionNumber        uint16
	TotalCommandInstructions uint16
}

// NewFutureDatedDeviceAlert is the response that forwards a device's
// future-dated execution alert for SR 6.23 to the User whose request
// scheduled the command: RequestID is that request's, ResponseID the
// alert's (device:user:counter), code I0.
func NewFutureDatedDeviceAlert(id, responseID RequestID, at time.Time, code FutureDatedAlertCode, gbcsAlert []byte) *Response {
	return &Response{
		SchemaVersion: SchemaVersion,
		Header:        ResponseHeader{RequestID: &id, ResponseID: &responseID, ResponseCode: ResponseSuccess, ResponseDateTime: at},
		ResponseMessage: &ResponseMessage{
			ServiceReference:        ServiceReferenceCoS,
			ServiceReferenceVariant: ServiceReferenceCoS,
			FutureDatedDeviceAlert: &FutureDatedDeviceAlert{
				AlertCode: code, GBCSPayload: gbcsAlert, InstructionNumber: 1, TotalCommandInstructions: 1,
			},
		},
	}
}

func (a *FutureDatedDeviceAlert) validate(p string) error {
	if !a.AlertCode.Valid() {
		return invalidf(p+"FutureDatedAlertCode", "%s is not 8F66 or 8F67", a.AlertCode)
	}
	if len(a.GBCSPayload) == 0 {
		return invalidf(p+"GBCSPayload", "empty value")
	}
	return checkInstructions(p, a.InstructionNumber, a.TotalCommandInstructions)
}

// checkInstructions: an instruction is one of the command's, counted
// from 1.
func checkInstructions(p string, n, total uint16) error {
	if n == 0 || n > total {
		return invalidf(p+"InstructionNumber", "%d is not between 1 and TotalCommandInstructions %d", n, total)
	}
	return nil
}

func (a *FutureDatedDeviceAlert) encode(w *writer) {
	w.start("sr:FutureDatedDeviceAlertMessage")
	w.text("sr:FutureDatedAlertCode", a.AlertCode.String())
	w.base64("sr:GBCSPayload", a.GBCSPayload)
	w.uint("sr:InstructionNumber", uint64(a.InstructionNumber))
	w.uint("sr:TotalCommandInstructions", uint64(a.TotalCommandInstructions))
	w.end("sr:FutureDatedDeviceAlertMessage")
}

func decodeFutureDatedDeviceAlert(r *reader) (*FutureDatedDeviceAlert, error) {
	if _, err := r.open(NSRequest, "FutureDatedDeviceAlertMessage"); err != nil {
		return nil, err
	}
	a := &FutureDatedDeviceAlert{}
	code, err := r.checked(NSRequest, "FutureDatedAlertCode", func(s string) error {
		_, err := parseFutureDatedAlertCode(s)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.AlertCode, _ = parseFutureDatedAlertCode(code)
	if a.GBCSPayload, err = r.base64(NSRequest, "GBCSPayload"); err != nil {
		return nil, err
	}
	if a.InstructionNumber, err = r.unsignedShort(NSRequest, "InstructionNumber"); err != nil {
		return nil, err
	}
	if a.TotalCommandInstructions, err = r.unsignedShort(NSRequest, "TotalCommandInstructions"); err != nil {
		return nil, err
	}
	if a.InstructionNumber == 0 || a.InstructionNumber > a.TotalCommandInstructions {
		return nil, r.failAt("InstructionNumber", "%d is not between 1 and TotalCommandInstructions %d", a.InstructionNumber, a.TotalCommandInstructions)
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return a, nil
}

// unsignedShort reads an xs:unsignedShort.
func (r *reader) unsignedShort(ns, local string) (uint16, error) {
	n, err := r.uint(ns, local)
	if err != nil {
		return 0, err
	}
	if n > 1<<16-1 {
		return 0, r.failAt(local, "%d is not an integer in 0..65535", n)
	}
	return uint16(n), nil
}
