package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/every"
	"github.com/ecos-cos/ecos/store"
)

// alertPoll is how often the gateway is asked for device alerts;
// alertBackoffMax is the longest it is left alone while it fails.
const (
	alertPoll       = time.Second
	alertBackoffMax = time.Minute
)

// collectAlerts forwards future-dated execution alerts until ctx ends. A
// gateway that is down is asked less and less often, not every second.
func (p *Pipeline) collectAlerts(ctx context.Context) {
	every.RunBackoff(ctx, alertPoll, every.Backoff{Max: alertBackoffMax, Jitter: p.jitter}, p.PollAlerts,
		func(err error, retryIn time.Duration) {
			p.cfg.Log.Error("collecting device alerts", "err", err, "retry_in", retryIn.Round(time.Millisecond).String())
		})
}

// jitter is a number in [0, 1) from the configured randomness; 0 if it
// cannot be read.
func (p *Pipeline) jitter() float64 {
	var b [8]byte
	if _, err := io.ReadFull(p.cfg.Rand, b[:]); err != nil {
		return 0
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
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
// names the command by the counter in its execution outcome, and goes to
// the User as DUIS's FutureDatedDeviceAlertMessage, its store code the
// alert code (8F66 or 8F67).
func (p *Pipeline) alert(ctx context.Context, frame []byte) error {
	m, a, err := p.checkAlert(frame)
	if err != nil {
		return err
	}
	c, err := p.cfg.Commands.CommandByCounter(ctx, m.Originator, a.Outcome.SeqNumber)
	if err != nil {
		return fmt.Errorf("alert from %s for counter %d: %w", m.Originator, a.Outcome.SeqNumber, err)
	}
	if c.RequestID.IsZero() {
		return nil // one of the party's own commands (migration): not a User's business
	}
	req, err := p.cfg.Requests.Request(ctx, c.RequestID)
	if err != nil {
		return err
	}
	prior, err := p.cfg.Requests.Responses(ctx, req.ID)
	if err != nil {
		return err
	}
	code := duis.FutureDatedAlertCode(a.AlertCode)
	for _, r := range prior {
		// A request's other alerts (its quarantine's) are not this one.
		if r.Kind == store.ResponseAlert && isFutureDatedAlert(r.Code) {
			return nil // delivered twice by the network: forward once
		}
	}
	now := p.cfg.Now().UTC()
	responseID := duis.RequestID{Originator: m.Originator, Target: req.ID.Originator, Counter: m.Counter}
	doc, err := p.signDocument(duis.NewFutureDatedDeviceAlert(duis.RequestID(req.ID), responseID, now, code, frame))
	if err != nil {
		return err
	}
	if _, err := p.cfg.Requests.AddResponse(ctx, store.Response{RequestID: req.ID, Kind: store.ResponseAlert, Code: code.String(), Document: doc, CreatedAt: now}); err != nil {
		return err
	}
	outcome := outcomeSummary(&a.Outcome)
	p.cfg.Audit.Info("cs02b executed", "request_id", req.ID.String(), "originator", req.ID.Originator.String(),
		"target", c.Device.String(), "counter", c.Counter, "key_id", c.KeyID, "command_id", int64(c.ID),
		"outcome", outcome, "alert_code", a.AlertCode.String())
	if a.AlertCode == gbcs.AlertFutureDatedSuccess && allSucceeded(&a.Outcome) && req.Party != "" {
		if err := p.cfg.Commands.NoteSupplier(ctx, c.Device, req.Party, a.ExecutionDateTime); err != nil {
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
	if !duis.FutureDatedAlertCode(a.AlertCode).Valid() {
		return nil, nil, fmt.Errorf("alert from %s has alert code %04X, not a future-dated outcome (8F66 or 8F67)", m.Originator, uint16(a.AlertCode))
	}
	return m, a, nil
}

// isFutureDatedAlert reports whether a stored alert's code is a
// future-dated outcome's (8F66, 8F67) rather than a DCC alert's (AD1).
func isFutureDatedAlert(code string) bool {
	return code == duis.FutureDatedSuccess.String() || code == duis.FutureDatedFailure.String()
}
