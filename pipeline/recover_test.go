package pipeline_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
)

// TestRunDoesNotRecover: a request submitted before Run is in the queue
// and unfinished in the store. Recovery belongs before Submit is
// reachable; if Run recovered again it would take that request as left
// over from a crash and sign and send it a second time.
func TestRunDoesNotRecover(t *testing.T) {
	logs := &testkit.Buffer{}
	f := newFixture(t, options{pipeline: func(c *pipeline.Config) { c.Log = slog.New(slog.NewTextHandler(logs, nil)) }})
	ctx := context.Background()
	if err := f.p.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: demoworld.Device(1), Counter: 100}))
	if err != nil || !ack.Accepted {
		t.Fatalf("Submit: %+v, %v", ack, err)
	}
	f.run(t)
	id := store.RequestID(*ack.RequestID)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := f.p.WaitFinal(wctx, id)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := f.db.CommandsForRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if req.State != store.RequestResponded || len(cmds) != 1 {
		t.Errorf("request %s (%s) with %d commands, want responded with 1", req.State, req.Reason, len(cmds))
	}
	f.stop(t)
	for _, msg := range []string{"request authorised", "signed cs02b", "dispatching cs02b"} {
		if n := strings.Count(f.audit.String(), `"msg":"`+msg+`"`); n != 1 {
			t.Errorf("audit %q %d times, want once", msg, n)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "recovering request") {
		t.Errorf("log:\n%s", logs)
	}
}
