package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/every"
	"github.com/ecos-cos/ecos/store"
)

// DefaultHoldFor is how long a quarantined request is held when
// Config.HoldFor is zero: a week, long enough for a User to look into an
// anomaly over a weekend.
const DefaultHoldFor = 7 * 24 * time.Hour

// holdExpiryEvery is how often held requests are checked for expiry.
const holdExpiryEvery = time.Minute

// screen is step 9 for an authorised request: counted is true when the
// counter counted it, so that a request that then fails to be recorded
// can be taken back out.
func (p *Pipeline) screen(id store.RequestID, refusal error, at time.Time) (anomaly.Decision, bool) {
	if refusal != nil || p.cfg.Anomaly == nil {
		return anomaly.Decision{}, false
	}
	d := p.cfg.Anomaly.Check(id.Originator, p.srvCoS, at)
	return d, d.Outcome != anomaly.Quarantine
}

// costMeter adds up the time spent in one step.
type costMeter struct{ n, ns atomic.Int64 }

func (m *costMeter) add(d time.Duration) {
	m.n.Add(1)
	m.ns.Add(int64(d))
}

// ScreenCost is the total time step 9 took, and over how many requests,
// since the pipeline started; it includes two clock readings per request.
func (p *Pipeline) ScreenCost() (time.Duration, int64) {
	return time.Duration(p.screenCost.ns.Load()), p.screenCost.n.Load()
}

func (p *Pipeline) uncount(d anomaly.Decision, counted bool) {
	if counted {
		p.cfg.Anomaly.Cancel(d)
	}
}

// hold turns rec into a held request: a QuarantineEventRef, reserved
// durably first so that it can go into the signed alert stored with the
// request, and that alert.
func (p *Pipeline) hold(ctx context.Context, rec *store.Received, d anomaly.Decision) error {
	ref, err := p.cfg.Holds.ReserveCounter(ctx, store.QuarantineRefCounter)
	if err != nil {
		return fmt.Errorf("pipeline: reserving a QuarantineEventRef for %s: %w", rec.ID, err)
	}
	breach, scope := duis.UserThresholdBreach, store.BreachUser
	if d.Scope == anomaly.DCCScope {
		breach, scope = duis.DCCThresholdBreach, store.BreachDCC
	}
	alert := duis.NewDCCAlert(duis.DCCAlertCode(AlertCodeQuarantine), rec.At,
		&duis.QuarantinedRequest{Breach: breach, RequestID: duis.RequestID(rec.ID), QuarantineEventRef: ref})
	doc, err := p.signDocument(alert)
	if err != nil {
		return err
	}
	rec.Hold = &store.Hold{
		Ref: ref, User: rec.ID.Originator, SRV: d.Rule.SRV, Breach: scope,
		Interval: d.Rule.Interval, Warning: d.Rule.Warning, Quarantine: d.Rule.Quarantine, Count: d.Count,
		ExpiresAt: rec.At.Add(p.cfg.HoldFor),
		Alert:     &store.Response{Kind: store.ResponseAlert, Code: AlertCodeQuarantine, Document: doc, CreatedAt: rec.At},
	}
	rec.State = store.RequestQuarantined
	return nil
}

// AlertCodeQuarantine is the DUIS DCCAlertCode of the QuarantinedRequest
// alert: the code DUIS gives anomaly detection.
const AlertCodeQuarantine = "AD1"

// noteVerdict tells the operator about a warning or a hold: the User
// hears of a hold through its alert; a warning is for the operator to
// take up with the User (the TADP's User Warning Threshold).
func (p *Pipeline) noteVerdict(id store.RequestID, party string, d anomaly.Decision) {
	if d.Outcome == anomaly.Admit {
		return
	}
	outcome := "warning"
	if d.Outcome == anomaly.Quarantine {
		outcome = "quarantined"
	}
	scope := d.Scope.String() // "user" or "dcc"
	p.metrics.anomaly(outcome, scope)
	attrs := []any{"request_id", id.String(), "originator", id.Originator.String(), "party", party,
		"outcome", outcome, "scope", scope, "srv", d.Rule.SRV, "interval_minutes", d.Rule.Interval,
		"warning", d.Rule.Warning, "quarantine", d.Rule.Quarantine, "count", d.Count}
	p.cfg.Audit.Info("anomaly detection threshold crossed", attrs...)
	p.cfg.Log.Warn("anomaly detection threshold crossed", attrs...)
}

// HoldAction is one instruction about a held request.
type HoldAction struct {
	Ref     uint64
	Release bool // false: delete
}

// DecideHolds releases or deletes held requests, all or none: every ref
// must be held (and, if user is not nil, be that User's), or nothing
// changes and the error names each ref that is not. A released request
// resumes at step 10 and is counted again at the time it arrived; a
// deleted one is rejected and its User told with a signed response. by
// says who decided, for the record.
func (p *Pipeline) DecideHolds(ctx context.Context, user *eui.EUI, actions []HoldAction, by string) ([]store.Held, error) {
	if len(actions) == 0 {
		return nil, ecoserr.New(ecoserr.Malformed, errors.New("no actions"), "no QuarantineEventRef to act on")
	}
	now := p.cfg.Now().UTC()
	ds := make([]store.HoldDecision, 0, len(actions))
	for _, a := range actions {
		if a.Release {
			ds = append(ds, store.HoldDecision{Ref: a.Ref, To: store.HoldReleased})
			continue
		}
		h, err := p.cfg.Holds.Hold(ctx, a.Ref)
		if errors.Is(err, store.ErrNotFound) {
			// No response to sign: the store refuses the ref, naming it
			// with every other bad one.
			ds = append(ds, store.HoldDecision{Ref: a.Ref, To: store.HoldDeleted})
			continue
		}
		if err != nil {
			return nil, err
		}
		d, err := p.deletion(h, ecoserr.QuarantineDeleted, store.HoldDeleted, now)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	held, err := p.cfg.Holds.DecideHolds(ctx, user, ds, now, by)
	if err != nil {
		return nil, err
	}
	p.settle(ctx, held, by)
	return held, nil
}

// deletion is the decision that deletes h with reason r, with the signed
// response that tells its User.
func (p *Pipeline) deletion(h store.Held, r ecoserr.Reason, to store.HoldState, at time.Time) (store.HoldDecision, error) {
	code := p.codes.Code(r)
	d := store.HoldDecision{Ref: h.Ref, To: to, Reason: r.Name(), ResponseCode: code}
	doc, err := p.serviceResponse(duis.RequestID(h.Request), nil, duis.ResponseCode(code), at, nil)
	if err != nil {
		return d, err
	}
	d.Response = &store.Response{Kind: store.ResponseService, Code: code, Document: doc, CreatedAt: at}
	return d, nil
}

// settle carries out decisions the store has recorded: released requests
// are counted and go on to be signed and sent (a crash before that leaves
// them authorised, for Recover); deleted ones are final.
func (p *Pipeline) settle(ctx context.Context, held []store.Held, by string) {
	var released []store.Held
	for _, h := range held {
		p.cfg.Audit.Info("quarantined request "+string(h.State), "request_id", h.Request.String(), "originator", h.User.String(),
			"party", h.Party, "quarantine_event_ref", h.Ref, "outcome", string(h.State), "by", by)
		p.metrics.holdDecided(h.State)
		if h.State != store.HoldReleased {
			p.metrics.finished(store.RequestRejected)
			p.waiters.finish(h.Request)
			continue
		}
		if p.cfg.Anomaly != nil {
			if srv, ok := anomaly.SRVOf(h.SRV); ok {
				p.cfg.Anomaly.Count(h.User, srv, h.HeldAt)
			}
		}
		released = append(released, h)
	}
	p.notify()
	if len(released) == 0 {
		return
	}
	// The decision's own context ends with its HTTP request; the work it
	// started must not. Run waits for it before returning.
	ctx = context.WithoutCancel(ctx)
	p.released.Go(func() {
		for _, h := range released {
			r, err := p.cfg.Requests.Request(ctx, h.Request)
			if err != nil {
				p.cfg.Log.Error("released request", "request_id", h.Request.String(), "err", err)
				continue
			}
			p.reauthorise(ctx, r)
		}
	})
}

// expireHolds deletes held requests whose hold has run out.
func (p *Pipeline) expireHolds(ctx context.Context) {
	every.Run(ctx, holdExpiryEvery, func(ctx context.Context) error {
		_, err := p.ExpireHolds(ctx)
		return err
	}, func(err error) { p.cfg.Log.Error("expiring held requests", "err", err) })
}

// ExpireHolds deletes every held request whose hold has run out, telling
// each User, and returns how many it deleted. One hold at a time: one
// released meanwhile is skipped, not a reason to expire none.
func (p *Pipeline) ExpireHolds(ctx context.Context) (int, error) {
	n := 0
	for {
		now := p.cfg.Now().UTC()
		due, err := p.cfg.Holds.ExpiredHolds(ctx, now, 256)
		if err != nil || len(due) == 0 {
			return n, err
		}
		progress := false
		for _, h := range due {
			d, err := p.deletion(h, ecoserr.QuarantineExpired, store.HoldExpired, now)
			if err != nil {
				return n, err
			}
			held, err := p.cfg.Holds.DecideHolds(ctx, nil, []store.HoldDecision{d}, now, "expiry")
			if errors.Is(err, store.ErrTransition) || errors.Is(err, store.ErrNotFound) {
				continue // decided meanwhile
			}
			if err != nil {
				return n, err
			}
			p.settle(ctx, held, "expiry")
			n++
			progress = true
		}
		if !progress {
			return n, nil
		}
	}
}
