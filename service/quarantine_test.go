package service_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// serving is a demo service in dir with both listeners up; stop ends it
// and closes it, as a shutdown would.
type serving struct {
	*running
	operator *api.Client
	stop     func()
}

// serveDir serves the demo in dir, its configuration changed by edit.
func serveDir(t *testing.T, dir string, edit ...func(*config.Config)) *serving {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(filepath.Join(dir, demoworld.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edit {
		e(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sim := simulator(t, cfg)
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: sim})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, ln, opLn) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		svc.Close()
	}
	t.Cleanup(stop)
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &serving{
		running:  &running{dir: dir, svc: svc, sim: sim, client: demoClient(t, dir, w, 2, ln.Addr()), world: w},
		operator: &api.Client{BaseURL: "http://" + opLn.Addr().String(), Token: operatorToken(t, cfg)},
		stop:     stop,
	}
}

// TestQuarantineEndToEnd is issue 5's end-to-end case: a supplier lowers
// its SR 6.23 threshold with a signed ADT file; its excess requests are
// held, not sent, and it is told with a signed QuarantinedRequest alert; a
// restart loses nothing held; its signed action file releases one (which
// then changes the meter's supplier) and deletes another (which it is told
// of); the operator deletes a third; the report lists them all.
func TestQuarantineEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testQuarantine(t, store.Config{}) })
	t.Run("postgres", func(t *testing.T) { testQuarantine(t, testkit.FreshPostgres(t)) })
}

func testQuarantine(t *testing.T, db store.Config) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: 6, Database: db}); err != nil {
		t.Fatal(err)
	}
	s := serveDir(t, dir)
	user := s.world.PKI.Suppliers[1].EUI

	// The supplier's new file: warn at 2 a day, hold above 2.
	f, err := s.world.ADTFile(2, 2, []string{"6.23,1,2,1440"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.client.SubmitADT(ctx, f)
	if err != nil {
		t.Fatalf("ADT file refused: %v", err)
	}
	if a.Sequence != 2 || a.User != user.String() || !slices.ContainsFunc(a.Thresholds, func(r api.ThresholdRow) bool {
		return r.SRV == "6.23" && r.Warning == 1 && r.Quarantine == 2 && r.IntervalMinutes == 1440
	}) {
		t.Fatalf("accepted %+v", a)
	}
	// A replay and a broken file are refused, every problem named, and
	// change nothing.
	_, err = s.client.SubmitADT(ctx, f)
	wantRefused(t, err, 409, "sequence number 2")
	bad, err := s.world.ADTFile(2, 3, []string{"6.23,5,1,1440", "6.23,1,2,60", "6.23,1,2,60"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.client.SubmitADT(ctx, bad)
	wantRefused(t, err, 422, "line 2: warning threshold 5 is above", "line 4: duplicate row")
	if v, err := s.operator.ShowADT(ctx, user.String()); err != nil || len(v.Files) != 2 || v.Files[0].Sequence != 2 {
		t.Fatalf("after refusals: %+v %v", v, err)
	}

	ids := make([]store.RequestID, 6)
	for i := 1; i <= 4; i++ {
		ids[i] = submit(t, s.running, i)
	}
	for _, i := range []int{1, 2} {
		waitState(t, s.running, ids[i], store.RequestResponded)
	}
	refs := map[int]uint64{}
	dsp := smki.NewPool(mustParse(t, s.world.PKI.DSPXMLSign.Cert))
	for _, i := range []int{3, 4} {
		refs[i] = checkHeld(t, s.running, ids[i], dsp)
		trusts(t, s.running, i, 1) // not sent: the meter still trusts supplier 1
	}

	// A restart loses nothing held, and forgets no count.
	s.stop()
	s = serveDir(t, dir)
	v, err := s.operator.ShowADT(ctx, user.String())
	if err != nil {
		t.Fatal(err)
	}
	if v.Held != 2 || countOf(v, "6.23", 1440) != 2 {
		t.Fatalf("after restart: %d held, 6.23 daily count %d; want 2 and 2\n%+v", v.Held, countOf(v, "6.23", 1440), v)
	}
	// The DCC-wide window counted the same two, and kept them too.
	dcc, err := s.operator.ShowDCC(ctx)
	if err != nil || len(dcc.Thresholds) != 1 || dcc.Thresholds[0].Count == nil || *dcc.Thresholds[0].Count != 2 {
		t.Fatalf("DCC-wide after restart: %+v %v", dcc, err)
	}

	act, err := s.world.ActionFile(2, []uint64{refs[3]}, []uint64{refs[4]})
	if err != nil {
		t.Fatal(err)
	}
	decided, err := s.client.SubmitActions(ctx, act)
	if err != nil || len(decided) != 2 {
		t.Fatalf("action file: %+v %v", decided, err)
	}
	_, err = s.client.SubmitActions(ctx, act)
	wantRefused(t, err, 409, "")

	waitState(t, s.running, ids[3], store.RequestResponded)
	trusts(t, s.running, 3, 2)
	deleted := waitState(t, s.running, ids[4], store.RequestRejected)
	if deleted.Reason != "quarantine-deleted" {
		t.Errorf("deleted request: reason %q", deleted.Reason)
	}
	told, err := s.svc.Store().Responses(ctx, ids[4])
	if err != nil || len(told) != 3 || told[2].Kind != store.ResponseService || told[2].Code != deleted.ResponseCode {
		t.Errorf("deleted request's documents: %+v %v", told, err)
	}
	trusts(t, s.running, 4, 1)

	// The released request counted: the next one is held too, and the
	// operator deletes it.
	ids[5] = submit(t, s.running, 5)
	refs[5] = checkHeld(t, s.running, ids[5], dsp)
	row, err := s.operator.DecideHold(ctx, refs[5], false, "alice")
	if err != nil || row.State != "deleted" || row.DecidedBy != "operator:alice" {
		t.Fatalf("operator delete: %+v %v", row, err)
	}
	if _, err := s.operator.DecideHold(ctx, refs[5], true, "alice"); err == nil {
		t.Error("a deleted request was released")
	}

	csv, err := s.operator.Quarantine(ctx, user.String(), "", "csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "QuarantineEventRef,RequestID,") {
		t.Fatalf("report:\n%s", csv)
	}
	for i, want := range []string{"released", "deleted", "deleted"} {
		if !strings.Contains(lines[i+1], ","+want+",") || !strings.Contains(lines[i+1], ",user,") {
			t.Errorf("report line %d: %s; want %s", i+2, lines[i+1], want)
		}
	}
}

func submit(t *testing.T, r *running, device int) store.RequestID {
	t.Helper()
	doc, err := r.world.Sign(demoworld.Request{Supplier: 2, Device: demoworld.Device(device), Counter: uint64(time.Now().UnixMicro())})
	if err != nil {
		t.Fatal(err)
	}
	ack, accepted, err := r.client.Submit(context.Background(), doc)
	if err != nil || !accepted {
		t.Fatalf("request %d: accepted=%v err=%v\n%s", device, accepted, err, ack)
	}
	req, err := duis.DecodeRequest(doc)
	if err != nil {
		t.Fatal(err)
	}
	return store.RequestID(req.Header.RequestID)
}

func waitState(t *testing.T, r *running, id store.RequestID, want store.RequestState) store.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got store.Request
	var err error
	if pipeline.IsFinal(want) {
		// Woken by the pipeline when it finishes the request.
		got, err = r.svc.Pipeline().WaitFinal(ctx, id)
	} else {
		// A hold, like every state short of final, is recorded before the
		// request is acknowledged: it is there already or never.
		got, err = r.svc.Store().Request(ctx, id)
	}
	if err != nil || got.State != want {
		t.Fatalf("request %s: %+v %v; want state %s", id, got, err, want)
	}
	return got
}

// checkHeld asserts that id is held and that its User has the signed
// alert saying so, and returns its QuarantineEventRef.
func checkHeld(t *testing.T, r *running, id store.RequestID, dsp *smki.Pool) uint64 {
	t.Helper()
	waitState(t, r, id, store.RequestQuarantined)
	docs, err := r.svc.Store().Responses(context.Background(), id)
	if err != nil || len(docs) != 2 || docs[0].Kind != store.ResponseAcknowledgement || docs[0].Code != "I99" || docs[1].Kind != store.ResponseAlert {
		t.Fatalf("held request %s documents: %+v %v", id, docs, err)
	}
	v, err := xmldsig.Verify(docs[1].Document, dsp)
	if err != nil {
		t.Fatalf("alert signature: %v", err)
	}
	alert, err := duis.DecodeResponse(v.Digested)
	if err != nil {
		t.Fatal(err)
	}
	m := alert.DCCAlertMessage
	q, ok := m.Alert.(*duis.QuarantinedRequest)
	if m == nil || m.DCCAlertCode != "AD1" || !ok || q.Breach != duis.UserThresholdBreach || store.RequestID(q.RequestID) != id || q.QuarantineEventRef == 0 {
		t.Fatalf("alert %+v", m)
	}
	javaValidate(t, docs[1].Document, filepath.Join(r.dir, demoworld.PKIDir, r.world.PKI.DSPXMLSign.Name+".pem"))
	return q.QuarantineEventRef
}

// trusts asserts which supplier meter n's supplier cell holds.
func trusts(t *testing.T, r *running, n, supplier int) {
	t.Helper()
	dev, ok := r.sim.Fleet().Device(demoworld.Device(n))
	if !ok {
		t.Fatalf("no meter %d", n)
	}
	want := r.world.PKI.Suppliers[supplier-1].EUI
	for _, a := range dev.Anchors() {
		if a.Cell.Role == gbcs.RoleSupplier && a.Cert != nil && a.Cert.EUI != want {
			t.Errorf("meter %d trusts %s, want supplier %d (%s)", n, a.Cert.EUI, supplier, want)
		}
	}
}

func countOf(v api.ADTView, srv string, interval uint64) uint64 {
	for _, r := range v.Thresholds {
		if r.SRV == srv && r.IntervalMinutes == interval && r.Count != nil {
			return *r.Count
		}
	}
	return 1<<64 - 1
}

func wantRefused(t *testing.T, err error, status int, msgs ...string) {
	t.Helper()
	re, ok := errors.AsType[*api.RefusedError](err)
	if !ok || re.Status != status {
		t.Fatalf("err = %v, want a %d refusal", err, status)
	}
	for _, m := range msgs {
		if !strings.Contains(re.Error(), m) {
			t.Errorf("refusal %q does not say %q", re.Error(), m)
		}
	}
}

// operatorToken is the operator token of the service cfg configures.
func operatorToken(t *testing.T, cfg *config.Config) string {
	t.Helper()
	tok, err := cfg.OperatorToken()
	if err != nil || tok == nil {
		t.Fatalf("operator token: %q, %v", tok, err)
	}
	return string(tok)
}
