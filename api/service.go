package api

import (
	"context"
	"errors"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Service is the 6.23 pipeline as the HTTP edge sees it.
type Service interface {
	// Submit runs the synchronous part of a request (size, shape, signature, replay, checks) and returns the signed DUIS acknowledgement to send back: Accepted (I99) or a refusal carrying its error code. err is for internal failures, and wraps ErrNotOriginator when from is set and is not the RequestID's originator (then nothing is stored); from is nil only on a plain-HTTP listener.
	Submit(ctx context.Context, raw []byte, from *eui.EUI) (Ack, error)
	// Lookup returns a request's state and the signed documents sent about it; ErrNotFound (wrapped) for an unknown RequestID.
	Lookup(ctx context.Context, requestID string) (Status, error)
	// WaitFinal returns when the request is in a final state, or with ctx's error.
	WaitFinal(ctx context.Context, requestID string) error
}

// Ack is the synchronous answer to a submitted request.
type Ack struct {
	Document []byte // signed DUIS XML
	Accepted bool
	Code     string // DUIS ResponseCode
}

// Status is where a request stands.
type Status struct {
	RequestID, State, Reason, ResponseCode string
	Final                                  bool
	ReceivedAt, UpdatedAt                  time.Time
	Responses                              []Document // oldest first; the acknowledgement first
}

// Document is one signed document sent to the User about a request.
type Document struct {
	ID                  int64
	RequestID           string
	Kind                string    // "acknowledgement", "response", "alert"
	Code                string    // DUIS ResponseCode
	Body                []byte    // signed DUIS XML
	CreatedAt, PushedAt time.Time // PushedAt zero until delivered
}

// KindAcknowledgement is the Document.Kind of the synchronous answer.
const KindAcknowledgement = "acknowledgement"

// ErrNotFound is what Lookup wraps for an unknown RequestID, and what
// Client wraps for a 404.
var ErrNotFound = errors.New("api: no such request")
