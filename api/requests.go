package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ecos-cos/ecos/duis"
)

// Headers on the documents this package serves and pushes.
const (
	HeaderRequestID    = "X-ECoS-Request-ID"
	HeaderResponseCode = "X-ECoS-Response-Code"
	HeaderState        = "X-ECoS-State"
	HeaderKind         = "X-ECoS-Kind"
	HeaderDocumentID   = "X-ECoS-Document-ID"
)

// statusBody is the JSON of GET /api/v1/requests/{requestID}.
type statusBody struct {
	RequestID    string         `json:"request_id"`
	State        string         `json:"state"`
	Final        bool           `json:"final"`
	Reason       string         `json:"reason"`
	ResponseCode string         `json:"response_code"`
	ReceivedAt   time.Time      `json:"received_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Responses    []documentBody `json:"responses"`
}

type documentBody struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"created_at"`
	PushedAt  time.Time `json:"pushed_at,omitzero"`
	URL       string    `json:"url"`
}

func newStatusBody(st Status) statusBody {
	b := statusBody{
		RequestID: st.RequestID, State: st.State, Final: st.Final, Reason: st.Reason,
		ResponseCode: st.ResponseCode, ReceivedAt: st.ReceivedAt.UTC(), UpdatedAt: st.UpdatedAt.UTC(),
		Responses: make([]documentBody, len(st.Responses)),
	}
	for i, d := range st.Responses {
		b.Responses[i] = documentBody{
			ID: d.ID, Kind: d.Kind, Code: d.Code, CreatedAt: d.CreatedAt.UTC(), PushedAt: d.PushedAt.UTC(),
			URL: documentPath(st.RequestID, i+1),
		}
	}
	return b
}

func documentPath(requestID string, n int) string {
	return "/api/v1/requests/" + url.PathEscape(requestID) + "/responses/" + strconv.Itoa(n)
}

func (s *server) getStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	st, err := s.lookup(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStatusBody(st))
	return nil
}

func (s *server) getDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	// Atoi also refuses what would overflow, so a hostile n stays a 400.
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		return &httpError{Code: http.StatusBadRequest, Msg: "the response number must be a positive integer", Err: err}
	}
	st, err := s.lookup(r.Context(), id)
	if err != nil {
		return err
	}
	if n > len(st.Responses) {
		return &httpError{Code: http.StatusNotFound, Msg: "no such response"}
	}
	writeDocument(w, st, st.Responses[n-1])
	return nil
}

// requestIDParam returns the canonical spelling, so that a lower-case or
// otherwise odd URL finds the request the Service stored. Another User's
// RequestID is answered as an unknown one, before any lookup, so its
// existence cannot be told.
func requestIDParam(r *http.Request) (string, error) {
	id, err := duis.ParseRequestID(r.PathValue("requestID"))
	if err != nil {
		return "", &httpError{Code: http.StatusBadRequest, Msg: "malformed RequestID: want originator:target:counter, e.g. 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1006", Err: err}
	}
	if !callerOf(r).owns(id.Originator) {
		return "", errNoSuchRequest(errors.New("the RequestID's originator is another User"))
	}
	return id.String(), nil
}

// errNoSuchRequest is the one answer for a RequestID the caller may not
// see, whether or not it exists.
func errNoSuchRequest(cause error) error {
	return &httpError{Code: http.StatusNotFound, Msg: "no such request", Err: cause}
}

func (s *server) lookup(ctx context.Context, id string) (Status, error) {
	st, err := s.svc.Lookup(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Status{}, errNoSuchRequest(err)
	case err != nil:
		return Status{}, fmt.Errorf("looking up %s: %w", id, err)
	}
	return st, nil
}

func writeDocument(w http.ResponseWriter, st Status, d Document) {
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set(HeaderRequestID, st.RequestID)
	h.Set(HeaderState, st.State)
	h.Set(HeaderKind, d.Kind)
	h.Set(HeaderDocumentID, strconv.FormatInt(d.ID, 10))
	code := d.Code
	if code == "" {
		code = st.ResponseCode
	}
	if code != "" {
		h.Set(HeaderResponseCode, code)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(d.Body)
}
