package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// getResponse is the pull side: the User's answer once the request is
// final, waiting for it up to ?wait= so a client needs no polling loop.
func (s *server) getResponse(w http.ResponseWriter, r *http.Request) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	wait, err := s.waitParam(r)
	if err != nil {
		return err
	}
	st, err := s.lookup(r.Context(), id)
	if err != nil {
		return err
	}
	if !st.Final && wait > 0 {
		if st, err = s.awaitFinal(r.Context(), id, wait); err != nil {
			return err
		}
	}
	if !st.Final {
		writeJSON(w, http.StatusAccepted, newStatusBody(st))
		return nil
	}
	d, ok := answer(st)
	if !ok {
		return fmt.Errorf("request %s is final but has no documents", id)
	}
	writeDocument(w, st, d)
	return nil
}

// awaitFinal returns the status once the request is final or wait is over,
// whichever comes first.
func (s *server) awaitFinal(ctx context.Context, id string, wait time.Duration) (Status, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	// At shutdown the wait ends as if it ran out.
	defer context.AfterFunc(s.stopping, cancel)()
	if err := s.svc.WaitFinal(wctx, id); err != nil {
		switch {
		case ctx.Err() != nil:
			return Status{}, ctx.Err()
		case errors.Is(err, ErrNotFound):
			return Status{}, errNoSuchRequest(err)
		case wctx.Err() == nil:
			return Status{}, fmt.Errorf("waiting for %s: %w", id, err)
		}
		// The wait ran out; report where the request stands.
	}
	return s.lookup(ctx, id)
}

// answer is the newest document that is not the acknowledgement; a
// request refused at intake has only the acknowledgement, which is then
// the answer.
func answer(st Status) (Document, bool) {
	for i := len(st.Responses) - 1; i >= 0; i-- {
		if st.Responses[i].Kind != KindAcknowledgement {
			return st.Responses[i], true
		}
	}
	if len(st.Responses) > 0 {
		return st.Responses[len(st.Responses)-1], true
	}
	return Document{}, false
}

// waitParam reads ?wait= as a Go duration ("30s"), capped at MaxWait. An
// absent wait is zero: answer at once.
func (s *server) waitParam(r *http.Request) (time.Duration, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return 0, &httpError{Code: http.StatusBadRequest, Msg: "malformed query string", Err: err}
	}
	vals := q["wait"]
	switch {
	case len(vals) > 1:
		return 0, &httpError{Code: http.StatusBadRequest, Msg: "wait given more than once"}
	case len(vals) == 0 || vals[0] == "":
		return 0, nil
	}
	// ParseDuration refuses values beyond ~290 years, so those are 400s
	// too; anything in range above MaxWait is merely capped.
	d, err := time.ParseDuration(vals[0])
	if err != nil || d < 0 {
		return 0, &httpError{Code: http.StatusBadRequest, Msg: `wait must be a non-negative duration such as "30s"`, Err: err}
	}
	return min(d, s.maxWait), nil
}
