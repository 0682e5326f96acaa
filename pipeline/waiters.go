package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// waiters wakes the callers of WaitFinal when this process finishes a
// request. Another process sharing the store cannot wake them, so
// WaitFinal also looks at the store now and then. An entry lives only
// while someone waits: the last waiter to leave removes it, so waits on
// unknown or abandoned requests leave nothing behind.
type waiters struct {
	mu sync.Mutex
	m  map[store.RequestID]*waiter
}

type waiter struct {
	ch chan struct{} // closed by finish
	n  int           // callers waiting on ch
}

// add registers a caller waiting for id; it must call leave with the
// channel it got.
func (w *waiters) add(id store.RequestID) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[id]
	if !ok {
		e = &waiter{ch: make(chan struct{})}
		w.m[id] = e
	}
	e.n++
	return e.ch
}

// leave unregisters a caller that waited on ch.
func (w *waiters) leave(id store.RequestID, ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[id]
	if !ok || e.ch != ch {
		return // finished meanwhile: finish removed the entry
	}
	if e.n--; e.n == 0 {
		delete(w.m, id)
	}
}

func (w *waiters) finish(id store.RequestID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.m[id]; ok {
		close(e.ch)
		delete(w.m, id)
	}
}

// storePoll bounds how long a waiter may miss a request finished by
// another process.
const storePoll = time.Second

// IsFinal reports whether a request in state s is finished: nothing more
// will happen to it but, for a future-dated one, the device's alert.
func IsFinal(s store.RequestState) bool {
	return s == store.RequestRejected || s == store.RequestResponded || s == store.RequestFailed
}

// WaitFinal returns the request once it is in a final state, or ctx's
// error. store.ErrNotFound (wrapped) for an unknown request.
func (p *Pipeline) WaitFinal(ctx context.Context, id store.RequestID) (store.Request, error) {
	t := time.NewTimer(storePoll)
	defer t.Stop()
	for {
		req, done, err := p.waitOnce(ctx, id, t)
		if done || err != nil {
			return req, err
		}
		t.Reset(storePoll)
	}
}

// waitOnce registers, reads the request and, unless it is final, waits
// for finish, the poll timer t or ctx; it always unregisters.
func (p *Pipeline) waitOnce(ctx context.Context, id store.RequestID, t *time.Timer) (store.Request, bool, error) {
	// Registered before the read, so a finish between the two is not missed.
	ch := p.waiters.add(id)
	defer p.waiters.leave(id, ch)
	req, err := p.cfg.Requests.Request(ctx, id)
	if err != nil || IsFinal(req.State) {
		return req, true, err
	}
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return req, true, ctx.Err()
	}
	return req, false, nil
}

// Status returns a request and the documents sent to its User about it,
// oldest first.
func (p *Pipeline) Status(ctx context.Context, id store.RequestID) (store.Request, []store.Response, error) {
	req, err := p.cfg.Requests.Request(ctx, id)
	if err != nil {
		return store.Request{}, nil, err
	}
	rs, err := p.cfg.Requests.Responses(ctx, id)
	return req, rs, err
}
