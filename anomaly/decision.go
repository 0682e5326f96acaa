package anomaly

import (
	"strconv"

	"github.com/ecos-cos/ecos/adt"
)

// Outcome is what step 9 does with a request.
type Outcome uint8

const (
	// Admit: the request goes on, counted if any window applies. It is the
	// zero Outcome because the pipeline's "not screened" (a refused request,
	// or no counter configured) is the zero Decision, and that must read as
	// nothing to report rather than as a threshold crossed.
	Admit Outcome = iota
	// Warn: the request goes on and has been counted, and it is the one that
	// took a window above its warning threshold, so the User is warned once
	// per crossing rather than once per request.
	Warn
	// Quarantine: the request would take a window above its quarantine
	// threshold. It is held and has not been counted anywhere.
	Quarantine
)

func (o Outcome) String() string {
	switch o {
	case Admit:
		return "admit"
	case Warn:
		return "warn"
	case Quarantine:
		return "quarantine"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Scope is whose threshold decided a Warn or a Quarantine: it chooses
// between the DUIS alerts ADUserThresholdBreach and ADDCCThresholdBreach.
// The zero Scope belongs to a plain Admit.
type Scope uint8

const (
	// UserScope: one of the User's own thresholds (its ADT file, or the
	// default for Users without one).
	UserScope Scope = iota + 1
	// DCCScope: a DCC-wide threshold, counted over all Users and the CoS
	// Party's own commands.
	DCCScope
)

func (s Scope) String() string {
	switch s {
	case UserScope:
		return "user"
	case DCCScope:
		return "dcc"
	}
	return "Scope(" + strconv.Itoa(int(s)) + ")"
}

// Decision is the counter's verdict on one request.
type Decision struct {
	Outcome Outcome
	Scope   Scope // for Warn and Quarantine
	// Rule is the threshold crossed; zero for a plain Admit.
	Rule adt.Threshold
	// Count is the number of requests in Rule's window including this one;
	// for a Quarantine, what it would have been had the request been let
	// through.
	Count uint64

	// What was counted, so that Cancel can take it back out.
	counted bool
	own     bool // CheckOwn: only the DCC windows were counted
	srv     SRV
	user    uint64 // the User, as a shard and map key
	at      int64  // the instant counted, Unix ns, after any clock step back
	seq     uint64 // windows created after the check have a higher id
}
