package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is where documents wait for delivery to the User.
type Outbox interface {
	Unpushed(ctx context.Context, after int64, limit int) ([]Document, error) // ascending ID
	MarkPushed(ctx context.Context, id int64, at time.Time) error
	NotePushFailure(ctx context.Context, id int64, msg string, at time.Time) error
}

// PusherConfig is fixed for the life of a Pusher. Zero values take the
// defaults noted.
type PusherConfig struct {
	Outbox Outbox
	URL    string // the User's callback, http or https
	// Client posts the documents; nil: one with Timeout that follows no
	// redirects, so signed documents go only where configured.
	Client      *http.Client
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

// Pusher delivers the Outbox's documents to the User's callback URL, at
// least once: a crash between delivery and MarkPushed sends it again.
// Run one Pusher per Outbox; two would deliver everything twice.
type Pusher struct {
	cfg     PusherConfig
	client  *http.Client
	metrics *pushMetrics

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

// pageSize bounds one Unpushed read.
const pageSize = 100

// NewPusher checks cfg.
func NewPusher(cfg PusherConfig) (*Pusher, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("api: pusher has no outbox")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("api: pusher URL must be an absolute http or https URL")
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
	p := &Pusher{cfg: cfg, client: cfg.Client, retries: map[int64]*retry{}}
	if p.client == nil {
		p.client = &http.Client{
			Timeout: cfg.Timeout,
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

// pass tries every document that is due, in ID order, and returns how
// long to sleep before the next pass.
func (p *Pusher) pass(ctx context.Context) time.Duration {
	// A request's documents go in order: while one waits for a retry,
	// the later ones of the same request wait behind it. Other requests'
	// documents go on, so one bad document cannot hold up everything.
	blocked := map[string]bool{}
	seen := map[int64]bool{}
	var after int64
	for {
		docs, err := p.cfg.Outbox.Unpushed(ctx, after, pageSize)
		if err != nil {
			if ctx.Err() == nil {
				p.cfg.Log.Error("reading documents to push", "err", err)
			}
			return p.cfg.Poll
		}
		for _, d := range docs {
			if d.ID <= after {
				// Paging on after would never end.
				p.cfg.Log.Error("outbox returned documents out of ID order", "after", after, "document", d.ID)
				return p.cfg.Poll
			}
			after = d.ID
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
			switch p.deliver(ctx, d) {
			case carryOn:
			case holdRequest:
				blocked[d.RequestID] = true
			case stop:
				// The receiver or the store is in trouble: the rest of the
				// queue would only fail the same way, one timeout each.
				return p.cfg.Poll
			}
		}
		if len(docs) < pageSize {
			// Whatever the pass did not see was pushed or removed by
			// someone else; its retry state would only leak.
			for id := range p.retries {
				if !seen[id] {
					delete(p.retries, id)
				}
			}
			return p.untilNextRetry()
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

func (p *Pusher) deliver(ctx context.Context, d Document) outcome {
	err := p.post(ctx, d)
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

func (p *Pusher) post(ctx context.Context, d Document) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.URL, bytes.NewReader(d.Body))
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
