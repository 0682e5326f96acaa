package thresholds_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// t0 is the fixture's clock: inside every certificate of the demo world.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// world is one demo world for the whole package: its PKI is all the tests
// need, and generating it once keeps them quick.
var world = sync.OnceValues(func() (*demoworld.World, error) {
	return demoworld.New(demoworld.Options{Now: t0, Devices: 2})
})

func demo(t *testing.T) *demoworld.World {
	t.Helper()
	w, err := world()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// fakeHolds records what DecideHolds is asked and answers with held.
type fakeHolds struct {
	mu    sync.Mutex
	calls []holdsCall
	held  []store.Held
	err   error
}

type holdsCall struct {
	user    *eui.EUI // a copy of what was passed
	actions []pipeline.HoldAction
	by      string
}

func (f *fakeHolds) DecideHolds(_ context.Context, user *eui.EUI, actions []pipeline.HoldAction, by string) ([]store.Held, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := holdsCall{actions: slices.Clone(actions), by: by}
	if user != nil {
		u := *user
		c.user = &u
	}
	f.calls = append(f.calls, c)
	return f.held, f.err
}

func (f *fakeHolds) Calls() []holdsCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fixture is a Thresholds over a real SQLite store and a real counter.
type fixture struct {
	w       *demoworld.World
	db      *store.DB
	counter *anomaly.Counter
	holds   *fakeHolds
	audit   *bytes.Buffer
	th      *thresholds.Thresholds
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "ecos.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

func mustParse(t *testing.T, der []byte) *smki.Certificate {
	t.Helper()
	c, err := smki.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ikiOf is the IKI File Signing CA of w, as anomaly.file_signing_cas
// configures it.
func ikiOf(t *testing.T, w *demoworld.World) *smki.Pool {
	t.Helper()
	return smki.NewPool(mustParse(t, w.PKI.FileSigningCA.Cert))
}

// signersOf is every supplier's File Signing certificate.
func signersOf(t *testing.T, w *demoworld.World) *smki.Pool {
	t.Helper()
	var cs []*smki.Certificate
	for _, s := range w.PKI.Suppliers {
		cs = append(cs, mustParse(t, s.FileSigning.Cert))
	}
	return smki.NewPool(cs...)
}

// newFixture builds a Thresholds on db (nil: a fresh store) trusting iki
// (nil: the world's IKI File Signing CA).
func newFixture(t *testing.T, db *store.DB, iki *smki.Pool) *fixture {
	t.Helper()
	w := demo(t)
	if db == nil {
		db = openStore(t)
	}
	if iki == nil {
		iki = ikiOf(t, w)
	}
	f := &fixture{w: w, db: db, counter: anomaly.New(anomaly.Options{}), holds: &fakeHolds{}, audit: &bytes.Buffer{}}
	th, err := thresholds.New(thresholds.Config{Store: db, Counter: f.counter, Holds: f.holds,
		FileSigners: signersOf(t, w), IKI: iki, Now: func() time.Time { return t0 },
		Log: obs.Discard(), Audit: obs.NewAudit(f.audit)})
	if err != nil {
		t.Fatal(err)
	}
	f.th = th
	return f
}

// user is supplier n's EUI-64.
func (f *fixture) user(n int) eui.EUI { return f.w.PKI.Suppliers[n-1].EUI }

// adtFile is supplier n's signed ADT file.
func (f *fixture) adtFile(t *testing.T, n int, seq uint64, rows ...string) []byte {
	t.Helper()
	b, err := f.w.ADTFile(n, seq, rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signAs signs body with supplier n's File Signing key, whatever User the
// body names.
func (f *fixture) signAs(t *testing.T, n int, body string) []byte {
	t.Helper()
	s := f.w.PKI.Suppliers[n-1].FileSigning
	b, err := adt.Sign([]byte(body), s.Key, mustParse(t, s.Cert), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) files(t *testing.T, user eui.EUI) []store.ADTFile {
	t.Helper()
	fs, err := f.db.ADTFiles(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// rules are the thresholds the counter has in force for user.
func (f *fixture) rules(user eui.EUI) []adt.Threshold {
	var out []adt.Threshold
	for _, c := range f.counter.Counts(user, t0) {
		out = append(out, c.Rule)
	}
	return out
}

// coS is the 6.23 threshold with that interval in th, or a zero one.
func coS(th []adt.Threshold, interval uint64) adt.Threshold {
	for _, r := range th {
		if r.SRV == adt.SRVCoS && r.Interval == interval {
			return r
		}
	}
	return adt.Threshold{}
}

// wantProblem asserts err is an *adt.Problems wrapping kind, one of whose
// messages contains msg.
func wantProblem(t *testing.T, err, kind error, msg string) {
	t.Helper()
	ps, ok := errors.AsType[*adt.Problems](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *adt.Problems", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("err = %v, want it to wrap %v", err, kind)
	}
	if !slices.ContainsFunc(*ps, func(p adt.Problem) bool { return strings.Contains(p.Msg, msg) }) {
		t.Errorf("no problem says %q: %v", msg, err)
	}
}

func TestSubmitAccepts(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	if got := f.rules(user); got != nil {
		t.Fatalf("before any file, the counter has %v for the User", got)
	}
	b := f.adtFile(t, 2, 5, "6.23,1,2,1440", "6.23,3,4,60")
	a, err := f.th.Submit(t.Context(), b, "api", false)
	if err != nil {
		t.Fatal(err)
	}
	if a.File.User != user || a.File.Sequence != 5 || a.File.Legacy {
		t.Errorf("accepted file %+v", a.File)
	}
	if want := f.w.PKI.Suppliers[1].FileSigning.Serial; a.Signer == nil || a.Signer.SerialNumber.Cmp(want) != 0 {
		t.Errorf("signer %v, want serial %s", a.Signer, want)
	}

	// The file's two rows, then a zero 1440-minute default for every other
	// critical SRV, and nothing for the rest.
	var wantTh []adt.Threshold
	for i := range adt.NumSRVs {
		switch srv := adt.SRVName(i); {
		case srv == adt.SRVCoS:
			wantTh = append(wantTh, adt.Threshold{SRV: srv, Warning: 3, Quarantine: 4, Interval: 60},
				adt.Threshold{SRV: srv, Warning: 1, Quarantine: 2, Interval: 1440})
		case adt.CriticalSRV(srv):
			wantTh = append(wantTh, adt.Threshold{SRV: srv, Interval: 1440, Default: true})
		}
	}
	if len(wantTh) < 3 {
		t.Fatalf("only %d thresholds expected: the critical SRV list is missing", len(wantTh))
	}
	if !slices.Equal(a.Thresholds, wantTh) {
		t.Errorf("Accepted.Thresholds\n got %v\nwant %v", a.Thresholds, wantTh)
	}
	if got := f.rules(user); !slices.Equal(got, wantTh) {
		t.Errorf("counter's thresholds\n got %v\nwant %v", got, wantTh)
	}
	for _, c := range f.counter.Counts(user, t0) {
		if c.Count != 0 {
			t.Errorf("a fresh file's %v counts %d", c.Rule, c.Count)
		}
	}
	if got := f.rules(f.user(1)); got != nil {
		t.Errorf("another User got thresholds: %v", got)
	}

	fs := f.files(t, user)
	if len(fs) != 1 {
		t.Fatalf("stored %d files, want 1", len(fs))
	}
	if s := fs[0]; s.User != user || s.Sequence != 5 || s.Legacy || !bytes.Equal(s.Document, b) ||
		!s.AcceptedAt.Equal(t0) || s.Source != "api" {
		t.Errorf("stored %+v", s)
	}

	audit := f.audit.String()
	for _, want := range []string{`"msg":"adt file accepted"`, `"user":"` + user.String() + `"`, `"sequence":5`,
		`"source":"api"`, `"outcome":"accepted"`, `"signer_serial":"` + a.Signer.SerialNumber.String() + `"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log does not contain %s:\n%s", want, audit)
		}
	}
	if n := strings.Count(audit, "\n"); n != 1 {
		t.Errorf("%d audit lines, want 1:\n%s", n, audit)
	}

	// A higher sequence number replaces the thresholds in force, and the
	// daily window keeps its counts: a new file empties no window.
	srv, _ := anomaly.SRVOf(adt.SRVCoS)
	f.counter.Count(user, srv, t0.Add(-time.Hour))
	f.counter.Count(user, srv, t0.Add(-time.Minute))
	if _, err := f.th.Submit(t.Context(), f.adtFile(t, 2, 9, "6.23,7,8,1440"), "cli", false); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.counter.Counts(user, t0) {
		if c.Rule.SRV == adt.SRVCoS && c.Count != 2 {
			t.Errorf("after sequence 9, %v counts %d, want 2", c.Rule, c.Count)
		}
	}
	if got := f.rules(user); len(got) != len(wantTh)-1 || coS(got, 1440) != (adt.Threshold{SRV: "6.23", Warning: 7, Quarantine: 8, Interval: 1440}) {
		t.Errorf("after sequence 9: %v", got)
	}
	if fs := f.files(t, user); len(fs) != 2 || fs[0].Sequence != 9 || fs[0].Source != "cli" {
		t.Errorf("after sequence 9, stored %+v", fs)
	}
}

// TestSubmitRefusesAndChangesNothing: every refused file leaves the store,
// the counter and the audit log as they were.
func TestSubmitRefusesAndChangesNothing(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	first := f.adtFile(t, 2, 5, "6.23,1,2,1440")
	if _, err := f.th.Submit(t.Context(), first, "api", false); err != nil {
		t.Fatal(err)
	}
	inForce := f.rules(user)
	audit := f.audit.String()

	signed := f.adtFile(t, 2, 6, "6.23,1,2,1440")
	altered := bytes.Replace(signed, []byte("6.23,1,2,"), []byte("6.23,1,3,"), 1)
	if bytes.Equal(altered, signed) {
		t.Fatal("nothing altered")
	}
	for _, tc := range []struct {
		name string
		file []byte
		kind error
		msg  string
	}{
		{"replay/same-file", first, adt.ErrReplay, "sequence number 5 for User " + user.String() + " was already accepted"},
		{"replay/same-sequence", f.adtFile(t, 2, 5, "6.23,100,200,1440"), adt.ErrReplay, "sequence number 5 for User"},
		{"replay/lower-sequence", f.adtFile(t, 2, 4, "6.23,100,200,1440"), adt.ErrReplay, "below the last accepted 5"},
		{"other-suppliers-key", f.signAs(t, 1, user.String()+",7\n6.23,100,200,1440\n"), adt.ErrSigner,
			"not to the file's User " + user.String()},
		{"altered-byte", altered, adt.ErrSignature, "signature does not verify"},
		{"broken-rule", f.adtFile(t, 2, 8, "6.23,9,1,1440"), adt.ErrRule, "warning threshold 9"},
		{"legacy-not-allowed", f.signAs(t, 2, user.String()+"\n6.23,100,200,1440\n"), adt.ErrLegacy, "sequence number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := f.th.Submit(t.Context(), tc.file, "api", false)
			if a != nil {
				t.Errorf("accepted %+v", a.File)
			}
			wantProblem(t, err, tc.kind, tc.msg)
			if fs := f.files(t, user); len(fs) != 1 || fs[0].Sequence != 5 || !bytes.Equal(fs[0].Document, first) {
				t.Errorf("stored files changed: %+v", fs)
			}
			if got := f.rules(user); !slices.Equal(got, inForce) {
				t.Errorf("thresholds in force changed:\n got %v\nwant %v", got, inForce)
			}
			// Exactly one record: the refusal, naming why.
			grown := strings.TrimPrefix(f.audit.String(), audit)
			if strings.Count(grown, "\n") != 1 || !strings.Contains(grown, `"msg":"adt file refused"`) || !strings.Contains(grown, `"outcome":"refused"`) {
				t.Errorf("audit log grew by: %s", grown)
			}
			audit = f.audit.String()
		})
	}
	// Supplier 1 has no file, and gets none from a refusal in its name.
	if fs := f.files(t, f.user(1)); len(fs) != 0 {
		t.Errorf("supplier 1 has files %+v", fs)
	}
}

// TestSubmitConcurrent: files of one User submitted at once, in any
// order, leave the highest sequence number's thresholds in force, in the
// store and in the counter alike.
func TestSubmitConcurrent(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	const n = 12
	files := make([][]byte, n)
	for i := range files {
		files[i] = f.adtFile(t, 2, uint64(i+1), fmt.Sprintf("6.23,%d,%d,1440", i+1, i+1))
	}
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- {
		wg.Go(func() {
			_, err := f.th.Submit(t.Context(), files[i], "api", false)
			if err != nil && !errors.Is(err, adt.ErrReplay) && !errors.Is(err, store.ErrReplay) {
				t.Errorf("sequence %d: %v", i+1, err)
			}
		})
	}
	wg.Wait()
	fs := f.files(t, user)
	if len(fs) == 0 || fs[0].Sequence != n {
		t.Fatalf("newest stored file %+v, want sequence %d", fs, n)
	}
	if got := coS(f.rules(user), 1440); got.Warning != n {
		t.Errorf("in force %v, want sequence %d's", got, n)
	}
}

func TestShow(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	v, err := f.th.Show(t.Context(), user)
	if err != nil || v.User != user || len(v.Files) != 0 || v.Thresholds != nil || v.Held != 0 {
		t.Fatalf("before any file: %+v %v", v, err)
	}
	for seq := uint64(1); seq <= 2; seq++ {
		if _, err := f.th.Submit(t.Context(), f.adtFile(t, 2, seq, "6.23,5,6,1440"), "api", false); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := anomaly.SRVOf(adt.SRVCoS)
	f.counter.Count(user, srv, t0.Add(-time.Minute))
	v, err = f.th.Show(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Files) != 2 || v.Files[0].Sequence != 2 || v.Files[1].Sequence != 1 || v.Files[0].Document != nil {
		t.Errorf("files %+v", v.Files)
	}
	var daily []thresholds.Count
	for _, c := range v.Thresholds {
		if c.SRV == adt.SRVCoS {
			daily = append(daily, c)
		}
	}
	if len(daily) != 1 || daily[0].Interval != 1440 || daily[0].Warning != 5 || daily[0].Count != 1 {
		t.Errorf("6.23 thresholds %+v", daily)
	}
}

// raceStore is a Store whose ADTFiles forgets every file, as if another
// process accepted one between the check and the insert: the store must
// still refuse the replay.
type raceStore struct{ *store.DB }

func (raceStore) ADTFiles(context.Context, eui.EUI) ([]store.ADTFile, error) {
	return []store.ADTFile{}, nil
}

func TestSubmitStoreRefusesReplay(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	if _, err := f.th.Submit(t.Context(), f.adtFile(t, 2, 5, "6.23,1,2,1440"), "api", false); err != nil {
		t.Fatal(err)
	}
	inForce := f.rules(user)
	counter := anomaly.New(anomaly.Options{})
	counter.SetUser(user, inForce)
	audit := &bytes.Buffer{}
	th, err := thresholds.New(thresholds.Config{Store: raceStore{f.db}, Counter: counter, Holds: f.holds,
		FileSigners: signersOf(t, f.w), IKI: ikiOf(t, f.w), Now: func() time.Time { return t0 },
		Log: obs.Discard(), Audit: obs.NewAudit(audit)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = th.Submit(t.Context(), f.adtFile(t, 2, 5, "6.23,100,200,1440"), "api", false)
	if !errors.Is(err, store.ErrReplay) {
		t.Fatalf("err = %v, want store.ErrReplay", err)
	}
	if fs := f.files(t, user); len(fs) != 1 {
		t.Errorf("stored %+v", fs)
	}
	var got []adt.Threshold
	for _, c := range counter.Counts(user, t0) {
		got = append(got, c.Rule)
	}
	if !slices.Equal(got, inForce) {
		t.Errorf("thresholds in force changed: %v", got)
	}
	if !strings.Contains(audit.String(), `"outcome":"refused"`) {
		t.Errorf("the refusal is not audited: %s", audit)
	}
}

func TestNoIKIRefusesEveryFile(t *testing.T) {
	f := newFixture(t, nil, smki.NewPool())
	user := f.user(2)
	_, err := f.th.Submit(t.Context(), f.adtFile(t, 2, 5, "6.23,1,2,1440"), "api", false)
	wantProblem(t, err, adt.ErrSigner, "anomaly.file_signing_cas")
	_, err = f.th.Submit(t.Context(), f.signAs(t, 2, user.String()+"\n6.23,1,2,1440\n"), "operator", true)
	wantProblem(t, err, adt.ErrSigner, "anomaly.file_signing_cas")
	if fs := f.files(t, user); len(fs) != 0 {
		t.Errorf("stored %+v", fs)
	}
	if got := f.rules(user); got != nil {
		t.Errorf("thresholds put in force: %v", got)
	}

	act, err := f.w.ActionFile(2, []uint64{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	held, err := f.th.Act(t.Context(), act)
	wantProblem(t, err, adt.ErrSigner, "anomaly.file_signing_cas")
	if held != nil || len(f.holds.Calls()) != 0 {
		t.Errorf("holds decided: %v %v", held, f.holds.Calls())
	}
}

func TestSubmitLegacy(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	// A legacy file need not have the 1440-minute 6.23 row.
	legacy := f.signAs(t, 2, user.String()+"\n6.23,1,2,60\n")

	_, err := f.th.Submit(t.Context(), legacy, "api", false)
	wantProblem(t, err, adt.ErrLegacy, "")
	if fs := f.files(t, user); len(fs) != 0 {
		t.Fatalf("legacy file stored without legacy=true: %+v", fs)
	}

	a, err := f.th.Submit(t.Context(), legacy, "operator", true)
	if err != nil {
		t.Fatalf("legacy=true, first file: %v", err)
	}
	if !a.File.Legacy || a.File.Sequence != 0 {
		t.Errorf("accepted %+v", a.File)
	}
	// Carried over as written: no June 2023 zeros for critical SRVs.
	if want := []adt.Threshold{{SRV: "6.23", Warning: 1, Quarantine: 2, Interval: 60}}; !slices.Equal(a.Thresholds, want) {
		t.Errorf("legacy thresholds %v, want %v", a.Thresholds, want)
	}
	if got := f.rules(user); coS(got, 60) != (adt.Threshold{SRV: "6.23", Warning: 1, Quarantine: 2, Interval: 60}) || coS(got, 1440).SRV != "" {
		t.Errorf("in force after the legacy file: %v", got)
	}
	if fs := f.files(t, user); len(fs) != 1 || !fs[0].Legacy || fs[0].Sequence != 0 || fs[0].Source != "operator" {
		t.Errorf("stored %+v", fs)
	}
	if !strings.Contains(f.audit.String(), `"legacy":true`) {
		t.Errorf("audit does not say legacy: %s", f.audit)
	}
	inForce := f.rules(user)

	// A second legacy file, even a different one, is refused.
	again := f.signAs(t, 2, user.String()+"\n6.23,5,6,60\n")
	if _, err := f.th.Submit(t.Context(), again, "operator", true); !errors.Is(err, adt.ErrLegacy) || !strings.Contains(err.Error(), "legacy file in force") {
		t.Errorf("second legacy file: err = %v, want a legacy refusal", err)
	}
	if got := f.rules(user); !slices.Equal(got, inForce) {
		t.Errorf("thresholds changed by a refused legacy file: %v", got)
	}
	// The legacy file counts as sequence 0: sequence 1 follows it.
	if _, err := f.th.Submit(t.Context(), f.adtFile(t, 2, 1, "6.23,3,4,1440"), "api", false); err != nil {
		t.Fatalf("sequence 1 after the legacy file: %v", err)
	}

	// For a User with a file already, legacy=true does not let a legacy
	// file in.
	u1 := f.user(1)
	if _, err := f.th.Submit(t.Context(), f.adtFile(t, 1, 1, "6.23,3,4,1440"), "api", false); err != nil {
		t.Fatal(err)
	}
	_, err = f.th.Submit(t.Context(), f.signAs(t, 1, u1.String()+"\n6.23,1,2,60\n"), "operator", true)
	if !errors.Is(err, adt.ErrLegacy) || !strings.Contains(err.Error(), "has file 1 in force") {
		t.Errorf("legacy file after sequence 1: err = %v, want a legacy refusal", err)
	}
	if fs := f.files(t, u1); len(fs) != 1 || fs[0].Legacy {
		t.Errorf("supplier 1 stored %+v", fs)
	}
	if got := f.rules(u1); coS(got, 1440).Warning != 3 {
		t.Errorf("supplier 1's thresholds changed: %v", got)
	}
}

// record stores an authorised request of user at at, as step 9 admitted.
func record(t *testing.T, db *store.DB, user eui.EUI, counter uint64, at time.Time) {
	t.Helper()
	err := db.RecordRequest(t.Context(), store.Received{
		ID: store.RequestID{Originator: user, Target: demoworld.Device(1), Counter: counter},
		At: at, Document: []byte("<request/>"), State: store.RequestAuthorised,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	f := newFixture(t, nil, nil)
	u1, u2 := f.user(1), f.user(2)
	for _, s := range []struct {
		n    int
		seq  uint64
		rows []string
	}{
		{1, 1, []string{"6.23,1,2,1440"}},
		{1, 2, []string{"6.23,3,4,1440"}},
	} {
		if _, err := f.th.Submit(t.Context(), f.adtFile(t, s.n, s.seq, s.rows...), "api", false); err != nil {
			t.Fatal(err)
		}
	}
	// Supplier 2's file in force is a legacy one: it must read again as
	// one.
	legacy := f.signAs(t, 2, u2.String()+"\n6.23,5,6,1440\n6.23,1,1,60\n")
	if _, err := f.th.Submit(t.Context(), legacy, "operator", true); err != nil {
		t.Fatal(err)
	}
	// Supplier 2's requests: two in the last day, one older.
	record(t, f.db, u2, 1, t0.Add(-25*time.Hour))
	record(t, f.db, u2, 2, t0.Add(-2*time.Hour))
	record(t, f.db, u2, 3, t0.Add(-30*time.Minute))

	// A restart: a fresh counter, the same store.
	g := newFixture(t, f.db, nil)
	l, err := g.th.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if l.Users != 2 || l.Restored != 2 {
		t.Errorf("Load = %+v, want 2 Users and 2 requests", l)
	}
	if got, want := g.rules(u1), f.rules(u1); !slices.Equal(got, want) || coS(got, 1440).Warning != 3 {
		t.Errorf("supplier 1 after Load: %v, want sequence 2's %v", got, want)
	}
	if got, want := g.rules(u2), f.rules(u2); !slices.Equal(got, want) {
		t.Errorf("supplier 2 after Load: %v, want %v", got, want)
	}
	counts := map[uint64]uint64{}
	for _, c := range g.counter.Counts(u2, t0) {
		if c.Rule.SRV == adt.SRVCoS {
			counts[c.Rule.Interval] = c.Count
		}
	}
	if counts[1440] != 2 || counts[60] != 1 {
		t.Errorf("supplier 2's 6.23 counts after Load: %v, want 1440m: 2, 60m: 1", counts)
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	f := newFixture(t, nil, nil)
	u2 := f.user(2)
	if _, err := f.th.Submit(t.Context(), f.adtFile(t, 1, 1, "6.23,1,2,1440"), "api", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.th.Submit(t.Context(), f.adtFile(t, 2, 3, "6.23,1,2,1440"), "api", false); err != nil {
		t.Fatal(err)
	}
	// Sequence 4 of supplier 2, stored behind thresholds' back, does not
	// read: it is the file in force.
	if err := f.db.AcceptADTFile(t.Context(), store.ADTFile{User: u2, Sequence: 4, Document: []byte("garbage\n"),
		AcceptedAt: t0, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	g := newFixture(t, f.db, nil)
	_, err := g.th.Load(t.Context())
	if err == nil {
		t.Fatal("Load succeeded with an unreadable file in force")
	}
	for _, want := range []string{u2.String(), "ADT file 4 "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, ok := errors.AsType[*adt.Problems](err); !ok {
		t.Errorf("error %v does not carry the file's problems", err)
	}
	if got := g.rules(u2); got != nil {
		t.Errorf("supplier 2 got thresholds from an unreadable file: %v", got)
	}
}

func TestAct(t *testing.T) {
	f := newFixture(t, nil, nil)
	user := f.user(2)
	f.holds.held = []store.Held{{Ref: 11, State: store.HoldReleased}, {Ref: 12, State: store.HoldDeleted}}
	b, err := f.w.ActionFile(2, []uint64{11, 13}, []uint64{12})
	if err != nil {
		t.Fatal(err)
	}
	held, err := f.th.Act(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(held, f.holds.held) {
		t.Errorf("Act returned %v, want what DecideHolds did", held)
	}
	calls := f.holds.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d DecideHolds calls, want 1", len(calls))
	}
	c := calls[0]
	if c.user == nil || *c.user != user {
		t.Errorf("DecideHolds for User %v, want %s", c.user, user)
	}
	want := []pipeline.HoldAction{{Ref: 11, Release: true}, {Ref: 13, Release: true}, {Ref: 12, Release: false}}
	if !slices.Equal(c.actions, want) {
		t.Errorf("actions %+v, want %+v", c.actions, want)
	}
	sum := sha256.Sum256(b)
	if wantBy := "action-file:" + hex.EncodeToString(sum[:])[:16]; c.by != wantBy {
		t.Errorf("by %q, want %q", c.by, wantBy)
	}
	if !regexp.MustCompile(`^action-file:[0-9a-f]{16}$`).MatchString(c.by) {
		t.Errorf("by %q is not action-file:<16 hex>", c.by)
	}

	// Its refusal is passed on as it is.
	f.holds.err = fmt.Errorf("%w: ref 13 is not held", store.ErrNotFound)
	if _, err := f.th.Act(t.Context(), b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want the store's", err)
	}
	f.holds.err = nil

	for _, tc := range []struct {
		name string
		file []byte
		kind error
		msg  string
	}{
		{"other-users-key", f.signAs(t, 1, user.String()+"\n11,Release\n"), adt.ErrSigner, "not to the file's User"},
		{"altered-byte", bytes.Replace(b, []byte("13,Release"), []byte("14,Release"), 1), adt.ErrSignature, "does not verify"},
		{"an-ADT-file", f.adtFile(t, 2, 20, "6.23,1,2,1440"), adt.ErrSyntax, ""},
		{"duplicate-ref", f.signAs(t, 2, user.String()+"\n11,Release\n11,Delete\n"), adt.ErrRule, "11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.holds.Calls())
			held, err := f.th.Act(t.Context(), tc.file)
			if held != nil {
				t.Errorf("held %v", held)
			}
			ps, ok := errors.AsType[*adt.Problems](err)
			if !ok {
				t.Fatalf("err = %v, want *adt.Problems", err)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("err = %v, want %v", err, tc.kind)
			}
			if !strings.Contains(ps.Error(), tc.msg) {
				t.Errorf("err %v does not say %q", err, tc.msg)
			}
			if n := len(f.holds.Calls()); n != before {
				t.Errorf("DecideHolds called for a refused file")
			}
		})
	}
}

func TestDecide(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.holds.held = []store.Held{{Ref: 7, State: store.HoldReleased, DecidedBy: "operator:bob"}}
	h, err := f.th.Decide(t.Context(), 7, true, "operator:bob")
	if err != nil || h.Ref != 7 {
		t.Fatalf("Decide = %+v, %v", h, err)
	}
	c := f.holds.Calls()
	if len(c) != 1 || c[0].user != nil || c[0].by != "operator:bob" ||
		!slices.Equal(c[0].actions, []pipeline.HoldAction{{Ref: 7, Release: true}}) {
		t.Errorf("DecideHolds calls %+v", c)
	}
	f.holds.held, f.holds.err = nil, fmt.Errorf("%w: 8", store.ErrNotFound)
	if _, err := f.th.Decide(t.Context(), 8, false, "operator"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
}

// reportHolds are one hold still held and one decided, with times in a
// zone other than UTC so that the report's conversion shows.
func reportHolds() []store.Held {
	paris := time.FixedZone("CEST", 2*3600)
	user := eui.MustParse("EE-C0-5E-00-01-00-00-02")
	return []store.Held{{
		Ref:     17,
		Request: store.RequestID{Originator: user, Target: eui.MustParse("EE-C0-5E-DE-00-00-00-01"), Counter: 1001},
		User:    user, Party: "SUPP02", SRV: "6.23", Breach: store.BreachUser,
		Interval: 1440, Warning: 1, Quarantine: 2, Count: 3,
		State:  store.HoldHeld,
		HeldAt: time.Date(2026, 6, 1, 14, 30, 5, 0, paris), ExpiresAt: time.Date(2026, 6, 8, 14, 30, 5, 0, paris),
	}, {
		Ref:     18446744073709551615,
		Request: store.RequestID{Originator: user, Target: eui.MustParse("EE-C0-5E-DE-00-00-00-02"), Counter: 1002},
		User:    user, Party: "SUPP,02", SRV: "6.23", Breach: store.BreachDCC,
		Interval: 60, Warning: 0, Quarantine: 0, Count: 1,
		State:  store.HoldDeleted,
		HeldAt: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 6, 8, 12, 0, 0, 0, time.UTC),
		DecidedAt: time.Date(2026, 6, 2, 1, 2, 3, 0, paris), DecidedBy: "operator:alice",
	}}
}

func TestReportCSV(t *testing.T) {
	var b bytes.Buffer
	if err := thresholds.WriteCSV(&b, thresholds.Report(reportHolds())); err != nil {
		t.Fatal(err)
	}
	const want = "QuarantineEventRef,RequestID,UserID,PartyID,SRV,Breach,IntervalMinutes,WarningThreshold,QuarantineThreshold,Count,State,HeldAt,ExpiresAt,DecidedAt,DecidedBy\n" +
		"17,EE-C0-5E-00-01-00-00-02:EE-C0-5E-DE-00-00-00-01:1001,EE-C0-5E-00-01-00-00-02,SUPP02,6.23,user,1440,1,2,3,held,2026-06-01T12:30:05Z,2026-06-08T12:30:05Z,,\n" +
		"18446744073709551615,EE-C0-5E-00-01-00-00-02:EE-C0-5E-DE-00-00-00-02:1002,EE-C0-5E-00-01-00-00-02,\"SUPP,02\",6.23,dcc,60,0,0,1,deleted,2026-06-01T12:00:00Z,2026-06-08T12:00:00Z,2026-06-01T23:02:03Z,operator:alice\n"
	if got := b.String(); got != want {
		t.Errorf("CSV\n got %s\nwant %s", got, want)
	}

	b.Reset()
	if err := thresholds.WriteCSV(&b, nil); err != nil || !strings.HasPrefix(b.String(), "QuarantineEventRef,") || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("empty report: %q %v", b.String(), err)
	}
}

func TestReportJSON(t *testing.T) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(thresholds.Report(reportHolds())); err != nil {
		t.Fatal(err)
	}
	const want = `[
  {
    "quarantine_event_ref": 17,
    "request_id": "EE-C0-5E-00-01-00-00-02:EE-C0-5E-DE-00-00-00-01:1001",
    "user_id": "EE-C0-5E-00-01-00-00-02",
    "party_id": "SUPP02",
    "srv": "6.23",
    "breach": "user",
    "interval_minutes": 1440,
    "warning_threshold": 1,
    "quarantine_threshold": 2,
    "count": 3,
    "state": "held",
    "held_at": "2026-06-01T12:30:05Z",
    "expires_at": "2026-06-08T12:30:05Z"
  },
  {
    "quarantine_event_ref": 18446744073709551615,
    "request_id": "EE-C0-5E-00-01-00-00-02:EE-C0-5E-DE-00-00-00-02:1002",
    "user_id": "EE-C0-5E-00-01-00-00-02",
    "party_id": "SUPP,02",
    "srv": "6.23",
    "breach": "dcc",
    "interval_minutes": 60,
    "warning_threshold": 0,
    "quarantine_threshold": 0,
    "count": 1,
    "state": "deleted",
    "held_at": "2026-06-01T12:00:00Z",
    "expires_at": "2026-06-08T12:00:00Z",
    "decided_at": "2026-06-01T23:02:03Z",
    "decided_by": "operator:alice"
  }
]
`
	if got := b.String(); got != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
}

// dccHeldStore says ref 21 is supplier 2's request held by a DCC-wide
// threshold, and ref 22 one held by its own.
type dccHeldStore struct {
	*store.DB
	user eui.EUI
}

func (s dccHeldStore) Hold(_ context.Context, ref uint64) (store.Held, error) {
	switch ref {
	case 21:
		return store.Held{Ref: 21, User: s.user, Breach: store.BreachDCC, State: store.HoldHeld}, nil
	case 22:
		return store.Held{Ref: 22, User: s.user, Breach: store.BreachUser, State: store.HoldHeld}, nil
	}
	return store.Held{}, store.ErrNotFound
}

// TestActDCCBreachOperatorOnly: a User may delete a request a DCC-wide
// threshold held, but not release it; the file is refused whole.
func TestActDCCBreachOperatorOnly(t *testing.T) {
	f := newFixture(t, nil, nil)
	th, err := thresholds.New(thresholds.Config{Store: dccHeldStore{f.db, f.user(2)}, Counter: f.counter, Holds: f.holds,
		FileSigners: signersOf(t, f.w), IKI: ikiOf(t, f.w), Now: func() time.Time { return t0 },
		Log: obs.Discard(), Audit: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	refused, err := f.w.ActionFile(2, []uint64{22, 21}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = th.Act(t.Context(), refused)
	wantProblem(t, err, adt.ErrRule, "QuarantineEventRef 21 was held by a DCC-wide threshold")
	if ps, ok := errors.AsType[*adt.Problems](err); !ok || len(*ps) != 1 || (*ps)[0].Line != 3 {
		t.Errorf("problems %v, want one on line 3", err)
	}
	if len(f.holds.Calls()) != 0 {
		t.Fatal("a refused action file reached DecideHolds")
	}
	allowed, err := f.w.ActionFile(2, []uint64{22}, []uint64{21})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.Act(t.Context(), allowed); err != nil {
		t.Fatalf("releasing its own hold and deleting the DCC's: %v", err)
	}
	if calls := f.holds.Calls(); len(calls) != 1 || len(calls[0].actions) != 2 {
		t.Errorf("DecideHolds calls %+v", calls)
	}
}
