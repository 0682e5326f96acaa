package migrate

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/store"
)

// transCoSCell is the cell the migration replaces.
var transCoSCell = gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}

// migrated decides what a mode 6 command's fate means for its device
// (product.md §5, EMEHRA):
//   - never left (not signed, gateway unreachable): retry-wait;
//   - left, no trustworthy answer: unknown, to be read back;
//   - answered, the cell holds the ECoS SKI: ecos;
//   - answered resourcesBusy: retry-wait;
//   - answered with any other status: exception.
//
// A device whose attempts are used up goes to exception instead of
// retry-wait.
func (r *Runner) migrated(j *job, now time.Time) store.Settlement {
	c := j.claimed.Command
	s := store.Settlement{OwnKey: store.OwnKey{Device: c.Device, Counter: c.Counter}, State: store.OwnFailed}
	move := func(to store.MigrationState, cause string) {
		s.Move = &store.Move{Device: c.Device, From: store.MigrationSent, To: to, At: now, Cause: cause, Counter: c.Counter}
		if to == store.MigrationRetryWait {
			if j.claimed.Attempt >= int64(r.cfg.Retry.Attempts) {
				s.Move.To, s.Move.Cause = store.MigrationException, fmt.Sprintf("attempts used up (%d): %s", j.claimed.Attempt, cause)
			} else {
				s.Move.Due = now.Add(r.backoff(j.claimed.Attempt))
			}
		}
	}
	switch {
	case j.err != nil:
		s.Outcome = "not sent: signing failed: " + j.err.Error()
		move(store.MigrationRetryWait, "not sent: signing failed")
		return s
	case errors.Is(j.sendErr, dispatch.ErrUnreachable):
		s.Outcome = "not sent: " + j.sendErr.Error()
		move(store.MigrationRetryWait, "not sent: device network unreachable")
		return s
	case j.sendErr != nil:
		s.Outcome = "no answer: " + j.sendErr.Error()
		move(store.MigrationUnknown, "no response: "+j.sendErr.Error())
		return s
	case j.reply == nil || j.reply.Response == nil:
		why := "no response"
		if j.reply != nil && j.reply.NoResponseReason != "" {
			why += ": " + j.reply.NoResponseReason
		}
		s.Outcome = why
		move(store.MigrationUnknown, why)
		return s
	}
	s.Response = j.reply.Response
	m, err := r.verify(c, gbcs.CodeTransCoSByTransCoS, j.reply.Response)
	var res *gbcs.UpdateSecurityCredentialsResponse
	if err == nil {
		res, err = gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	}
	if err != nil {
		// The device may have carried the command out: only a read-back
		// can say.
		s.Outcome = "response refused: " + err.Error()
		move(store.MigrationUnknown, "response unverifiable: "+err.Error())
		return s
	}
	s.State = store.OwnAnswered
	status, ski, found := cellOutcome(res)
	switch {
	case !found:
		s.Outcome = "no outcome for the transitionalCoS cell"
		move(store.MigrationUnknown, "response without an outcome for the transitionalCoS cell")
	case status == gbcs.StatusSuccess && ski == r.ecosSKI:
		s.Outcome = "success"
		move(store.MigrationECoS, "ECoS certificate installed")
		s.Move.SKI = ski[:]
	case status == gbcs.StatusSuccess:
		s.Outcome = fmt.Sprintf("success, but the cell holds %x", ski[:])
		move(store.MigrationException, fmt.Sprintf("unexpected SKI: the cell holds %x, not the ECoS certificate's", ski[:]))
	case status == gbcs.StatusResourcesBusy:
		s.Outcome = statusName(status)
		move(store.MigrationRetryWait, statusName(status))
	default:
		s.Outcome = statusName(status)
		move(store.MigrationException, statusName(status))
	}
	return s
}

// statusName is "resourcesBusy (30)": the report groups by the name.
func statusName(s gbcs.Status) string { return fmt.Sprintf("%s (%d)", s, uint8(s)) }

// cellOutcome finds the transitionalCoS cell's outcome in res.
func cellOutcome(res *gbcs.UpdateSecurityCredentialsResponse) (gbcs.Status, gbcs.KeyID, bool) {
	if res.Outcome == nil {
		return 0, gbcs.KeyID{}, false
	}
	for _, o := range res.Outcome.Outcomes {
		if o.Cell.Role == transCoSCell.Role && o.Cell.KeyUsage == transCoSCell.KeyUsage {
			return o.Status, o.ReplacingSubjectKeyID, true
		}
	}
	return 0, gbcs.KeyID{}, false
}
