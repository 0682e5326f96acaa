package device

import (
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
)

// FaultKind is what goes wrong with one command.
type FaultKind uint8

const (
	// FaultNone: the command is handled normally (a Fault may still carry a
	// Delay).
	FaultNone FaultKind = iota
	// FaultDropCommand: the command is lost on the way to the device. The
	// device never sees it: no check, no state change, no response.
	FaultDropCommand
	// FaultDropResponse: the device handles the command (cells, counters
	// and pending commands change as usual) but its response is lost. This
	// is the case that leaves the CoS Party not knowing which credential
	// the device holds.
	FaultDropResponse
	// FaultBusy: an authentic command gets a signed response in which every
	// cell reports resourcesBusy (30) and nothing changes, not even the
	// counter, so the party can retry.
	FaultBusy
	// FaultReject: the device refuses the command as if it had failed
	// authentication: no response, Handle returns a *RejectError with
	// reason Injected.
	FaultReject
	// FaultPartial: Fault.Cell fails with Fault.Status while the command's
	// other cells are processed normally (RTDS 6.15.1 IMMEDIATE_ERROR). A
	// future-dated command carries the fault to its execution.
	FaultPartial
)

var faultNames = [...]string{
	FaultNone:         "none",
	FaultDropCommand:  "drop-command",
	FaultDropResponse: "drop-response",
	FaultBusy:         "busy",
	FaultReject:       "reject",
	FaultPartial:      "partial",
}

func (k FaultKind) String() string {
	if int(k) < len(faultNames) {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", uint8(k))
}

// Fault is the fault injected into one command.
type Fault struct {
	Kind FaultKind
	// Delay is how long the transport should hold the response back. The
	// library never sleeps (time is the caller's): it only reports the
	// delay in Result.Delay, and the simulator's HTTP layer or a test's
	// fake clock honours it. It combines with any Kind.
	Delay time.Duration
	// Cell and Status configure FaultPartial. A zero Status (success) is
	// read as StatusOther, since a "failure" that succeeds is no fault.
	Cell   gbcs.Cell
	Status gbcs.Status
}

func (f Fault) isZero() bool { return f.Kind == FaultNone && f.Delay == 0 }

// partialStatus is the status FaultPartial forces on its cell.
func (f Fault) partialStatus() gbcs.Status {
	if f.Status == gbcs.StatusSuccess {
		return gbcs.StatusOther
	}
	return f.Status
}

// Faults decides which Fault each command meets. It is deterministic by
// construction: there is no global randomness; a test or the simulator
// picks faults with a fixed setting or with its own (seeded) hook.
type Faults struct {
	// Fixed applies to every command when it is not the zero Fault.
	Fixed Fault
	// Choose, when Fixed is zero, picks the fault for each command from its
	// (parsed, not yet authenticated) message, e.g. by recipient or
	// counter. It may be called from several goroutines at once (a Fleet
	// serves its devices concurrently) and must be safe for that. It is
	// called without the device's lock held, so it may inspect the device.
	Choose func(cmd *gbcs.Message) Fault
}

func (f *Faults) pick(cmd *gbcs.Message) Fault {
	if f == nil {
		return Fault{}
	}
	if !f.Fixed.isZero() {
		return f.Fixed
	}
	if f.Choose != nil {
		return f.Choose(cmd)
	}
	return Fault{}
}
