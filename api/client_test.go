package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clientEnv is the real handler on a real listener with a fake Service.
func clientEnv(t *testing.T, svc Service) *Client {
	t.Helper()
	env := newEnv(t, svc)
	srv := httptest.NewServer(env.h)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/", HTTP: srv.Client()}
}

func TestClientSubmit(t *testing.T) {
	svc := &fakeService{submit: func(_ context.Context, raw []byte) (Ack, error) {
		switch string(raw) {
		case "<good/>":
			return Ack{Document: []byte("<accepted/>"), Accepted: true, Code: "I99"}, nil
		case "<bad/>":
			return Ack{Document: []byte("<refused/>"), Code: "E3"}, nil
		}
		return Ack{}, errors.New("hsm: slot 0 token not present")
	}}
	c := clientEnv(t, svc)
	ctx := context.Background()

	ack, ok, err := c.Submit(ctx, []byte("<good/>"))
	if err != nil || !ok || string(ack) != "<accepted/>" {
		t.Errorf("accepted: %q %v %v", ack, ok, err)
	}
	ack, ok, err = c.Submit(ctx, []byte("<bad/>"))
	if err != nil || ok || string(ack) != "<refused/>" {
		t.Errorf("refused: %q %v %v", ack, ok, err)
	}
	_, _, err = c.Submit(ctx, []byte("<boom/>"))
	if err == nil || !strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "hsm") {
		t.Errorf("internal: %v, want an error naming 500 and not the cause", err)
	}
}

func TestClientStatus(t *testing.T) {
	c := clientEnv(t, &fakeService{lookup: newStatuses(completed()).lookup})
	got, err := c.Status(context.Background(), reqID)
	if err != nil {
		t.Fatal(err)
	}
	want := completed()
	for i := range want.Responses {
		want.Responses[i].Body = nil // Status carries no bodies
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}

	_, err = c.Status(context.Background(), "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown: %v, want ErrNotFound", err)
	}
	_, err = c.Status(context.Background(), "nonsense")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "400") {
		t.Errorf("malformed: %v, want a 400 error", err)
	}
}

func TestClientResponse(t *testing.T) {
	sts := newStatuses(pending())
	waiting, release := make(chan struct{}), make(chan struct{})
	svc := &fakeService{lookup: sts.lookup, waitFinal: func(ctx context.Context, _ string) error {
		close(waiting)
		select {
		case <-release:
			sts.set(completed())
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	c := clientEnv(t, svc)
	ctx := context.Background()

	doc, final, err := c.Response(ctx, reqID, 0)
	if err != nil || final || doc != nil {
		t.Fatalf("pending: %q %v %v", doc, final, err)
	}

	type result struct {
		doc   []byte
		final bool
		err   error
	}
	done := make(chan result)
	go func() {
		doc, final, err := c.Response(ctx, reqID, time.Minute)
		done <- result{doc, final, err}
	}()
	<-waiting
	close(release)
	r := <-done
	if r.err != nil || !r.final || string(r.doc) != "<response/>" {
		t.Fatalf("after the wait: %q %v %v", r.doc, r.final, r.err)
	}

	_, _, err = c.Response(ctx, otherID, 0)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown: %v, want ErrNotFound", err)
	}
}

// A 404 from something other than the API (a wrong BaseURL) is not "no
// such request".
func TestClientWrongBase(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := &Client{BaseURL: srv.URL}
	_, err := c.Status(context.Background(), reqID)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("%v, want an error that is not ErrNotFound", err)
	}
}

func TestClip(t *testing.T) {
	if got := clip("  short  ", 10); got != "short" {
		t.Errorf("clip = %q", got)
	}
	if got := clip(strings.Repeat("é", 10), 5); got != "éé…" {
		t.Errorf("clip split a rune: %q", got)
	}
}
