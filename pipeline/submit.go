package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/intake"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// Ack is the synchronous answer to a submitted request: a signed DUIS
// acknowledgement, I99 when the request was accepted for processing or
// the code it was refused with.
type Ack struct {
	Document  []byte
	Accepted  bool
	Code      duis.ResponseCode
	RequestID *duis.RequestID // nil when the request's ID could not be read
	// Err is the refusal, an *ecoserr.Error; nil when accepted.
	Err error
	// QuarantineRef is the QuarantineEventRef of an accepted request held
	// by anomaly detection; 0 when it was not held.
	QuarantineRef uint64
}

// Submit runs steps 1 to 9 on raw, the bytes a User posted, and answers
// synchronously. An accepted request is durably recorded before Submit
// returns and is then signed and sent in the background. A refusal after
// the signature check is recorded too (its counter is spent, as DCC
// does); a request whose signature does not verify changes nothing. The
// error is for internal failures only: no acknowledgement could be made.
func (p *Pipeline) Submit(ctx context.Context, raw []byte) (*Ack, error) {
	return p.submit(ctx, raw, nil)
}

// ErrNotOriginator is SubmitFrom's refusal of a request whose RequestID
// originator is not the User that sent it.
var ErrNotOriginator = errors.New("pipeline: the RequestID's originator is not the User that sent the request")

// SubmitFrom is Submit for a request known to come from the User from
// (by its TLS client certificate). A request whose RequestID originator is
// another User is refused with ErrNotOriginator before anything is
// recorded or counted, whether or not its signature verifies: a User
// cannot spend another's counters or hold another's thresholds.
func (p *Pipeline) SubmitFrom(ctx context.Context, raw []byte, from eui.EUI) (*Ack, error) {
	return p.submit(ctx, raw, &from)
}

func (p *Pipeline) submit(ctx context.Context, raw []byte, from *eui.EUI) (*Ack, error) {
	start := time.Now()
	at := p.cfg.Now().UTC()
	req, v, err := p.verify(raw, at)
	if from != nil && req != nil && req.Header.RequestID.Originator != *from {
		return nil, fmt.Errorf("%w: %s sent %s", ErrNotOriginator, from, req.Header.RequestID)
	}
	if err != nil {
		return p.refuseUnrecorded(req, err, at)
	}
	id := store.RequestID(req.Header.RequestID)
	p.metrics.stage("verify", start)

	t := time.Now()
	approved, mpid, decision := p.cfg.Authoriser.Authorise(ctx, *v)
	p.metrics.stage("authorise", t)
	if ecoserr.ReasonOf(decision) == ecoserr.Internal {
		return nil, decision
	}
	rec := store.Received{ID: id, At: at, Document: raw, State: store.RequestAuthorised, MPID: mpidRecord(mpid)}
	body := req.UpdateSecurityCredentialsCoS
	rec.Cancel = cosbuild.IsCancellation(body)
	if body.ExecutionDateTime != nil && !rec.Cancel {
		rec.ExecuteAt = *body.ExecutionDateTime
	}
	if approved != nil {
		rec.Party = approved.Party()
	} else if mpid != nil {
		rec.Party = mpid.Party
	}
	code := duis.ResponseAcknowledged
	if decision != nil {
		rec.State = store.RequestRejected
		rec.Reason = ecoserr.ReasonOf(decision).Name()
		code = duis.ResponseCode(p.codes.Code(ecoserr.ReasonOf(decision)))
		rec.ResponseCode = string(code)
	}
	// Step 9 comes after every check that can refuse, so only requests
	// that would otherwise go to the device are counted.
	t = time.Now()
	verdict, counted := p.screen(id, decision, at)
	p.screenCost.add(time.Since(t))
	if verdict.Outcome == anomaly.Quarantine {
		// A hold reserves a QuarantineEventRef durably: not for a request
		// the replay guard is about to refuse. (Two racing with one counter
		// may still both get here; RecordRequest refuses the loser.)
		if last, seen, err := p.cfg.Requests.LastAcceptedCounter(ctx, id.Originator, id.Target); err != nil {
			return nil, err
		} else if seen && id.Counter <= last {
			return p.refuseUnrecorded(req, ecoserr.New(ecoserr.Replay, fmt.Errorf("%w: %s, last accepted %d", store.ErrReplay, id, last), ""), at)
		}
		if err := p.hold(ctx, &rec, verdict); err != nil {
			return nil, err
		}
	}
	doc, err := p.acknowledgement(&req.Header.RequestID, code, at)
	if err != nil {
		p.uncount(verdict, counted)
		return nil, err
	}
	rec.Response = &store.Response{Kind: store.ResponseAcknowledgement, Code: string(code), Document: doc, CreatedAt: at, PushedAt: at}
	err = p.cfg.Requests.RecordRequest(ctx, rec)
	if err != nil {
		// Not recorded, so not counted: a replayed request must not use
		// up its sender's threshold.
		p.uncount(verdict, counted)
	}
	if errors.Is(err, store.ErrReplay) {
		// Step 3 comes before the checks: a replay is refused as a replay
		// whatever they said, and nothing is recorded.
		return p.refuseUnrecorded(req, ecoserr.New(ecoserr.Replay, err, ""), at)
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: recording request %s: %w", id, err)
	}
	p.auditDecision(id, rec, decision)
	p.noteVerdict(id, rec.Party, verdict)
	ack := &Ack{Document: doc, Accepted: decision == nil, Code: code, RequestID: &req.Header.RequestID, Err: decision}
	if decision != nil {
		p.metrics.refused(ecoserr.ReasonOf(decision))
		p.metrics.finished(store.RequestRejected)
		p.waiters.finish(id)
		return ack, nil
	}
	if rec.Hold != nil {
		ack.QuarantineRef = rec.Hold.Ref
		p.metrics.refused(ecoserr.Quarantined)
		p.notify() // the alert is waiting to be pushed
		return ack, nil
	}
	p.metrics.accepted()
	stored := store.Request{ID: id, State: store.RequestAuthorised, ReceivedAt: at, Party: rec.Party, ExecuteAt: rec.ExecuteAt, Cancel: rec.Cancel}
	select {
	case p.work <- job{req: stored, approved: approved}:
	case <-ctx.Done():
		// Recorded as authorised: recovery will carry it on.
	}
	return ack, nil
}

// verify is steps 1 and 2: size, signature, shape, and the signer's right
// to speak for the RequestID's originator. req is returned whenever the
// RequestID could be read, even on failure, so the refusal can name it.
func (p *Pipeline) verify(raw []byte, at time.Time) (*duis.Request, *authorise.Verified, error) {
	if len(raw) > p.cfg.MaxRequestBytes {
		return nil, nil, ecoserr.New(ecoserr.TooLarge, nil, "the request is %d bytes; the limit is %d", len(raw), p.cfg.MaxRequestBytes)
	}
	v, err := xmldsig.Verify(raw, p.cfg.UserCertificates, xmldsig.WithMaxSize(p.cfg.MaxRequestBytes))
	if err != nil {
		return peekRequest(raw), nil, signatureError(err)
	}
	// Only the digested bytes are signed: decide on them alone.
	req, err := duis.DecodeRequest(v.Digested)
	switch {
	case errors.Is(err, duis.ErrDateTimeRange):
		return nil, nil, ecoserr.New(ecoserr.ExecutionTimeUnsupported, err, "%s", clip(err.Error(), 300))
	case errors.Is(err, duis.ErrUnsupported):
		return nil, nil, ecoserr.New(ecoserr.UnsupportedRequest, err, "%s", clip(err.Error(), 300))
	case err != nil:
		return nil, nil, ecoserr.New(ecoserr.Malformed, err, "%s", clip(err.Error(), 300))
	}
	if err := intake.Admit(req); err != nil {
		return req, nil, err
	}
	if err := intake.BindSigner(v.Signer, req.Header.RequestID.Originator, at, p.cfg.SignerPolicy); err != nil {
		return req, nil, ecoserr.New(ecoserr.SignerNotUser, err, "%s", err.Error())
	}
	return req, &authorise.Verified{Request: req, Signer: v.Signer, ReceivedAt: at}, nil
}

// peekRequest reads the RequestID of a request whose signature failed, for
// the refusal's header only: nothing else is taken from unverified bytes.
func peekRequest(raw []byte) *duis.Request {
	req, err := duis.DecodeRequest(raw)
	if err != nil {
		return nil
	}
	return req
}

func signatureError(err error) error {
	switch {
	case errors.Is(err, xmldsig.Malformed), errors.Is(err, xmldsig.Hostile):
		return ecoserr.New(ecoserr.Malformed, err, "%s", clip(err.Error(), 300))
	case errors.Is(err, xmldsig.UnknownSigner):
		return ecoserr.New(ecoserr.UnknownSigner, err, "")
	default:
		return ecoserr.New(ecoserr.BadSignature, err, "%s", clip(err.Error(), 300))
	}
}

// refuseUnrecorded answers a request that changes nothing: too large,
// malformed, badly signed, or a replay.
func (p *Pipeline) refuseUnrecorded(req *duis.Request, cause error, at time.Time) (*Ack, error) {
	r := ecoserr.ReasonOf(cause)
	code := duis.ResponseCode(p.codes.Code(r))
	var id *duis.RequestID
	if req != nil {
		id = &req.Header.RequestID
	}
	doc, err := p.acknowledgement(id, code, at)
	if err != nil {
		return nil, err
	}
	p.metrics.refused(r)
	p.cfg.Log.Info("request refused", "request_id", idString(id), "reason", r.Name(), "code", string(code), "err", cause.Error())
	return &Ack{Document: doc, Code: code, RequestID: id, Err: cause}, nil
}

func (p *Pipeline) auditDecision(id store.RequestID, rec store.Received, decision error) {
	attrs := []any{"request_id", id.String(), "originator", id.Originator.String(), "target", id.Target.String(),
		"counter", id.Counter, "party", rec.Party}
	if rec.MPID != nil {
		attrs = append(attrs, "mpid_outcome", rec.MPID.Outcome)
	}
	if decision != nil {
		p.cfg.Audit.Info("request refused", append(attrs, "outcome", "rejected", "reason", rec.Reason, "code", rec.ResponseCode)...)
		return
	}
	if rec.Hold != nil {
		p.cfg.Audit.Info("request quarantined", append(attrs, "outcome", "quarantined", "quarantine_event_ref", rec.Hold.Ref)...)
		return
	}
	p.cfg.Audit.Info("request authorised", append(attrs, "outcome", "authorised")...)
}

func mpidRecord(m *authorise.MPIDResult) *store.MPIDRecord {
	if m == nil {
		return nil
	}
	r := &store.MPIDRecord{Presented: m.Presented, Expected: m.Expected, Outcome: string(m.Outcome)}
	if m.CertificateSerial != nil {
		r.SignerSerial = m.CertificateSerial.Text(16)
	}
	return r
}

func idString(id *duis.RequestID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
