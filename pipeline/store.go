package pipeline

import (
	"context"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// What the pipeline keeps durably, split by role so that a fake, a
// wrapper or a second store implements only the role it stands in for;
// *store.DB plays all three.

// Requests is the record of each request and of the documents sent to its
// User about it.
type Requests interface {
	RecordRequest(ctx context.Context, r store.Received) error
	LastAcceptedCounter(ctx context.Context, originator, target eui.EUI) (uint64, bool, error)
	UpdateRequest(ctx context.Context, id store.RequestID, u store.RequestUpdate) error
	Request(ctx context.Context, id store.RequestID) (store.Request, error)
	UnfinishedRequests(ctx context.Context, limit int) ([]store.Request, error)
	AddResponse(ctx context.Context, r store.Response) (store.ResponseID, error)
	Responses(ctx context.Context, id store.RequestID) ([]store.Response, error)
}

// Commands is the signed commands (the signer records them), their
// delivery, and what their devices answered and now trust.
type Commands interface {
	CommandsForRequest(ctx context.Context, id store.RequestID) ([]store.Command, error)
	CommandByCounter(ctx context.Context, device eui.EUI, counter uint64) (store.Command, error)
	MarkSent(ctx context.Context, id store.CommandID, at time.Time) error
	MarkFailed(ctx context.Context, id store.CommandID, reason string, at time.Time) error
	RecordAnswer(ctx context.Context, a store.Answer) (store.Command, error)
	NoteSupplier(ctx context.Context, device eui.EUI, party string, at time.Time) error
}

// Holds is anomaly detection's quarantine: the requests held, their
// QuarantineEventRefs, and the decisions that end a hold.
type Holds interface {
	ReserveCounter(ctx context.Context, key string) (uint64, error)
	Hold(ctx context.Context, ref uint64) (store.Held, error)
	DecideHolds(ctx context.Context, user *eui.EUI, ds []store.HoldDecision, at time.Time, by string) ([]store.Held, error)
	ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]store.Held, error)
}
