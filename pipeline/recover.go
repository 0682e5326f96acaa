package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/store"
)

// recoverPage is how many unfinished requests are read at a time.
const recoverPage = 256

// Recover drives every request a previous run left unfinished to a final
// state. Call it once at start, before Submit is reachable and before
// Run: it takes every unfinished request in the store as its own, so two
// processes on one store must not recover at the same time.
//
// What a crash leaves, and what happens to it:
//   - a command recorded as an intent was never sent (sending follows the
//     recorded signature): it is abandoned, its counter stays spent, and
//     the request is checked and signed again with a new counter. This is
//     the one case where a request gets a second command: the store holds
//     every request to one live command, and an intent abandoned unsigned
//     is the only command that is not live;
//   - a command signed but not marked sent never left: it is sent now;
//   - a command marked sent may have reached the device: it is never sent
//     again (the device would refuse the replayed counter anyway) and its
//     request fails with "no response" unless its answer was recorded;
//   - a command that failed after it was signed ends its request with
//     "no response" if the request had not ended yet;
//   - an answer recorded before the crash is delivered to the User.
func (p *Pipeline) Recover(ctx context.Context) error {
	seen := map[store.RequestID]bool{}
	total := 0
	for {
		reqs, err := p.cfg.Requests.UnfinishedRequests(ctx, recoverPage)
		if err != nil {
			return err
		}
		if len(reqs) == 0 {
			if total > 0 {
				p.cfg.Log.Info("recovered unfinished requests", "count", total)
			}
			return nil
		}
		for _, r := range reqs {
			if seen[r.ID] {
				return fmt.Errorf("pipeline: recovery could not finish request %s (state %s); see the log", r.ID, r.State)
			}
			seen[r.ID] = true
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, p.cfg.Workers)
		for _, r := range reqs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				p.recoverOne(ctx, r)
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		total += len(reqs)
	}
}

func (p *Pipeline) recoverOne(ctx context.Context, r store.Request) {
	p.cfg.Log.Info("recovering request", "request_id", r.ID.String(), "state", string(r.State))
	cmds, err := p.cfg.Commands.CommandsForRequest(ctx, r.ID)
	if err != nil {
		p.cfg.Log.Error("recovery: reading commands", "request_id", r.ID.String(), "err", err)
		return
	}
	var last store.Command
	if n := len(cmds); n > 0 {
		last = cmds[n-1]
	}
	switch {
	case len(cmds) == 0:
	case last.State == store.CommandResponded:
		p.recoverAnswered(ctx, r, last)
		return
	case last.State == store.CommandSent:
		p.commandFailed(ctx, r, last, "outcome unknown: the service stopped after sending",
			ecoserr.New(ecoserr.NoResponse, nil, "the service stopped after sending the command; whether the device received it is not known"))
		return
	case last.State == store.CommandSigned:
		unlock := p.lockDevice(r.ID.Target)
		defer unlock()
		if r.State == store.RequestAuthorised {
			if err := p.cfg.Requests.UpdateRequest(ctx, r.ID, store.RequestUpdate{To: store.RequestSigned, At: p.cfg.Now().UTC()}); err != nil {
				p.cfg.Log.Error("recovery: recording signed request", "request_id", r.ID.String(), "err", err)
				return
			}
		}
		p.send(ctx, r, last)
		return
	case last.State == store.CommandIntent:
		if err := p.cfg.Commands.MarkFailed(ctx, last.ID, "never sent: the service stopped while signing", p.cfg.Now().UTC()); err != nil {
			p.cfg.Log.Error("recovery: abandoning intent", "request_id", r.ID.String(), "err", err)
			return
		}
	case !last.SignedAt.IsZero():
		// Failed after it was signed, and the service stopped before the
		// request failed with it: the request has had its one signature
		// (the store refuses another), so it ends here.
		p.fail(ctx, r, ecoserr.New(ecoserr.NoResponse, fmt.Errorf("command %d failed: %s", last.ID, last.Outcome), ""))
		return
	}
	p.reauthorise(ctx, r)
}

// reauthorise takes a request with no command in flight through the
// checks again, from the bytes it arrived as and at the time it arrived:
// an approval cannot be stored, only re-derived. Step 9 is not repeated:
// the request was counted when it arrived (and the counts are rebuilt
// from the store at start), or held and then released by a decision that
// stands.
func (p *Pipeline) reauthorise(ctx context.Context, r store.Request) {
	if r.State != store.RequestReceived && r.State != store.RequestAuthorised {
		p.fail(ctx, r, ecoserr.New(ecoserr.Internal, fmt.Errorf("request in state %s has no command to finish", r.State), ""))
		return
	}
	_, v, err := p.verify(r.Document, r.ReceivedAt)
	if err != nil {
		p.fail(ctx, r, err)
		return
	}
	approved, _, decision := p.cfg.Authoriser.Authorise(ctx, *v)
	if decision != nil {
		p.fail(ctx, r, decision)
		return
	}
	if r.State == store.RequestReceived {
		if err := p.cfg.Requests.UpdateRequest(ctx, r.ID, store.RequestUpdate{To: store.RequestAuthorised, At: p.cfg.Now().UTC()}); err != nil {
			p.cfg.Log.Error("recovery: recording authorised request", "request_id", r.ID.String(), "err", err)
			return
		}
	}
	p.process(ctx, job{req: r, approved: approved})
}

// recoverAnswered delivers an answer recorded just before a crash.
func (p *Pipeline) recoverAnswered(ctx context.Context, r store.Request, c store.Command) {
	m, err := gbcs.ParseMessage(c.Response)
	var res *gbcs.UpdateSecurityCredentialsResponse
	if err == nil {
		res, err = gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	}
	if err != nil {
		p.fail(ctx, r, ecoserr.New(ecoserr.Internal, fmt.Errorf("recorded response no longer parses: %w", err), ""))
		return
	}
	p.respond(ctx, r, c, m, res, c.Response)
}
