package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/store"
)

// The five commits of a 6.23 (README, "Crash safety"), by the store call
// that makes each.
var sixTwentyThreeCommits = []string{"RecordRequest", "ReserveIntent", "MarkSigned", "MarkSent", "RecordAnswer"}

// TestRecoverEachCommit kills the service, through the store seam, right
// after each commit of a 6.23 (and once between the send and the answer,
// with the frame already at the meter), then starts a fresh pipeline on
// the same database. Each recovers to the state recover.go promises:
// every acknowledged request ends final, no counter is used twice, no
// frame reaches the meter twice, and the User has exactly one answer.
// Nothing waits on a clock: the dead pipeline's queue is run by hand and
// recovery is called directly. It runs on SQLite and on PostgreSQL
// (ECOS_TEST_POSTGRES_DSN; required in CI).
func TestRecoverEachCommit(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testRecoverEachCommit(t, func(*testing.T) store.Config { return store.Config{} }) })
	t.Run("postgres", func(t *testing.T) {
		testRecoverEachCommit(t, func(t *testing.T) store.Config { return testkit.FreshPostgres(t) })
	})
}

func testRecoverEachCommit(t *testing.T, database func(*testing.T) store.Config) {
	cases := []struct {
		name     string
		commits  int  // how many commits go through before the crash
		frameOut bool // the frame left before the crash (it cannot be taken back)
		silent   bool // the meter never answers: the failure path's commits
		acked    bool
		want     store.RequestState
		code     string
		commands []store.CommandState // the request's commands after recovery, oldest first
		frames   int                  // frames the meter received, ever
	}{
		{name: "before any commit", commits: 0},
		{name: "after request+ack", commits: 1, acked: true, want: store.RequestResponded, code: "I0",
			commands: []store.CommandState{store.CommandResponded}, frames: 1},
		{name: "after counter+intent", commits: 2, acked: true, want: store.RequestResponded, code: "I0",
			commands: []store.CommandState{store.CommandFailed, store.CommandResponded}, frames: 1},
		{name: "after signed frame", commits: 3, acked: true, want: store.RequestResponded, code: "I0",
			commands: []store.CommandState{store.CommandResponded}, frames: 1},
		{name: "after send, frame not out", commits: 4, acked: true, want: store.RequestFailed, code: "E21",
			commands: []store.CommandState{store.CommandFailed}, frames: 0},
		{name: "after send, frame out", commits: 4, frameOut: true, acked: true, want: store.RequestFailed, code: "E21",
			commands: []store.CommandState{store.CommandFailed}, frames: 1},
		{name: "after answer+response", commits: 5, acked: true, want: store.RequestResponded, code: "I0",
			commands: []store.CommandState{store.CommandResponded}, frames: 1},
		{name: "no crash", commits: 99, acked: true, want: store.RequestResponded, code: "I0",
			commands: []store.CommandState{store.CommandResponded}, frames: 1},
		// The failure path's fifth commit abandons the command; the User
		// is told in the next, which the crash cuts off.
		{name: "after a silent meter's command failed", commits: 5, silent: true, acked: true, want: store.RequestFailed, code: "E21",
			commands: []store.CommandState{store.CommandFailed}, frames: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			crash := &crashAfter{n: tc.commits, frameOut: tc.frameOut, silent: tc.silent}
			meter := &meterLog{}
			f := newFixture(t, options{
				database: database(t),
				store:    func(db *store.DB) durable { crash.DB = db; return crash },
				gateway: func(g pipeline.Gateway) pipeline.Gateway {
					return crashGateway{Gateway: meter.wrap(g), crash: crash}
				},
			})
			ctx := context.Background()
			d := demoworld.Device(1)
			id := store.RequestID{Originator: f.world.PKI.Suppliers[1].EUI, Target: d, Counter: 100}
			ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: d, Counter: 100}))
			if acked := err == nil && ack.Accepted; acked != tc.acked {
				t.Fatalf("acknowledged %v (%v, %v), want %v", acked, ack, err, tc.acked)
			}
			f.p.Drain(ctx)
			want := sixTwentyThreeCommits[:min(tc.commits, len(sixTwentyThreeCommits))]
			if tc.silent {
				want = append(want[:4:4], "MarkFailed")
			}
			if got := crash.made(); !slices.Equal(got, want) {
				t.Fatalf("commits before the crash %v, want %v", got, want)
			}

			crash.restart()
			if err := f.restart(t).Recover(ctx); err != nil {
				t.Fatalf("recovery: %v", err)
			}

			if left, err := f.db.UnfinishedRequests(ctx, 10); err != nil || len(left) != 0 {
				t.Fatalf("unfinished after recovery: %+v %v", left, err)
			}
			if !tc.acked {
				if _, err := f.db.Request(ctx, id); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("unacknowledged request stored: %v", err)
				}
				if meter.total() != 0 {
					t.Fatal("a frame left for an unacknowledged request")
				}
				return
			}
			r, err := f.db.Request(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.State != tc.want || r.ResponseCode != tc.code {
				t.Errorf("request %s %s (%s), want %s %s", r.State, r.ResponseCode, r.Reason, tc.want, tc.code)
			}
			rs, err := f.db.Responses(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if ks := kinds(rs); !slices.Equal(ks, []store.ResponseKind{store.ResponseAcknowledgement, store.ResponseService}) {
				t.Errorf("the User has %v, want one acknowledgement and one response", ks)
			} else if rs[1].Code != r.ResponseCode {
				t.Errorf("response code %s, request's %s", rs[1].Code, r.ResponseCode)
			}
			cmds, err := f.db.CommandsForRequest(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var states []store.CommandState
			counters := map[uint64]bool{}
			for _, c := range cmds {
				states = append(states, c.State)
				if counters[c.Counter] {
					t.Errorf("counter %d used twice", c.Counter)
				}
				counters[c.Counter] = true
			}
			if !slices.Equal(states, tc.commands) {
				t.Errorf("commands %v, want %v", states, tc.commands)
			}
			if dup := meter.duplicates(); len(dup) > 0 {
				t.Errorf("frames sent twice: %v", dup)
			}
			if n := meter.total(); n != tc.frames {
				t.Errorf("the meter received %d frames, want %d", n, tc.frames)
			}
			// The meter took only counters the command log holds, so a
			// later command's counter is above every one it has seen.
			next, err := f.db.ReserveCounter(ctx, "cos")
			if err != nil {
				t.Fatal(err)
			}
			for k := range meter.seen {
				if !counters[k.counter] || k.counter >= next {
					t.Errorf("the meter took counter %d: not a command's, or not below the next counter %d", k.counter, next)
				}
			}
		})
	}
}

// TestSecondSignatureRefused: code above the signer that tries to sign an
// answered request again (here recovery's path, handed a stale copy of
// the request) gets a refusal from the store; nothing is signed or sent
// and the User's answer stands alone.
func TestSecondSignatureRefused(t *testing.T) {
	meter := &meterLog{}
	f := newFixture(t, options{gateway: func(g pipeline.Gateway) pipeline.Gateway { return meter.wrap(g) }})
	ctx := context.Background()
	d := demoworld.Device(2)
	ack, err := f.p.Submit(ctx, f.sign(t, demoworld.Request{Supplier: 2, Device: d, Counter: 5}))
	if err != nil || !ack.Accepted {
		t.Fatalf("submit: %v %v", ack, err)
	}
	id := store.RequestID(*ack.RequestID)
	stale, err := f.db.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if f.p.Drain(ctx) != 1 {
		t.Fatal("no job queued")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { f.p.Reauthorise(ctx, stale) })
	}
	wg.Wait()
	r, err := f.db.Request(ctx, id)
	if err != nil || r.State != store.RequestResponded {
		t.Fatalf("request after the refused signatures: %+v %v", r, err)
	}
	rs, err := f.db.Responses(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := f.db.CommandsForRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 1 || meter.total() != 1 || len(rs) != 2 {
		t.Fatalf("%d commands, %d frames at the meter, responses %v: want 1, 1, acknowledgement and response", len(cmds), meter.total(), kinds(rs))
	}
}

// errCrashed is what every write returns once the service is dead.
var errCrashed = errors.New("crashed: the service died after the previous commit")

// crashAfter is the store seam with the service dying right after the
// n-th commit: those go through, and from then on nothing does, including
// (unless frameOut) the frame a committed send would have put on the wire.
type crashAfter struct {
	*store.DB
	n        int
	frameOut bool
	silent   bool

	mu        sync.Mutex
	commits   []string
	restarted bool // the next run's network works
}

func (c *crashAfter) restart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restarted = true
}

func (c *crashAfter) commit(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.commits) >= c.n {
		return fmt.Errorf("%s: %w", name, errCrashed)
	}
	c.commits = append(c.commits, name)
	return nil
}

// cut says whether a frame handed to the network now is lost with the
// dead service.
func (c *crashAfter) cut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.commits) >= c.n && !c.frameOut && !c.restarted
}

func (c *crashAfter) made() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.commits...)
}

func (c *crashAfter) RecordRequest(ctx context.Context, r store.Received) error {
	if err := c.commit("RecordRequest"); err != nil {
		return err
	}
	return c.DB.RecordRequest(ctx, r)
}

func (c *crashAfter) UpdateRequest(ctx context.Context, id store.RequestID, u store.RequestUpdate) error {
	if err := c.commit("UpdateRequest"); err != nil {
		return err
	}
	return c.DB.UpdateRequest(ctx, id, u)
}

func (c *crashAfter) AddResponse(ctx context.Context, r store.Response) (store.ResponseID, error) {
	if err := c.commit("AddResponse"); err != nil {
		return 0, err
	}
	return c.DB.AddResponse(ctx, r)
}

func (c *crashAfter) ReserveIntent(ctx context.Context, key string, build func(uint64) (store.Intent, error)) (store.Intent, store.CommandID, error) {
	if err := c.commit("ReserveIntent"); err != nil {
		return store.Intent{}, 0, err
	}
	return c.DB.ReserveIntent(ctx, key, build)
}

func (c *crashAfter) ReserveCounter(ctx context.Context, key string) (uint64, error) {
	if err := c.commit("ReserveCounter"); err != nil {
		return 0, err
	}
	return c.DB.ReserveCounter(ctx, key)
}

func (c *crashAfter) MarkSigned(ctx context.Context, id store.CommandID, frame []byte, at time.Time) error {
	if err := c.commit("MarkSigned"); err != nil {
		return err
	}
	return c.DB.MarkSigned(ctx, id, frame, at)
}

func (c *crashAfter) MarkSent(ctx context.Context, id store.CommandID, at time.Time) error {
	if err := c.commit("MarkSent"); err != nil {
		return err
	}
	return c.DB.MarkSent(ctx, id, at)
}

func (c *crashAfter) MarkFailed(ctx context.Context, id store.CommandID, reason string, at time.Time) error {
	if err := c.commit("MarkFailed"); err != nil {
		return err
	}
	return c.DB.MarkFailed(ctx, id, reason, at)
}

func (c *crashAfter) RecordAnswer(ctx context.Context, a store.Answer) (store.Command, error) {
	if err := c.commit("RecordAnswer"); err != nil {
		return store.Command{}, err
	}
	return c.DB.RecordAnswer(ctx, a)
}

func (c *crashAfter) NoteSupplier(ctx context.Context, device eui.EUI, party string, at time.Time) error {
	if err := c.commit("NoteSupplier"); err != nil {
		return err
	}
	return c.DB.NoteSupplier(ctx, device, party, at)
}

func (c *crashAfter) DecideHolds(ctx context.Context, user *eui.EUI, ds []store.HoldDecision, at time.Time, by string) ([]store.Held, error) {
	if err := c.commit("DecideHolds"); err != nil {
		return nil, err
	}
	return c.DB.DecideHolds(ctx, user, ds, at, by)
}

// crashGateway is the network as a dead service sees it: nothing leaves.
type crashGateway struct {
	pipeline.Gateway
	crash *crashAfter
}

func (g crashGateway) Send(ctx context.Context, frame []byte) (*dispatch.Reply, error) {
	if g.crash.cut() {
		return nil, errCrashed
	}
	reply, err := g.Gateway.Send(ctx, frame)
	if err == nil && g.crash.silent {
		return &dispatch.Reply{NoResponseReason: "the meter did not answer"}, nil
	}
	return reply, err
}

// meterLog records every frame handed to the meters, by recipient and
// originator counter.
type meterLog struct {
	mu   sync.Mutex
	seen map[frameKey]int
}

type frameKey struct {
	device  eui.EUI
	counter uint64
}

func (m *meterLog) wrap(g pipeline.Gateway) pipeline.Gateway { return loggedGateway{g, m} }

func (m *meterLog) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.seen {
		n += c
	}
	return n
}

func (m *meterLog) duplicates() []frameKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []frameKey
	for k, c := range m.seen {
		if c > 1 {
			out = append(out, k)
		}
	}
	return out
}

type loggedGateway struct {
	pipeline.Gateway
	log *meterLog
}

func (g loggedGateway) Send(ctx context.Context, frame []byte) (*dispatch.Reply, error) {
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		return nil, fmt.Errorf("test gateway: %w", err)
	}
	g.log.mu.Lock()
	if g.log.seen == nil {
		g.log.seen = map[frameKey]int{}
	}
	g.log.seen[frameKey{m.Recipient, m.Counter}]++
	g.log.mu.Unlock()
	return g.Gateway.Send(ctx, frame)
}
