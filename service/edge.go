package service

import (
	"context"
	"errors"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
)

// edge is the pipeline as the HTTP edge sees it.
type edge struct{ p *pipeline.Pipeline }

var _ api.Service = edge{}

func (e edge) Submit(ctx context.Context, raw []byte, from *eui.EUI) (api.Ack, error) {
	var ack *pipeline.Ack
	var err error
	if from == nil {
		ack, err = e.p.Submit(ctx, raw)
	} else {
		ack, err = e.p.SubmitFrom(ctx, raw, *from)
	}
	if errors.Is(err, pipeline.ErrNotOriginator) {
		return api.Ack{}, errors.Join(api.ErrNotOriginator, err)
	}
	if err != nil {
		return api.Ack{}, err
	}
	return api.Ack{Document: ack.Document, Accepted: ack.Accepted, Code: string(ack.Code)}, nil
}

func (e edge) Lookup(ctx context.Context, requestID string) (api.Status, error) {
	id, err := parseID(requestID)
	if err != nil {
		return api.Status{}, err
	}
	req, docs, err := e.p.Status(ctx, id)
	if err != nil {
		return api.Status{}, notFound(err)
	}
	st := api.Status{
		RequestID: requestID, State: string(req.State), Reason: req.Reason, ResponseCode: req.ResponseCode,
		Final: pipeline.IsFinal(req.State), ReceivedAt: req.ReceivedAt, UpdatedAt: req.UpdatedAt,
	}
	for _, d := range docs {
		st.Responses = append(st.Responses, document(d))
	}
	return st, nil
}

func (e edge) WaitFinal(ctx context.Context, requestID string) error {
	id, err := parseID(requestID)
	if err != nil {
		return err
	}
	_, err = e.p.WaitFinal(ctx, id)
	return notFound(err)
}

func parseID(s string) (store.RequestID, error) {
	id, err := duis.ParseRequestID(s)
	if err != nil {
		return store.RequestID{}, errors.Join(api.ErrNotFound, err)
	}
	return store.RequestID(id), nil
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errors.Join(api.ErrNotFound, err)
	}
	return err
}

func document(r store.Response) api.Document {
	return api.Document{ID: int64(r.ID), RequestID: r.RequestID.String(), Kind: string(r.Kind), Code: r.Code,
		Body: r.Document, CreatedAt: r.CreatedAt, PushedAt: r.PushedAt}
}

// outbox is the store's unpushed responses as the pusher sees them.
type outbox struct{ db pushLog }

// pushLog is the part of the store that records what was pushed.
type pushLog interface {
	UnpushedResponses(ctx context.Context, after store.ResponseID, limit int) ([]store.Response, error)
	UnpushedResponsesOf(ctx context.Context, user eui.EUI, after store.ResponseID, limit int) ([]store.Response, error)
	MarkPushed(ctx context.Context, id store.ResponseID, at time.Time) error
	NotePushFailure(ctx context.Context, id store.ResponseID, msg string, at time.Time) error
}

var _ api.Outbox = outbox{}

func (o outbox) Unpushed(ctx context.Context, user string, after int64, limit int) ([]api.Document, error) {
	var rs []store.Response
	var err error
	if user == "" {
		rs, err = o.db.UnpushedResponses(ctx, store.ResponseID(after), limit)
	} else {
		var id eui.EUI
		if id, err = eui.Parse(user); err == nil {
			rs, err = o.db.UnpushedResponsesOf(ctx, id, store.ResponseID(after), limit)
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]api.Document, len(rs))
	for i, r := range rs {
		out[i] = document(r)
	}
	return out, nil
}

func (o outbox) MarkPushed(ctx context.Context, id int64, at time.Time) error {
	return o.db.MarkPushed(ctx, store.ResponseID(id), at)
}

func (o outbox) NotePushFailure(ctx context.Context, id int64, msg string, at time.Time) error {
	return o.db.NotePushFailure(ctx, store.ResponseID(id), msg, at)
}
