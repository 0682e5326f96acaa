package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// process is steps 10 to 12 for one approved request. It never gives up
// silently: the request ends responded or failed, or, if the store itself
// fails, stays where it is for recovery to finish.
func (p *Pipeline) process(ctx context.Context, j job) {
	// Work in hand is finished even when the service is stopping: the
	// command may already be signed, and its answer must be recorded.
	ctx = context.WithoutCancel(ctx)
	defer func() {
		if j.done != nil {
			close(j.done)
		}
	}()
	// A device refuses a counter lower than one it has seen: commands for
	// one device are signed and sent one at a time, in counter order. A
	// migration command in flight holds the lease until its outcome is
	// recorded: the request waits for it.
	unlock := p.lockDevice(j.req.ID.Target)
	defer unlock()
	// The migration may have changed the key the device trusts, or lost
	// track of it, since the request was authorised.
	if err := p.cfg.Authoriser.Recheck(ctx, j.approved); err != nil {
		p.fail(ctx, j.req, err)
		return
	}
	if j.req.Cancel {
		// Another supplier's change may have become pending on the device
		// since this cancellation was authorised; signed now, it would
		// drop that change too.
		if err := p.cfg.Authoriser.StillOwns(ctx, j.req.ID, j.req.Party); err != nil {
			p.fail(ctx, j.req, err)
			return
		}
	}
	t := time.Now()
	signed, err := p.cfg.Signer.SignCoS(ctx, j.approved)
	p.metrics.stage("sign", t)
	if errors.Is(err, authorise.ErrRedeemed) || errors.Is(err, store.ErrLiveCommand) {
		// Signed, or being signed, by another path: the request is that
		// path's to finish (or recovery's, if it died). Failing it here
		// would answer the User while its command may be on its way.
		p.cfg.Log.Error("second signature refused", "request_id", j.req.ID.String(), "err", err)
		return
	}
	if err != nil {
		p.fail(ctx, j.req, ecoserr.New(ecoserr.Internal, err, ""))
		return
	}
	// The signer's MarkSigned moved the request to signed with its command.
	c := store.Command{ID: signed.Command, Intent: store.Intent{RequestID: j.req.ID, Device: j.req.ID.Target, Counter: signed.Counter, KeyID: signed.KeyID},
		State: store.CommandSigned, Frame: signed.Frame}
	p.send(ctx, j.req, c)
}

// send dispatches a signed command and settles its request with whatever
// comes back. The command is marked sent before it leaves: after a crash a
// command still "signed" certainly never reached the network and may be
// sent then, while a "sent" one may have, and is never sent again.
func (p *Pipeline) send(ctx context.Context, req store.Request, c store.Command) {
	now := p.cfg.Now().UTC()
	// MarkSent moves the request to sent with its command.
	if err := p.cfg.Commands.MarkSent(ctx, c.ID, now); err != nil {
		p.cfg.Log.Error("recording command sent", "request_id", req.ID.String(), "command_id", int64(c.ID), "err", err)
		return
	}
	p.cfg.Audit.Info("dispatching cs02b", "request_id", req.ID.String(), "originator", req.ID.Originator.String(),
		"target", c.Device.String(), "counter", c.Counter, "key_id", c.KeyID, "command_id", int64(c.ID), "outcome", "sent")
	t := time.Now()
	sendCtx, cancel := context.WithTimeout(ctx, p.cfg.DeviceTimeout)
	reply, err := p.cfg.Gateway.Send(sendCtx, c.Frame)
	cancel()
	p.metrics.stage("dispatch", t)
	switch {
	case errors.Is(err, dispatch.ErrUnreachable):
		// The device never saw the counter: the command was not sent.
		p.commandFailed(ctx, req, c, "not sent: "+err.Error(), ecoserr.New(ecoserr.DeviceUnreachable, err, ""))
	case errors.Is(err, dispatch.ErrUnreadable):
		p.commandFailed(ctx, req, c, "sent, reply unreadable: "+err.Error(), ecoserr.New(ecoserr.ResponseUnverifiable, err, ""))
	case err != nil:
		p.commandFailed(ctx, req, c, "no answer: "+err.Error(), ecoserr.New(ecoserr.NoResponse, err, ""))
	case reply.Response == nil:
		p.commandFailed(ctx, req, c, "no response: "+reply.NoResponseReason, ecoserr.New(ecoserr.NoResponse, errors.New(reply.NoResponseReason), ""))
	default:
		p.correlate(ctx, req, c, reply.Response)
	}
}

// commandFailed abandons c (its counter stays spent) and fails req.
func (p *Pipeline) commandFailed(ctx context.Context, req store.Request, c store.Command, why string, cause error) {
	if err := p.cfg.Commands.MarkFailed(ctx, c.ID, why, p.cfg.Now().UTC()); err != nil && !errors.Is(err, store.ErrTransition) {
		p.cfg.Log.Error("recording command failure", "request_id", req.ID.String(), "command_id", int64(c.ID), "err", err)
		return
	}
	msg, outcome := "cs02b not answered", "failed"
	if ecoserr.ReasonOf(cause) == ecoserr.DeviceUnreachable {
		msg, outcome = "cs02b not sent", "not-sent"
	}
	p.cfg.Audit.Info(msg, "request_id", req.ID.String(), "originator", req.ID.Originator.String(),
		"target", c.Device.String(), "counter", c.Counter, "key_id", c.KeyID, "command_id", int64(c.ID), "outcome", outcome, "why", why)
	p.fail(ctx, req, cause)
}

// fail ends req in state failed with a signed response carrying cause's
// code. The response and the state move are one transaction.
func (p *Pipeline) fail(ctx context.Context, req store.Request, cause error) {
	r := ecoserr.ReasonOf(cause)
	code := p.codes.Code(r)
	now := p.cfg.Now().UTC()
	doc, err := p.serviceResponse(duis.RequestID(req.ID), nil, duis.ResponseCode(code), now, nil)
	if err != nil {
		p.cfg.Log.Error("signing failure response", "request_id", req.ID.String(), "err", err)
		return
	}
	err = p.cfg.Requests.UpdateRequest(ctx, req.ID, store.RequestUpdate{To: store.RequestFailed, Reason: r.Name(), ResponseCode: code, At: now,
		Response: &store.Response{Kind: store.ResponseService, Code: code, Document: doc, CreatedAt: now}})
	if err != nil {
		p.cfg.Log.Error("recording request failure", "request_id", req.ID.String(), "err", err)
		return
	}
	p.cfg.Log.Warn("request failed", "request_id", req.ID.String(), "reason", r.Name(), "code", code, "err", cause.Error())
	p.metrics.finished(store.RequestFailed)
	p.waiters.finish(req.ID)
	p.notify()
}

// lockDevice waits for the device's lease (ctx is never cancelled here:
// work in hand is finished).
func (p *Pipeline) lockDevice(d eui.EUI) (unlock func()) {
	_ = p.cfg.Leases.Acquire(context.Background(), d)
	return func() { p.cfg.Leases.Release(d) }
}
