package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/store"
)

// readBack asks unknown devices what their transitionalCoS cell holds. A
// device answers only a command signed with the key of the certificate in
// that cell, so the read-back is signed with the ECoS key first (where a
// lost mode 6 most likely left it), and for the devices that did not
// answer, with the TCoS key. A read-back changes nothing on the device,
// whichever key it carries.
func (r *Runner) readBack(ctx context.Context, w store.Wave, ds []eui.EUI) (int, error) {
	sent := 0
	pending := ds
	attempts := map[eui.EUI]int64{}
	for _, key := range []string{"ecos", "tcos"} {
		if len(pending) == 0 {
			break
		}
		jobs, err := r.claim(ctx, w, pending, store.OwnReadBack, key)
		if err != nil || len(jobs) == 0 {
			return sent, err
		}
		n, err := r.sendAll(ctx, w, jobs, key)
		sent += n
		if err != nil {
			return sent, err
		}
		now := r.cfg.Now()
		ss := make([]store.Settlement, 0, len(jobs))
		pending = pending[:0:0]
		var busy []eui.EUI
		for _, j := range jobs {
			s, answered := r.readOutcome(j, key, now)
			ss = append(ss, s)
			if answered && s.Move == nil {
				busy = append(busy, j.claimed.Command.Device)
			}
			if !answered {
				pending = append(pending, j.claimed.Command.Device)
				attempts[j.claimed.Command.Device] = j.claimed.Attempt
			}
		}
		if err := r.settle(ctx, store.OwnReadBack, ss); err != nil {
			return sent, err
		}
		for _, d := range busy {
			if err := r.cfg.Commands.DeferDevice(ctx, d, store.MigrationUnknown, now.Add(r.backoff(1))); err != nil {
				return sent, err
			}
		}
	}
	// Neither key got an answer: the device is unreachable, or trusts
	// neither. Ask again later; after as many rounds as a migration has
	// attempts, it is the operator's.
	for _, d := range pending {
		unanswered, err := r.cfg.Commands.UnansweredReadBacks(ctx, d)
		if err != nil {
			return sent, err
		}
		rounds := unanswered / 2
		if rounds >= r.cfg.Retry.Attempts {
			_, err = r.cfg.Commands.MoveDevices(ctx, []store.Move{{Device: d, From: store.MigrationUnknown, To: store.MigrationException,
				At: r.cfg.Now(), Cause: fmt.Sprintf("read-back unanswered (%d rounds, both keys)", rounds)}})
		} else {
			err = r.cfg.Commands.DeferDevice(ctx, d, store.MigrationUnknown, r.cfg.Now().Add(r.backoff(int64(rounds))))
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// readOutcome decides what a read-back's answer means. answered is false
// when the device said nothing that can be trusted: the next key is tried.
func (r *Runner) readOutcome(j *job, key string, now time.Time) (s store.Settlement, answered bool) {
	c := j.claimed.Command
	s = store.Settlement{OwnKey: store.OwnKey{Device: c.Device, Counter: c.Counter}, State: store.OwnFailed}
	switch {
	case j.err != nil:
		s.Outcome = "not sent: signing failed: " + j.err.Error()
		return s, false
	case j.sendErr != nil:
		s.Outcome = "no answer: " + j.sendErr.Error()
		return s, false
	case j.reply == nil || j.reply.Response == nil:
		s.Outcome = "no response with the " + key + " key"
		return s, false
	}
	s.Response = j.reply.Response
	m, err := r.verify(c, gbcs.CodeProvideSecurityCredentials, j.reply.Response)
	var res *gbcs.ProvideSecurityCredentialDetailsResponse
	if err == nil {
		res, err = gbcs.ParseProvideSecurityCredentialDetailsResponse(m.Content)
	}
	if err != nil {
		s.Outcome = "response refused: " + err.Error()
		return s, false
	}
	s.State = store.OwnAnswered
	ski, status, found := cellHolds(res)
	from := store.MigrationUnknown
	move := func(to store.MigrationState, cause string) {
		s.Move = &store.Move{Device: c.Device, From: from, To: to, At: now, Cause: "read-back: " + cause, Counter: c.Counter}
	}
	switch {
	case found && status == gbcs.StatusResourcesBusy:
		// Answered, but busy: nothing learnt; ask again later.
		s.Outcome = "read-back: " + statusName(status)
		return s, true
	case !found || status != gbcs.StatusSuccess:
		s.Outcome = fmt.Sprintf("read-back: %s", statusName(status))
		move(store.MigrationException, "the transitionalCoS cell could not be read: "+statusName(status))
	case key == "ecos" && ski == r.ecosSKI:
		s.Outcome = "read-back: ecos"
		move(store.MigrationECoS, "the cell holds the ECoS certificate")
		s.Move.SKI = ski[:]
	case key == "ecos":
		s.Outcome = fmt.Sprintf("read-back: answered the ECoS key but reports SKI %x", ski[:])
		move(store.MigrationException, s.Outcome)
	case ski == r.ecosSKI:
		s.Outcome = "read-back: answered the TCoS key but reports the ECoS SKI"
		move(store.MigrationException, s.Outcome)
	case j.claimed.Attempt > 0:
		// A command went unanswered and did nothing: that attempt failed.
		s.Outcome = "read-back: tcos"
		move(store.MigrationRetryWait, "the cell still holds the TCoS certificate")
		s.Move.SKI = ski[:]
		if j.claimed.Attempt >= int64(r.cfg.Retry.Attempts) {
			s.Move.To, s.Move.Cause = store.MigrationException, fmt.Sprintf("attempts used up (%d): the cell still holds the TCoS certificate", j.claimed.Attempt)
		} else {
			s.Move.Due = now.Add(r.backoff(j.claimed.Attempt))
		}
	default:
		s.Outcome = "read-back: tcos"
		move(store.MigrationTCoS, "the cell holds the TCoS certificate")
		s.Move.SKI = ski[:]
	}
	return s, true
}

// cellHolds finds the transitionalCoS digital-signing cell's SKI in a
// CS02a response.
func cellHolds(res *gbcs.ProvideSecurityCredentialDetailsResponse) (gbcs.KeyID, gbcs.Status, bool) {
	for _, p := range res.Parties {
		if p.Role != gbcs.RoleTransitionalCoS {
			continue
		}
		if p.Status != gbcs.StatusSuccess || p.Credentials == nil {
			return gbcs.KeyID{}, p.Status, true
		}
		for _, c := range p.Credentials.Cells {
			if c.KeyUsage == gbcs.KeyUsageDigitalSignature {
				return c.SubjectKeyID, gbcs.StatusSuccess, true
			}
		}
		return gbcs.KeyID{}, gbcs.StatusTrustAnchorNotFound, true
	}
	return gbcs.KeyID{}, gbcs.StatusOther, false
}
