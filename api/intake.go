package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// postServiceRequest is DCC Boxed's Send Command: the body is a signed DUIS
// request, the answer its signed acknowledgement.
func (s *server) postServiceRequest(w http.ResponseWriter, r *http.Request) error {
	// MaxBytesReader rather than a LimitReader: past the limit it also has
	// the server close the connection instead of draining what is left.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.maxBody)+1))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); !tooLarge {
			return &httpError{Code: http.StatusBadRequest, Msg: "could not read the request body", Err: err}
		}
		// An oversized request still deserves a signed refusal; the
		// Service sees MaxBody+1 bytes and gives it one.
	}
	c := callerOf(r)
	ack, err := s.svc.Submit(r.Context(), body, c.from())
	if errors.Is(err, ErrNotOriginator) {
		return &httpError{Code: http.StatusForbidden, Err: err,
			Msg: "request refused, nothing stored: its RequestID's originator is not " + c.user.String() + ", the User this TLS client certificate is registered for"}
	}
	if err != nil {
		return fmt.Errorf("submitting a %d-byte request: %w", len(body), err)
	}
	if len(ack.Document) == 0 {
		return errors.New("service returned an empty acknowledgement")
	}
	code := http.StatusOK
	if !ack.Accepted {
		code = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/xml")
	if ack.Code != "" {
		w.Header().Set(HeaderResponseCode, ack.Code)
	}
	w.WriteHeader(code)
	w.Write(ack.Document)
	return nil
}
