package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/every"
	"github.com/ecos-cos/ecos/store"
)

// alertPoll is how often the gateway is asked for device alerts.
const alertPoll = time.Second

// collectAlerts forwards future-dated execution alerts until ctx ends.
func (p *Pipeline) collectAlerts(ctx context.Context) {
	every.Run(ctx, alertPoll, p.PollAlerts, func(err error) { p.cfg.Log.Error("collecting device alerts", "err", err) })
}

// PollAlerts collects the gateway's device alerts once and forwards each
// to the User whose request the alerted command served.
func (p *Pipeline) PollAlerts(ctx context.Context) error {
	frames, err := p.cfg.Gateway.Alerts(ctx)
	if err != nil {
		return err
	}
	for _, f := range frames {
		if err := p.alert(context.WithoutCancel(ctx), f); err != nil {
			p.cfg.Log.Warn("device alert not forwarded", "err", err)
		}
	}
	return nil
}

// alert is step 12 for a future-dated command: the device's 0x00CB alert
// names the command by the counter in its execution outcome.
func (p *Pipeline) alert(ctx context.Context, frame []byte) error {
	m, a, err := p.checkAlert(frame)
	if err != nil {
		return err
	}
	c, err := p.cfg.Store.CommandByCounter(ctx, m.Originator, a.Outcome.SeqNumber)
	if err != nil {
		return fmt.Errorf("alert from %s for counter %d: %w", m.Originator, a.Outcome.SeqNumber, err)
	}
	if c.RequestID.IsZero() {
		return nil // one of the party's own commands (migration): not a User's business
	}
	req, err := p.cfg.Store.Request(ctx, c.RequestID)
	if err != nil {
		return err
	}
	prior, err := p.cfg.Store.Responses(ctx, req.ID)
	if err != nil {
		return err
	}
	for _, r := range prior {
		if r.Kind == store.ResponseAlert {
			return nil // delivered twice by the network: forward once
		}
	}
	now := p.cfg.Now().UTC()
	responseID := duis.RequestID{Originator: m.Originator, Target: req.ID.Originator, Counter: m.Counter}
	code := string(duis.ResponseSuccess)
	doc, err := p.serviceResponse(duis.RequestID(req.ID), &responseID, duis.ResponseSuccess, now, frame)
	if err != nil {
		return err
	}
	if _, err := p.cfg.Store.AddResponse(ctx, store.Response{RequestID: req.ID, Kind: store.ResponseAlert, Code: code, Document: doc, CreatedAt: now}); err != nil {
		return err
	}
	outcome := outcomeSummary(&a.Outcome)
	p.cfg.Audit.Info("cs02b executed", "request_id", req.ID.String(), "originator", req.ID.Originator.String(),
		"target", c.Device.String(), "counter", c.Counter, "key_id", c.KeyID, "command_id", int64(c.ID),
		"outcome", outcome, "alert_code", a.AlertCode.String())
	if a.AlertCode == gbcs.AlertFutureDatedSuccess && allSucceeded(&a.Outcome) && req.Party != "" {
		if err := p.cfg.Store.NoteSupplier(ctx, c.Device, req.Party, a.ExecutionDateTime); err != nil {
			return err
		}
	}
	p.notify()
	return nil
}

func (p *Pipeline) checkAlert(frame []byte) (*gbcs.Message, *gbcs.UpdateSecurityCredentialsAlert, error) {
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case m.CRA != gbcs.CRAAlert:
		return nil, nil, fmt.Errorf("CRA flag %s, want alert", m.CRA)
	case m.Code != gbcs.CodeFutureDatedAlert:
		return nil, nil, fmt.Errorf("alert code %s is not a future-dated CS02b alert", m.Code)
	}
	if err := p.verifyDevice(m); err != nil {
		return nil, nil, err
	}
	a, err := gbcs.ParseUpdateSecurityCredentialsAlert(m.Content)
	if err != nil {
		return nil, nil, err
	}
	return m, a, nil
}
