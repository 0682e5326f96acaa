package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// waiters wakes the callers of WaitFinal when this process finishes a
// request. Another process sharing the store cannot wake them, so
// WaitFinal also looks at the store now and then.
type waiters struct {
	mu sync.Mutex
	m  map[store.RequestID]chan struct{}
}

func (w *waiters) channel(id store.RequestID) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.m[id]
	if !ok {
		ch = make(chan struct{})
		w.m[id] = ch
	}
	return ch
}

func (w *waiters) finish(id store.RequestID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[id]; ok {
		close(ch)
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
	for {
		ch := p.waiters.channel(id)
		req, err := p.cfg.Store.Request(ctx, id)
		if err != nil || IsFinal(req.State) {
			return req, err
		}
		t := time.NewTimer(storePoll)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return req, ctx.Err()
		}
		t.Stop()
	}
}

// Status returns a request and the documents sent to its User about it,
// oldest first.
func (p *Pipeline) Status(ctx context.Context, id store.RequestID) (store.Request, []store.Response, error) {
	req, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return store.Request{}, nil, err
	}
	rs, err := p.cfg.Store.Responses(ctx, id)
	return req, rs, err
}
