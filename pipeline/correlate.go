package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/store"
)

// correlate is step 12 for an immediate reply: check that frame is the
// signed answer to c from c's device, record it, tell the User and, on
// success, note the device's new supplier.
func (p *Pipeline) correlate(ctx context.Context, req store.Request, c store.Command, frame []byte) {
	t := time.Now()
	m, res, err := p.checkResponse(c, frame)
	p.metrics.stage("correlate", t)
	if err != nil {
		// Not an answer we can trust, but the frame reached the device,
		// which may have carried it out: the User is told so.
		p.cfg.Log.Warn("device response refused", "request_id", req.ID.String(), "device", c.Device.String(), "counter", c.Counter, "err", err)
		p.commandFailed(ctx, req, c, "response refused: "+err.Error(), ecoserr.New(ecoserr.ResponseUnverifiable, err, ""))
		return
	}
	now := p.cfg.Now().UTC()
	doc, err := p.answerDocument(req, m, frame, now)
	if err != nil {
		p.cfg.Log.Error("signing service response", "request_id", req.ID.String(), "err", err)
		return
	}
	// The answer, the User's response, the request's move and the
	// device's new supplier are one commit.
	_, err = p.cfg.Commands.RecordAnswer(ctx, store.Answer{Device: c.Device, Counter: c.Counter, Frame: frame, Outcome: summarise(res), At: now,
		Request: answeredUpdate(doc, now), Supplier: newSupplier(req, res)})
	if err != nil {
		p.cfg.Log.Error("recording device response", "request_id", req.ID.String(), "command_id", int64(c.ID), "err", err)
		return
	}
	p.answered(req, c, res)
}

// respond finishes a request whose command's answer was recorded before
// a crash: it tells the User and moves the request to responded (one
// transaction), then notes the device's new supplier.
func (p *Pipeline) respond(ctx context.Context, req store.Request, c store.Command, m *gbcs.Message, res *gbcs.UpdateSecurityCredentialsResponse, frame []byte) {
	now := p.cfg.Now().UTC()
	doc, err := p.answerDocument(req, m, frame, now)
	if err != nil {
		p.cfg.Log.Error("signing service response", "request_id", req.ID.String(), "err", err)
		return
	}
	if err := p.cfg.Requests.UpdateRequest(ctx, req.ID, *answeredUpdate(doc, now)); err != nil {
		p.cfg.Log.Error("recording request answered", "request_id", req.ID.String(), "err", err)
		return
	}
	if party := newSupplier(req, res); party != "" {
		if err := p.cfg.Commands.NoteSupplier(ctx, c.Device, party, now); err != nil {
			p.cfg.Log.Error("noting new supplier", "request_id", req.ID.String(), "device", c.Device.String(), "err", err)
		}
	}
	p.answered(req, c, res)
}

// answerDocument is the signed DUIS response carrying the device's answer.
func (p *Pipeline) answerDocument(req store.Request, m *gbcs.Message, frame []byte, now time.Time) ([]byte, error) {
	responseID := duis.RequestID{Originator: m.Originator, Target: req.ID.Originator, Counter: m.Counter}
	return p.serviceResponse(duis.RequestID(req.ID), &responseID, duis.ResponseSuccess, now, frame)
}

func answeredUpdate(doc []byte, now time.Time) *store.RequestUpdate {
	code := string(duis.ResponseSuccess)
	return &store.RequestUpdate{To: store.RequestResponded, ResponseCode: code, At: now,
		Response: &store.Response{Kind: store.ResponseService, Code: code, Document: doc, CreatedAt: now}}
}

// newSupplier is the party the device now belongs to: the requester, if
// every replacement succeeded; "" otherwise.
func newSupplier(req store.Request, res *gbcs.UpdateSecurityCredentialsResponse) string {
	if res.Outcome != nil && allSucceeded(res.Outcome) {
		return req.Party
	}
	return ""
}

// answered is what follows a recorded answer: the audit record, the
// metrics and whoever waits for the request.
func (p *Pipeline) answered(req store.Request, c store.Command, res *gbcs.UpdateSecurityCredentialsResponse) {
	p.cfg.Audit.Info("cs02b answered", "request_id", req.ID.String(), "originator", req.ID.Originator.String(),
		"target", c.Device.String(), "counter", c.Counter, "key_id", c.KeyID, "command_id", int64(c.ID), "outcome", summarise(res))
	p.metrics.finished(store.RequestResponded)
	p.waiters.finish(req.ID)
	p.notify()
}

// checkResponse parses frame and checks it answers c: a signed CS02b
// response from c's device, to our counter, under the device's key.
func (p *Pipeline) checkResponse(c store.Command, frame []byte) (*gbcs.Message, *gbcs.UpdateSecurityCredentialsResponse, error) {
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case m.CRA != gbcs.CRAResponse:
		return nil, nil, fmt.Errorf("CRA flag %s, want response", m.CRA)
	case m.Originator != c.Device:
		return nil, nil, fmt.Errorf("response from %s to a command for %s", m.Originator, c.Device)
	case m.Counter != c.Counter:
		return nil, nil, fmt.Errorf("response counter %d, command counter %d", m.Counter, c.Counter)
	case !m.Code.IsCS02b():
		return nil, nil, fmt.Errorf("message code %s is not a CS02b response", m.Code)
	}
	if err := p.verifyDevice(m); err != nil {
		return nil, nil, err
	}
	res, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	if err != nil {
		return nil, nil, err
	}
	return m, res, nil
}

// verifyDevice checks that m carries its originating device's signature.
func (p *Pipeline) verifyDevice(m *gbcs.Message) error {
	if m.Sig != gbcs.SigPresent {
		return fmt.Errorf("%s from %s is not signed", m.CRA, m.Originator)
	}
	pub, err := p.cfg.DeviceKeys.DeviceKey(m.Originator)
	if err != nil {
		return err
	}
	if err := m.Verify(pub); err != nil {
		return fmt.Errorf("%s from %s: %w", m.CRA, m.Originator, err)
	}
	return nil
}

// summarise is the command log's one-line outcome.
func summarise(res *gbcs.UpdateSecurityCredentialsResponse) string {
	if res.Outcome == nil {
		return "accepted"
	}
	return outcomeSummary(res.Outcome)
}

func outcomeSummary(o *gbcs.ExecutionOutcome) string {
	if allSucceeded(o) {
		return "success"
	}
	var parts []string
	for _, c := range o.Outcomes {
		parts = append(parts, fmt.Sprintf("%s/%s:%s", c.Cell.KeyUsage, c.Cell.Usage, c.Status))
	}
	return "partial: " + strings.Join(parts, ", ")
}

func allSucceeded(o *gbcs.ExecutionOutcome) bool {
	if len(o.Outcomes) == 0 {
		return false
	}
	for _, c := range o.Outcomes {
		if c.Status != gbcs.StatusSuccess {
			return false
		}
	}
	return true
}
