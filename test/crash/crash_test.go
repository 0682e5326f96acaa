package crash_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

const (
	devices      = 20 // meters, one load goroutine each
	kills        = 8  // SIGKILLs under load
	minKillAfter = 100 * time.Millisecond
	maxKillAfter = 600 * time.Millisecond
	// minAckedPerRun: a run is not killed before this many acknowledgements
	// (unless 10 s pass), so slow machines still put load on every kill.
	minAckedPerRun = 10
	settle         = 30 * time.Second // for the last run to finish everything
	tcosRole       = "transitionalCoS"
)

// TestKill9UnderLoad is the crash-safety test: the server is killed with
// SIGKILL repeatedly while suppliers submit 6.23s; after a last restart
// every acknowledged request must reach a final state, no frame may reach
// a device twice and no originator counter may be used twice.
//
// Each meter gets its next request only once its previous one is final,
// so the commands of one meter never overlap and its counters must rise
// in command order; the server's own concurrency comes from the twenty
// meters being served at once.
func TestKill9UnderLoad(t *testing.T) { eachBackend(t, kill9UnderLoad) }

func kill9UnderLoad(t *testing.T, bin string, database store.Config) {
	ctx := t.Context()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "demo")
	cfgPath, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: devices, Database: database, PlainHTTP: true}) // crash safety, not authentication
	if err != nil {
		t.Fatal(err)
	}
	dbCfg := demoStore(dir, database)

	world, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	supplier := world.PKI.Suppliers[1].EUI // supplier 2: every MPAN is registered to it

	sim := start(t, filepath.Join(tmp, "devicesim.log"), bin, devicesimReady,
		"devicesim", "--listen", "127.0.0.1:0", "--pki", filepath.Join(dir, demoworld.PKIDir), "--devices", fmt.Sprint(devices))
	t.Cleanup(func() { sim.stop(t) })
	simURL := "http://" + waitReady(t, sim).listen
	rewriteConfig(t, cfgPath, simURL)

	ld := &load{world: world, supplier: supplier, counters: make([]uint64, devices+1),
		acked: map[store.RequestID]bool{}, tried: map[store.RequestID]bool{}, refused: map[string]int{}, ackedMore: make(chan struct{})}
	rng := rand.New(rand.NewPCG(62, 623))
	var inFlight []map[string]int // per kill: unfinished requests by state, read from the store
	for k := range kills {
		srv := start(t, filepath.Join(tmp, fmt.Sprintf("serve-%d.log", k)), bin, serveReady, "serve", "--config", cfgPath)
		ld.client = usersClient(waitReady(t, srv)) // no load runs: set before it starts
		loadCtx, stopLoad := context.WithCancel(ctx)
		before := ld.ackedCount()
		began := time.Now()
		done := ld.run(loadCtx)
		// sleep-ok: chooses when to kill; nothing is waited for
		time.Sleep(minKillAfter + time.Duration(rng.Int64N(int64(maxKillAfter-minKillAfter))))
		// On a slow or busy machine, wait for some work to be acknowledged
		// so that every kill interrupts something.
		ld.waitAcked(before+minAckedPerRun, began.Add(10*time.Second))
		after := time.Since(began)
		if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatalf("kill %d: %v", k, err)
		}
		<-srv.exited
		stopLoad()
		<-done
		st := unfinished(t, dbCfg)
		inFlight = append(inFlight, st)
		t.Logf("kill %d after %v: %d acknowledged so far; in flight at the kill: %v", k, after.Round(time.Millisecond), ld.ackedCount(), st)
	}

	// The last run: recovery, then every acknowledged request must end.
	srv := start(t, filepath.Join(tmp, "serve-final.log"), bin, serveReady, "serve", "--config", cfgPath)
	ld.client = usersClient(waitReady(t, srv))
	waitFinal(t, srv, ld.client, ld.ackedIDs())
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(15 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.exited
		t.Fatalf("the server did not stop within 15s of SIGTERM\n%s", srv.tail())
	}

	recovered := 0
	for _, m := range inFlight {
		for _, n := range m {
			recovered += n
		}
	}
	t.Logf("%d requests tried, %d acknowledged, %d refused %v; %d in flight at a kill and recovered",
		len(ld.tried), len(ld.acked), ld.refusedCount(), ld.refused, recovered)

	check(t, dbCfg, ld, simURL)

	if len(ld.acked) < 50 {
		t.Errorf("only %d requests were acknowledged: too little load to say anything (want ≥ 50)", len(ld.acked))
	}
	if recovered == 0 {
		t.Errorf("no request was in flight at any of the %d kills: the test exercised no recovery", kills)
	}
}

// load submits 6.23s for every meter, one goroutine per meter, each
// waiting for its request to be final before sending the next.
type load struct {
	world    *demoworld.World
	supplier eui.EUI
	client   *api.Client
	counters []uint64 // per meter (1-based): the last RequestID counter used

	mu        sync.Mutex
	tried     map[store.RequestID]bool // submitted, whatever came of it
	acked     map[store.RequestID]bool // answered 200: the server holds it durably
	ackedMore chan struct{}            // closed (and replaced) at each acknowledgement
	refused   map[string]int           // 400s by body prefix (none expected)
}

// ack notes id acknowledged and wakes waitAcked; l.mu is held.
func (l *load) ack(id store.RequestID) {
	l.acked[id] = true
	close(l.ackedMore)
	l.ackedMore = make(chan struct{})
}

// waitAcked returns once n requests in all are acknowledged, or at
// deadline, whichever is first.
func (l *load) waitAcked(n int, deadline time.Time) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		l.mu.Lock()
		got, more := len(l.acked), l.ackedMore
		l.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-more:
		case <-t.C:
			return
		}
	}
}

func (l *load) run(ctx context.Context) <-chan struct{} {
	var wg sync.WaitGroup
	for n := 1; n <= devices; n++ {
		wg.Go(func() { l.meter(ctx, n) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

func (l *load) meter(ctx context.Context, n int) {
	dev := demoworld.Device(n)
	for ctx.Err() == nil {
		l.counters[n]++ // only this goroutine touches counters[n] while it runs
		r := demoworld.Request{Supplier: 2, Device: dev, Counter: l.counters[n]}
		doc, err := l.world.Sign(r)
		if err != nil {
			panic(err) // a broken fixture, not a crash effect
		}
		id := store.RequestID{Originator: l.supplier, Target: dev, Counter: r.Counter}
		l.mu.Lock()
		l.tried[id] = true
		l.mu.Unlock()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, accepted, err := l.client.Submit(sctx, doc)
		cancel()
		if err != nil {
			return // the server died (or the load stopped): not acknowledged
		}
		if !accepted {
			l.mu.Lock()
			l.refused[clip(string(ack), 120)]++
			l.mu.Unlock()
			continue
		}
		l.mu.Lock()
		l.ack(id)
		l.mu.Unlock()
		for ctx.Err() == nil {
			_, final, err := l.client.Response(ctx, duis.RequestID(id).String(), 5*time.Second)
			if err != nil {
				return
			}
			if final {
				break
			}
		}
	}
}

func (l *load) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *load) refusedCount() int {
	n := 0
	for _, c := range l.refused {
		n += c
	}
	return n
}

func (l *load) ackedIDs() []store.RequestID {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]store.RequestID, 0, len(l.acked))
	for id := range l.acked {
		ids = append(ids, id)
	}
	return ids
}

// waitFinal waits, on the server's own long poll, until every id is
// final, for at most settle in all.
func waitFinal(t *testing.T, srv *proc, c *api.Client, ids []store.RequestID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), settle)
	defer cancel()
	for i, id := range ids {
		for {
			_, final, err := c.Response(ctx, duis.RequestID(id).String(), settle)
			if err != nil {
				t.Fatalf("%d acknowledged requests not final %v after the last restart (e.g. %s: %v)\n%s", len(ids)-i, settle, id, err, srv.tail())
			}
			if final {
				break
			}
		}
	}
}

type command struct {
	id      int64
	device  eui.EUI
	counter uint64
	state   string
	sent    bool
}

// check opens the stopped server's database and the simulator and checks
// the crash-safety promises.
func check(t *testing.T, dbCfg store.Config, ld *load, simURL string) {
	ctx := t.Context()
	db, err := store.Open(ctx, dbCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Every acknowledged request is stored and final; nothing is left unfinished.
	final := map[store.RequestState]bool{store.RequestResponded: true, store.RequestFailed: true, store.RequestRejected: true}
	for id := range ld.acked {
		r, err := db.Request(ctx, id)
		if err != nil {
			t.Errorf("acknowledged request %s: %v", id, err)
			continue
		}
		if !final[r.State] {
			t.Errorf("acknowledged request %s is %s after the last run", id, r.State)
		}
	}
	if left, err := db.UnfinishedRequests(ctx, 1000); err != nil {
		t.Fatal(err)
	} else if len(left) > 0 {
		t.Errorf("%d requests left unfinished after the last run, e.g. %s in state %s", len(left), left[0].ID, left[0].State)
	}
	counts, err := db.CountRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("requests by state: %v", counts)

	// Every request has at most one responded command.
	for id := range ld.tried {
		cmds, err := db.CommandsForRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		responded := 0
		for _, c := range cmds {
			if c.State == store.CommandResponded {
				responded++
			}
		}
		if responded > 1 {
			t.Errorf("request %s has %d responded commands", id, responded)
		}
	}

	raw := openRaw(t, dbCfg)
	defer raw.Close()
	cmds := readCommands(t, raw)
	var cos uint64
	if err := raw.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'cos'`).Scan(&cos); err != nil {
		t.Fatalf("reading the cos counter: %v", err)
	}

	// No counter is used twice, per device or at all (one namespace), and
	// the counter row is ahead of every counter used.
	byCounter := map[uint64]int64{}
	lastOf := map[eui.EUI]command{}
	maxSent, maxResponded := map[eui.EUI]uint64{}, map[eui.EUI]uint64{}
	sentCounters := map[eui.EUI]map[uint64]bool{}
	states := map[string]int{}
	sent, responded := 0, 0
	for _, c := range cmds {
		states[c.state]++
		if prev, dup := byCounter[c.counter]; dup {
			t.Errorf("counter %d used by commands %d and %d", c.counter, prev, c.id)
		}
		byCounter[c.counter] = c.id
		if c.counter > cos {
			t.Errorf("command %d has counter %d, beyond the cos counter %d: a later reservation would reuse it", c.id, c.counter, cos)
		}
		if prev, ok := lastOf[c.device]; ok && c.counter <= prev.counter {
			t.Errorf("device %s: command %d has counter %d, not above command %d's %d", c.device, c.id, c.counter, prev.id, prev.counter)
		}
		lastOf[c.device] = c
		if c.sent {
			sent++
			maxSent[c.device] = max(maxSent[c.device], c.counter)
			if sentCounters[c.device] == nil {
				sentCounters[c.device] = map[uint64]bool{}
			}
			sentCounters[c.device][c.counter] = true
		}
		if c.state == string(store.CommandResponded) {
			responded++
			maxResponded[c.device] = max(maxResponded[c.device], c.counter)
		}
		if c.state != string(store.CommandResponded) && c.state != string(store.CommandFailed) {
			t.Errorf("command %d (device %s, counter %d) left in state %s", c.id, c.device, c.counter, c.state)
		}
	}
	t.Logf("%d commands %v, %d marked sent, %d responded; cos counter %d", len(cmds), states, sent, responded, cos)

	// None is sent twice: the simulator saw each (device, counter) once,
	// and no more frames than commands marked sent.
	var stats devicesim.Stats
	getJSON(t, simURL+"/v1/stats", &stats)
	t.Logf("devicesim: %d frames received, %d duplicates", stats.Frames, stats.DuplicateFrames)
	if stats.DuplicateFrames != 0 {
		t.Errorf("devicesim received %d duplicate frames (same device, originator and counter): a command was sent twice", stats.DuplicateFrames)
	}
	if stats.Frames > sent {
		t.Errorf("devicesim received %d frames but only %d commands are recorded as sent: something was sent unrecorded", stats.Frames, sent)
	}
	if stats.Frames < responded {
		t.Errorf("devicesim received %d frames but %d commands are recorded as answered", stats.Frames, responded)
	}

	// Each meter's TCoS counter is that of a command we sent: at least the
	// last one answered, at most the last one marked sent (a kill between
	// marking and posting leaves the meter one behind, which is allowed).
	for n := 1; n <= devices; n++ {
		d := demoworld.Device(n)
		var st struct {
			SeqNumbers map[string]uint64 `json:"seqNumbers"`
		}
		getJSON(t, simURL+"/v1/devices/"+d.String(), &st)
		seq, ok := st.SeqNumbers[tcosRole]
		if !ok {
			t.Fatalf("device %s reports no %s counter: %v", d, tcosRole, st.SeqNumbers)
		}
		switch {
		case seq < maxResponded[d]:
			t.Errorf("device %s: %s counter %d is below the last answered command's %d", d, tcosRole, seq, maxResponded[d])
		case seq > maxSent[d]:
			t.Errorf("device %s: %s counter %d is above every command sent to it (last %d)", d, tcosRole, seq, maxSent[d])
		case seq != 0 && !sentCounters[d][seq]:
			t.Errorf("device %s: %s counter %d belongs to no command marked sent", d, tcosRole, seq)
		}
	}
}

func readCommands(t *testing.T, db *sql.DB) []command {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT command_id, device_eui, counter, state, sent_at_us IS NOT NULL FROM commands ORDER BY command_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cmds []command
	for rows.Next() {
		var c command
		var dev []byte
		var counter int64
		if err := rows.Scan(&c.id, &dev, &counter, &c.state, &c.sent); err != nil {
			t.Fatal(err)
		}
		if len(dev) != len(c.device) {
			t.Fatalf("command %d: device EUI of %d bytes", c.id, len(dev))
		}
		copy(c.device[:], dev)
		c.counter = uint64(counter)
		cmds = append(cmds, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// unfinished reads, with the server dead, how many requests each
// unfinished state holds: what the next start must recover.
func unfinished(t *testing.T, dbCfg store.Config) map[string]int {
	t.Helper()
	db := openRaw(t, dbCfg)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT state, count(*) FROM requests WHERE state IN ('received', 'authorised', 'signed', 'sent') GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// proc is a started ecos process whose output goes to a log file.
type proc struct {
	cmd    *exec.Cmd
	log    string
	ready  chan ready // gets what the process said when it was ready, once
	exited chan struct{}
	err    error // valid once exited is closed
}

// ready is what a process said once it was ready: where it listens.
type ready struct{ listen, operator string }

// devicesimReady reads devicesim's line saying it listens.
func devicesimReady(line string) (ready, bool) {
	rest, ok := strings.CutPrefix(line, "devicesim: ")
	if !ok {
		return ready{}, false
	}
	_, rest, ok = strings.Cut(rest, " on http://")
	addr, _, _ := strings.Cut(rest, " ")
	return ready{listen: addr}, ok
}

// serveReady reads serve's log record saying it serves: recovery is
// over and both listeners accept.
func serveReady(line string) (ready, bool) {
	var rec struct {
		Msg      string `json:"msg"`
		Listen   string `json:"listen"`
		Operator string `json:"operator_listen"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "ecos serving" {
		return ready{}, false
	}
	return ready{listen: rec.Listen, operator: rec.Operator}, true
}

// start runs bin with args, its output in logPath; isReady says which
// line of that output means the process is ready.
func start(t *testing.T, logPath, bin string, isReady func(string) (ready, bool), args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{log: logPath, ready: make(chan ready, 1), exited: make(chan struct{})}
	out := &watcher{file: f, isReady: isReady, ready: p.ready}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// watcher copies a process's output to its log file and hands on the
// first line that says it is ready.
type watcher struct {
	file    *os.File
	isReady func(string) (ready, bool)
	ready   chan<- ready

	mu   sync.Mutex
	line []byte
	said bool
}

func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for rest := b; !w.said && len(rest) > 0; {
		chunk, after, whole := bytes.Cut(rest, []byte("\n"))
		w.line, rest = append(w.line, chunk...), after
		if !whole {
			break
		}
		if r, ok := w.isReady(string(w.line)); ok {
			w.ready <- r
			w.said = true
		}
		w.line = w.line[:0]
	}
	return w.file.Write(b)
}

func (p *proc) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop on SIGTERM", p.cmd.Path)
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail is the end of the process's log, for failure messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return fmt.Sprintf("--- %s %v (tail) ---\n%s", filepath.Base(p.log), p.cmd.Args[1:], b)
}

// waitReady returns what p said once it was ready to serve, and checks
// that it answers /healthz then.
func waitReady(t *testing.T, p *proc) ready {
	t.Helper()
	var r ready
	select {
	case r = <-p.ready:
	case <-p.exited:
		t.Fatalf("%s exited before serving: %v\n%s", p.cmd.Path, p.err, p.tail())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not say it serves within 20s\n%s", p.cmd.Path, p.tail())
	}
	url := "http://" + r.listen + "/healthz"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("%s once ready: %v\n%s", url, err, p.tail())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s once ready: %s\n%s", url, resp.Status, p.tail())
	}
	return r
}

// usersClient is a supplier's client of the server that said r, one
// connection a request so that a kill cuts nothing it reuses.
// operatorClient is a client of the operator API of the server r
// describes, with the operator token of the demo in dir.
func operatorClient(t *testing.T, r ready, dir string) *api.Client {
	t.Helper()
	tok, err := demoworld.OperatorToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := usersClient(ready{listen: r.operator})
	c.Token = tok
	return c
}

func usersClient(r ready) *api.Client {
	return &api.Client{BaseURL: "http://" + r.listen, HTTP: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// rewriteConfig points the demo configuration at an HTTP device gateway
// (the out-of-process simulator, which outlives server crashes), has the
// server listen on ports the kernel picks, and log in JSON, where the
// test reads which.
func rewriteConfig(t *testing.T, path, gateway string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["listen"] = "127.0.0.1:0"
	cfg["operator_listen"] = "127.0.0.1:0"
	logCfg, _ := cfg["log"].(map[string]any)
	if logCfg == nil {
		logCfg = map[string]any{}
	}
	logCfg["format"] = "json"
	cfg["log"] = logCfg
	cfg["devices"] = map[string]any{"gateway": "http", "url": gateway, "pki": demoworld.PKIDir, "timeout": "5s"}
	if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// buildEcos builds the ecos binary into dir, or skips the test when it
// cannot.
func buildEcos(t *testing.T, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the ecos binary; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build ecos with")
	}
	bin := filepath.Join(dir, "ecos")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "./cmd/ecos")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building ecos: %v\n%s", err, out)
	}
	return bin
}

// moduleRoot is the directory holding go.mod, found from this file.
func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	dir := filepath.Dir(file)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/ecos-cos/ecos")) {
			return dir
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above " + filepath.Dir(file))
		}
		dir = parent
	}
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
