package gbcs

import (
	"bytes"
	"crypto/ecdh"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// NewCommand starts an unsigned command (CRA 1, no date-time, no signature
// field) from originator to recipient. counter is the originator counter the
// service has reserved; for CS02b it must also be the payload's
// Control.SeqNumber. Sign it, then Wrap it if a MAC-bearing frame is needed.
func NewCommand(originator, recipient eui.EUI, counter uint64, code MessageCode, payload []byte) *Message {
	return &Message{
		CRA:        CRACommand,
		Counter:    counter,
		Originator: originator,
		Recipient:  recipient,
		Code:       code,
		Content:    bytes.Clone(payload),
	}
}

// NewUpdateSecurityCredentialsCommand encodes u and starts the unsigned CS02b
// command that carries it. The message code follows u's mode, and u's
// authorising sequence number must equal the originator counter (as in
// every RTDS command), so the two cannot drift apart.
func NewUpdateSecurityCredentialsCommand(originator, recipient eui.EUI, counter uint64, u *UpdateSecurityCredentials) (*Message, error) {
	code, ok := u.Control.Mode.MessageCode()
	if !ok {
		return nil, errorf("cs02b command: mode %d has no message code", u.Control.Mode)
	}
	if u.Control.SeqNumber != counter {
		return nil, errorf("cs02b command: authorisingRemotePartySeqNumber %d is not the originator counter %d", u.Control.SeqNumber, counter)
	}
	payload, err := u.Bytes()
	if err != nil {
		return nil, err
	}
	m := NewCommand(originator, recipient, counter, code, nil)
	m.Content = payload
	return m, nil
}

// NewResponse starts the device's unsigned response to cmd: CRA 2, the
// command's counter and message code echoed, addressed back to the command's
// originator (the CoS party, not the supplier), stamped with now.
func NewResponse(cmd *Message, now time.Time, payload []byte) *Message {
	dt := NewDateTime(now)
	return &Message{
		CRA:        CRAResponse,
		Counter:    cmd.Counter,
		Originator: cmd.Recipient,
		Recipient:  cmd.Originator,
		DateTime:   &dt,
		Code:       cmd.Code,
		Content:    bytes.Clone(payload),
	}
}

// NewAlert starts an unsigned device alert (CRA 3). counter is the device's
// own alert counter, not the command's. The date-time field is left absent,
// as in the RTDS CS02b alerts (the payload carries the execution time); set
// DateTime if another alert needs it.
func NewAlert(device, recipient eui.EUI, counter uint64, code MessageCode, payload []byte) *Message {
	return &Message{
		CRA:        CRAAlert,
		Counter:    counter,
		Originator: device,
		Recipient:  recipient,
		Code:       code,
		Content:    bytes.Clone(payload),
	}
}

// NewFutureDatedAlert builds the unsigned 0x00CB alert a device sends when a
// future-dated CS02b command has run, addressed to the command's originator
// (the CoS party).
func NewFutureDatedAlert(device, recipient eui.EUI, alertCounter uint64, alert *UpdateSecurityCredentialsAlert) (*Message, error) {
	payload, err := alert.Bytes()
	if err != nil {
		return nil, err
	}
	return NewAlert(device, recipient, alertCounter, CodeFutureDatedAlert, payload), nil
}

// MACKeys are the key-agreement keys for the ACB GMAC: our private key and
// the peer's public key (for commands, the ACB KA key and the device KA key).
type MACKeys struct {
	Private *ecdh.PrivateKey
	Peer    *ecdh.PublicKey
}

// Wrap puts m (normally signed already) in a MAC-only General Ciphering
// wrapper as the ACB does. With keys == nil the MAC is left zero, for a
// caller whose ACB adds it; otherwise it is computed. The frame holds a
// copy of *m (its Content slice is shared, not cloned).
func Wrap(m *Message, keys *MACKeys) (*Frame, error) {
	f := &Frame{
		Ciphering: &Ciphering{SecurityControl: SecurityControlAuthOnly},
		Message:   *m,
	}
	if keys != nil {
		if err := f.SetMAC(keys.Private, keys.Peer); err != nil {
			return nil, err
		}
	}
	return f, nil
}
