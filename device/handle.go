package device

import (
	"crypto/ecdsa"
	"errors"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// Result is what a device did with a command it did not refuse.
type Result struct {
	// Response is the signed response (a bare General Signing APDU, as
	// devices send them). It is nil when no response leaves the device:
	// see Dropped.
	Response []byte
	// Originator is where the response goes: the command's originator.
	// Counter and Code echo the command's.
	Originator eui.EUI
	Counter    uint64
	Code       gbcs.MessageCode
	// Outcome is the CS02b execution outcome in the response (immediate
	// execution, or a busy device); nil for a held or cancelled command
	// and for CS02a.
	Outcome *gbcs.ExecutionOutcome
	// Details is the CS02a response payload.
	Details *gbcs.ProvideSecurityCredentialDetailsResponse
	// Pending reports that a future-dated CS02b command is held until
	// ExecuteAt; Tick runs it.
	Pending   bool
	ExecuteAt time.Time
	// Cancelled counts the held commands a cancellation removed.
	Cancelled int
	// Fault is the fault the command met, Delay how long the transport
	// should hold the response (the library never sleeps), and Dropped
	// whether the fault lost the command or the response.
	Fault   Fault
	Delay   time.Duration
	Dropped bool
}

// Handle processes one command frame and returns what the device sends
// back. A refused command returns a *RejectError and changes nothing.
// Other errors (a signer failure) are internal and also change nothing.
func (d *Device) Handle(frame []byte) (*Result, error) {
	f, err := gbcs.ParseFrame(frame)
	if err != nil {
		return nil, reject(Malformed, err, "decoding frame")
	}
	return d.handleFrame(f)
}

// handleFrame is Handle after decoding; a Fleet decodes once to route.
func (d *Device) handleFrame(f *gbcs.Frame) (*Result, error) {
	m := &f.Message
	// The hook runs outside the lock, so it may look at the device (or the
	// fleet) to decide.
	st := d.touch()
	st.mu.Lock()
	faults := st.faults(d.env)
	st.mu.Unlock()
	fault := faults.pick(m)
	st.mu.Lock()
	defer st.mu.Unlock()
	res := &Result{Originator: m.Originator, Counter: m.Counter, Code: m.Code, Fault: fault, Delay: fault.Delay}
	switch fault.Kind {
	case FaultDropCommand:
		// Lost before the device saw it: nothing at all happens.
		res.Dropped = true
		return res, nil
	case FaultReject:
		return nil, reject(Injected, nil, "fault injection")
	}
	if m.CRA != gbcs.CRACommand {
		return nil, reject(Malformed, nil, "CRA flag is %v, not command", m.CRA)
	}
	if m.Recipient != d.id {
		return nil, reject(WrongRecipient, nil, "addressed to %v, this device is %v", m.Recipient, d.id)
	}
	now := d.env.now()
	var err error
	switch {
	case m.Code.IsCS02b():
		err = d.handleCS02b(st, f, now, res)
	case m.Code == gbcs.CodeProvideSecurityCredentials:
		err = d.handleCS02a(st, f, now, res)
	default:
		err = reject(Unsupported, nil, "message code %v", m.Code)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// respond signs the response to a command the device has decided on, and
// calls commit only once nothing can fail any more, so an error leaves the
// device untouched. A FaultDropResponse commits without a response.
func (d *Device) respond(resp *gbcs.Message, res *Result, commit func()) error {
	if res.Fault.Kind == FaultDropResponse {
		commit()
		res.Dropped = true
		return nil
	}
	b, err := d.sign(resp)
	if err != nil {
		return err
	}
	commit()
	res.Response = b
	return nil
}

// authenticate runs the checks that decide whether the device listens to a
// command at all: the authorising cell is a digital-signing management cell
// of the role the use case requires and holds a certificate; the ACB MAC
// (when the device can check it); the KRP signature against that anchor;
// the originator is that anchor's entity; the counter is fresh. The
// anchor's validity period is deliberately not checked: GBCS devices do not
// time-check trust anchors, which is what lets an expired TCoS certificate
// go on authorising commands.
//
// It returns the authorising cell. It changes nothing.
func (d *Device) authenticate(st *state, f *gbcs.Frame, authCell *gbcs.Cell, role gbcs.Role) (cellKey, error) {
	m := &f.Message
	if authCell == nil {
		return cellKey{}, reject(NoAuthorisingAnchor, nil, "no authorising cell named")
	}
	k := keyOf(*authCell)
	want := cellKey{role: role, key: gbcs.KeyUsageDigitalSignature}
	if k != want {
		return cellKey{}, reject(NoAuthorisingAnchor, nil, "authorising cell %v, this use case needs %v", k, want)
	}
	t := st.cells(d.env)
	pub, anchor := t.anchorKey(k)
	if pub == nil {
		return cellKey{}, reject(NoAuthorisingAnchor, nil, "cell %v holds no certificate", k)
	}
	if err := d.checkMAC(t, f); err != nil {
		return cellKey{}, err
	}
	if err := verify(m, pub); err != nil {
		return cellKey{}, err
	}
	// Checked after the signature so that a command signed with a key the
	// device does not trust reports BadSignature whatever it claims to be.
	// The response goes to the originator, so a command naming another
	// entity than the signer would send the device's answer elsewhere.
	if m.Originator != anchor.EUI {
		return cellKey{}, reject(WrongOriginator, nil, "originator %v, authorising anchor belongs to %v", m.Originator, anchor.EUI)
	}
	if last := st.seqs().get(seqKey{role: role}); m.Counter <= last {
		return cellKey{}, reject(Replay, nil, "counter %d, last accepted from %v is %d", m.Counter, role, last)
	}
	return k, nil
}

func verify(m *gbcs.Message, pub *ecdsa.PublicKey) error {
	if m.Sig != gbcs.SigPresent {
		return reject(BadSignature, nil, "command is not signed (signature field %v)", m.Sig)
	}
	if err := m.Verify(pub); err != nil {
		if errors.Is(err, gbcs.ErrBadSignature) {
			return reject(BadSignature, err, "")
		}
		return reject(Malformed, err, "verifying signature")
	}
	return nil
}

// checkMAC verifies the ACB GMAC of a wrapped command when the device has
// its own KA key and an ACB KA anchor to agree a key with.
func (d *Device) checkMAC(t cells, f *gbcs.Frame) error {
	if f.Ciphering == nil || d.ka == nil {
		return nil
	}
	acb, _ := t.get(cellACBKA)
	if acb == nil || acb.PublicKey == nil {
		return nil
	}
	peer, err := acb.PublicKey.ECDH()
	if err != nil {
		return reject(BadMAC, err, "ACB KA anchor")
	}
	if err := gbcs.VerifyMAC(f, d.ka, peer); err != nil {
		if errors.Is(err, gbcs.ErrBadMAC) {
			return reject(BadMAC, err, "")
		}
		return reject(Malformed, err, "verifying MAC")
	}
	return nil
}
