package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/eui"
)

// Outbox is where documents wait for delivery to the User.
type Outbox interface {
	// Unpushed returns up to limit undelivered documents whose ID is
	// above after, in ascending ID order: those of the requests user
	// originated (its EUI-64 as in a RequestID), or every User's when
	// user is "". It must not read other Users' documents to find them:
	// a User that is never pushed to may have millions.
	Unpushed(ctx context.Context, user string, after int64, limit int) ([]Document, error)
	MarkPushed(ctx context.Context, id int64, at time.Time) error
	NotePushFailure(ctx context.Context, id int64, msg string, at time.Time) error
}

// PusherConfig is fixed for the life of a Pusher. Zero values take the
// defaults noted.
type PusherConfig struct {
	Outbox Outbox
	// Users maps a User's EUI-64, spelt as in a RequestID, to its own
	// callback URL (http or https): only the documents of the requests
	// it originated are POSTed there. A User not in it is pull-only and
	// its documents are never read.
	Users map[string]string
	// Relay is an operator-owned URL that receives every User's
	// documents, never a User's own endpoint. Set Users or Relay.
	Relay string
	// Client posts the documents; nil: one with Timeout and TLS that
	// follows no redirects, so signed documents go only where configured.
	Client *http.Client
	// TLS is the default Client's: the receivers' CAs and the client
	// certificate shown to them. nil: the system's CAs and none.
	TLS         *tls.Config
	Timeout     time.Duration   // per delivery, for the default Client; 0: 30 s
	MaxAttempts int             // deliveries tried per document before giving up; 0: 10
	Poll        time.Duration   // how often the Outbox is read; 0: 1 s
	Backoff     time.Duration   // wait after a document's first failure, doubling after each; 0: 1 s
	MaxBackoff  time.Duration   // cap on that wait; 0: 5 min
	Wake        <-chan struct{} // optional: a receive starts a pass at once
	// Now stamps MarkPushed and NotePushFailure; nil: time.Now. Retry
	// timing uses the runtime's timers, which tests fake with synctest.
	Now        func() time.Time
	Log        *slog.Logger          // nil: discarded
	Registerer prometheus.Registerer // nil: counted but not registered
}

// Pusher delivers the Outbox's documents to the callback URL of the User
// whose request they answer (or to the operator's relay), at least once: a crash between delivery and MarkPushed sends it again.
// Run one Pusher per Outbox; two would deliver everything twice.
type Pusher struct {
	cfg     PusherConfig
	client  *http.Client
	metrics *pushMetrics
	dests   []destination // in a fixed order

	// retries is per-document backoff state. It lives only in memory, so
	// a restart retries every unpushed document afresh. Only Run's
	// goroutine touches it.
	retries map[int64]*retry
}

type retry struct {
	attempts  int
	next      time.Time
	abandoned bool
}

// destination is where the documents of one User, or of every User
// (user ""), are POSTed.
type destination struct {
	user string
	url  string
}

func destinations(users map[string]string, relay string) ([]destination, error) {
	if (relay == "") == (len(users) == 0) {
		return nil, errors.New("api: pusher needs either Users' callback URLs or a Relay URL, not both")
	}
	if relay != "" {
		users = map[string]string{"": relay}
	}
	var ds []destination
	for user, u := range users {
		if id, err := eui.Parse(user); relay == "" && (err != nil || id.String() != user) {
			return nil, fmt.Errorf("api: pusher: %q is not a User's EUI-64 spelt as in a RequestID", user)
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, errors.New("api: pusher URL must be an absolute http or https URL")
		}
		ds = append(ds, destination{user: user, url: u})
	}
	slices.SortFunc(ds, func(a, b destination) int { return strings.Compare(a.user, b.user) })
	return ds, nil
}

// pageSize bounds one Unpushed read.
const pageSize = 100

// NewPusher checks cfg.
func NewPusher(cfg PusherConfig) (*Pusher, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("api: pusher has no outbox")
	}
	dests, err := destinations(cfg.Users, cfg.Relay)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 || cfg.MaxAttempts < 0 || cfg.Poll < 0 || cfg.Backoff < 0 || cfg.MaxBackoff < 0 {
		return nil, errors.New("api: pusher durations and MaxAttempts must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := &Pusher{cfg: cfg, client: cfg.Client, dests: dests, retries: map[int64]*retry{}}
	if p.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = cfg.TLS
		p.client = &http.Client{
			Transport: t,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if p.metrics, err = newPushMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	return p, nil
}

// Run pushes until ctx is done, then returns nil. Failures are logged and
// retried, never returned.
func (p *Pusher) Run(ctx context.Context) error {
	for {
		wait := p.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-p.cfg.Wake:
			t.Stop()
		}
	}
}

// pass tries every document that is due, in ID order for each
// destination, and returns how long to sleep before the next pass.
func (p *Pusher) pass(ctx context.Context) time.Duration {
	// A request's documents go in order: while one waits for a retry,
	// the later ones of the same request wait behind it. Other requests'
	// documents go on, so one bad document cannot hold up everything.
	blocked := map[string]bool{}
	seen := map[int64]bool{}
	complete := true
	for _, d := range p.dests {
		if !p.passTo(ctx, d, blocked, seen) {
			complete = false
		}
		if ctx.Err() != nil {
			return p.cfg.Poll
		}
	}
	if !complete {
		return p.cfg.Poll
	}
	// Whatever the pass did not see was pushed or removed by someone
	// else; its retry state would only leak.
	for id := range p.retries {
		if !seen[id] {
			delete(p.retries, id)
		}
	}
	return p.untilNextRetry()
}

// passTo tries dest's due documents and reports whether it saw them all.
// A receiver or store in trouble ends only this destination's part: one
// User's endpoint being down holds up no other User.
func (p *Pusher) passTo(ctx context.Context, dest destination, blocked map[string]bool, seen map[int64]bool) bool {
	var after int64
	for {
		docs, err := p.cfg.Outbox.Unpushed(ctx, dest.user, after, pageSize)
		if err != nil {
			if ctx.Err() == nil {
				p.cfg.Log.Error("reading documents to push", "user", dest.user, "err", err)
			}
			return false
		}
		for _, d := range docs {
			if d.ID <= after {
				// Paging on after would never end.
				p.cfg.Log.Error("outbox returned documents out of ID order", "after", after, "document", d.ID)
				return false
			}
			after = d.ID
			if dest.user != "" && !strings.HasPrefix(d.RequestID, dest.user+":") {
				// Another User's document must never reach this endpoint.
				p.cfg.Log.Error("outbox returned another User's document; not pushed",
					"user", dest.user, "document", d.ID, "request_id", d.RequestID)
				return false
			}
			seen[d.ID] = true
			r := p.retries[d.ID]
			switch {
			case r != nil && r.abandoned:
				continue
			case blocked[d.RequestID]:
				continue
			case r != nil && time.Now().Before(r.next):
				blocked[d.RequestID] = true
				continue
			}
			switch p.deliver(ctx, dest.url, d) {
			case carryOn:
			case holdRequest:
				blocked[d.RequestID] = true
			case stop:
				// The receiver or the store is in trouble: the rest of the
				// queue would only fail the same way, one timeout each.
				return false
			}
		}
		if len(docs) < pageSize {
			return true
		}
	}
}

// untilNextRetry is Poll, or less when a retry falls due sooner. A retry
// already due was held back behind its request's earlier document, whose
// own time is what matters; counting it would spin.
func (p *Pusher) untilNextRetry() time.Duration {
	wait := p.cfg.Poll
	now := time.Now()
	for _, r := range p.retries {
		if !r.abandoned && r.next.After(now) {
			wait = min(wait, r.next.Sub(now))
		}
	}
	return wait
}

type outcome int

const (
	carryOn     outcome = iota
	holdRequest         // hold the request's later documents back this pass
	stop                // end the pass
)

func (p *Pusher) deliver(ctx context.Context, to string, d Document) outcome {
	err := p.post(ctx, to, d)
	if ctx.Err() != nil {
		return stop
	}
	if err == nil {
		delete(p.retries, d.ID)
		p.metrics.delivered.Inc()
		if err := p.cfg.Outbox.MarkPushed(ctx, d.ID, p.cfg.Now()); err != nil {
			// It will be sent again: at least once, as documented.
			p.cfg.Log.Error("recording a push", "document", d.ID, "request_id", d.RequestID, "err", err)
			return stop
		}
		p.cfg.Log.Debug("pushed", "document", d.ID, "request_id", d.RequestID, "kind", d.Kind)
		return carryOn
	}

	p.metrics.failed.Inc()
	r := p.retries[d.ID]
	if r == nil {
		r = &retry{}
		p.retries[d.ID] = r
	}
	r.attempts++
	if nerr := p.cfg.Outbox.NotePushFailure(ctx, d.ID, err.Error(), p.cfg.Now()); nerr != nil {
		p.cfg.Log.Error("recording a push failure", "document", d.ID, "err", nerr)
	}
	if r.attempts >= p.cfg.MaxAttempts {
		r.abandoned = true
		p.metrics.abandoned.Inc()
		p.cfg.Log.Error("giving up pushing; the document stays available to pull",
			"document", d.ID, "request_id", d.RequestID, "attempts", r.attempts, "err", err)
	} else {
		r.next = time.Now().Add(p.backoff(r.attempts))
		p.cfg.Log.Warn("push failed; will retry", "document", d.ID, "request_id", d.RequestID,
			"attempts", r.attempts, "retry_at", r.next, "err", err)
	}
	if pe, ok := errors.AsType[*pushError](err); ok && pe.receiverDown {
		return stop
	}
	if r.abandoned {
		return carryOn // nothing left for the request's later documents to wait for
	}
	return holdRequest
}

// backoff is the wait after the given number of failed attempts.
func (p *Pusher) backoff(attempts int) time.Duration {
	d := p.cfg.Backoff
	for i := 1; i < attempts && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.cfg.MaxBackoff)
}

// pushError is a failed delivery. receiverDown marks failures that say
// nothing about the document: no connection, 5xx, 429.
type pushError struct {
	msg          string
	receiverDown bool
}

func (e *pushError) Error() string { return e.msg }

func (p *Pusher) post(ctx context.Context, to string, d Document) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(d.Body))
	if err != nil {
		return &pushError{msg: "building request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set(HeaderRequestID, d.RequestID)
	req.Header.Set(HeaderDocumentID, strconv.FormatInt(d.ID, 10))
	req.Header.Set(HeaderKind, d.Kind)
	if d.Code != "" {
		req.Header.Set(HeaderResponseCode, d.Code)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		// The url.Error wrapper repeats the callback URL, whose query may
		// hold a token; the failure message is stored and shown.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return &pushError{msg: "posting: " + err.Error(), receiverDown: true}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	// Drained so the connection can be reused, but not without bound.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &pushError{
		msg:          fmt.Sprintf("receiver answered %s: %q", resp.Status, head),
		receiverDown: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
	}
}
