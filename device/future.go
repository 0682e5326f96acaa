package device

import (
	"cmp"
	"slices"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// pending is a future-dated CS02b command the device has accepted and
// holds. Authentication and the counter were dealt with at receipt; the
// certificate checks run at execution, against the cells and the clock of
// that moment.
type pending struct {
	at         time.Time
	arrival    uint64
	originator eui.EUI
	counter    uint64
	code       gbcs.MessageCode
	authKey    cellKey
	rule       modeRule
	cmd        *gbcs.UpdateSecurityCredentials
	fault      Fault // a FaultPartial is carried to execution
}

func newPending(arrival uint64, m *gbcs.Message, cmd *gbcs.UpdateSecurityCredentials, authKey cellKey, rule modeRule, at time.Time, fault Fault) *pending {
	return &pending{at: at, arrival: arrival, originator: m.Originator, counter: m.Counter, code: m.Code,
		authKey: authKey, rule: rule, cmd: cmd, fault: fault}
}

// withoutPending returns the held commands a cancellation m leaves: it
// removes those with the same message code authorised through the same
// cell by the same originator, so one party cannot cancel another's.
func withoutPending(held []*pending, m *gbcs.Message, authKey cellKey) (kept []*pending, removed int) {
	for _, p := range held {
		if p.code == m.Code && p.authKey == authKey && p.originator == m.Originator {
			removed++
			continue
		}
		kept = append(kept, p)
	}
	return kept, removed
}

// Pending is the number of held future-dated commands.
func (d *Device) Pending() int {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.pending())
}

// NextDue is the execution time of the earliest held command, so a
// simulator knows when to call Tick.
func (d *Device) NextDue() (time.Time, bool) {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	held := st.pending()
	if len(held) == 0 {
		return time.Time{}, false
	}
	next := held[0].at
	for _, p := range held[1:] {
		if p.at.Before(next) {
			next = p.at
		}
	}
	return next, true
}

// Alert is a signed 0x00CB alert a held command produced when it ran.
type Alert struct {
	// Frame is the signed alert (a bare General Signing APDU).
	Frame []byte
	// Device sent it; Recipient is the held command's originator.
	Device    eui.EUI
	Recipient eui.EUI
	// Counter is the device's alert counter; CommandCounter the originator
	// counter of the command the alert reports on, for correlation.
	Counter        uint64
	CommandCounter uint64
	Code           gbcs.AlertCode
	Payload        *gbcs.UpdateSecurityCredentialsAlert
}

// Tick runs every held command whose execution time is not after now, in
// time order (then arrival order), each against the state the previous one
// left, with now as the device clock for the certificate checks. Each gives
// a signed alert: 0x8F66 when every cell succeeded, 0x8F67 otherwise (RTDS
// 6.15.1 reports a partial failure with 8F67). On error the commands not
// yet run stay held.
func (d *Device) Tick(now time.Time) ([]Alert, error) {
	st := d.peek()
	st.mu.Lock()
	defer st.mu.Unlock()
	held := st.pending()
	if len(held) == 0 {
		return nil, nil
	}
	due := make([]*pending, 0, len(held))
	for _, p := range held {
		if !p.at.After(now) {
			due = append(due, p)
		}
	}
	slices.SortStableFunc(due, func(a, b *pending) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.arrival, b.arrival)
	})
	var alerts []Alert
	for _, p := range due {
		a, err := d.run(st, p, now)
		if err != nil {
			return alerts, err
		}
		alerts = append(alerts, a)
	}
	return alerts, nil
}

// run executes one held command and commits it together with its alert.
func (d *Device) run(st *state, p *pending, now time.Time) (Alert, error) {
	cur := st.cells(d.env)
	outcome, newCells, newSeqs := d.execute(p.cmd, p.authKey, p.rule, now, p.fault, cur, st.seqs())
	code := gbcs.AlertFutureDatedSuccess
	for _, o := range outcome.Outcomes {
		if o.Status != gbcs.StatusSuccess {
			code = gbcs.AlertFutureDatedFailure
		}
	}
	payload := &gbcs.UpdateSecurityCredentialsAlert{AlertCode: code, ExecutionDateTime: p.at, Outcome: *outcome}
	msg, err := gbcs.NewFutureDatedAlert(d.id, p.originator, st.alertCounter()+1, payload)
	if err != nil {
		return Alert{}, err
	}
	frame, err := d.sign(msg)
	if err != nil {
		return Alert{}, err
	}
	st.commit(d.env, cur, newCells, newSeqs)
	x := st.extra()
	x.alertCounter++
	x.pending = slices.DeleteFunc(slices.Clone(x.pending), func(q *pending) bool { return q == p })
	return Alert{Frame: frame, Device: d.id, Recipient: p.originator, Counter: x.alertCounter,
		CommandCounter: p.counter, Code: code, Payload: payload}, nil
}
