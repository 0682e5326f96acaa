package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// ADT files: a User's sequence numbers only go up, and the newest file is
// the one in force.

func adtFile(user eui.EUI, seq uint64) store.ADTFile {
	return store.ADTFile{
		User: user, Sequence: seq, AcceptedAt: t0.Add(hour * time.Duration(seq)),
		Document: fmt.Appendf(nil, "%s,%d\r\n6.23,50,100,1440\r\nSignature,CN%%3DIKI,1,sig\r\n", user, seq),
		Source:   "upload:operator:alice",
	}
}

func legacyFile(user eui.EUI) store.ADTFile {
	f := adtFile(user, 0)
	f.Legacy = true
	f.Document = fmt.Appendf(nil, "%s\n6.23,50,100,1440\nSignature,CN%%3DIKI,1,sig\n", user)
	return f
}

func sequences(t *testing.T, db *store.DB, user eui.EUI) []uint64 {
	t.Helper()
	fs, err := db.ADTFiles(ctxOf(t), user)
	must(t, err)
	out := []uint64{}
	for _, f := range fs {
		out = append(out, f.Sequence)
	}
	return out
}

func wantReplayNaming(t *testing.T, err error, last string) {
	t.Helper()
	wantIs(t, err, store.ErrReplay)
	if !strings.Contains(err.Error(), last) {
		t.Fatalf("replay error %q does not name the last accepted (%s)", err, last)
	}
}

func testADTSequence(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	a, b := eu(0x90, 1), eu(0x90, 2)

	f5 := adtFile(a, 5)
	must(t, db.AcceptADTFile(ctx, f5))
	wantReplayNaming(t, db.AcceptADTFile(ctx, adtFile(a, 5)), "sequence 5")
	wantReplayNaming(t, db.AcceptADTFile(ctx, adtFile(a, 3)), "sequence 5")
	wantReplayNaming(t, db.AcceptADTFile(ctx, legacyFile(a)), "sequence 5")
	if d := cmp.Diff([]uint64{5}, sequences(t, db, a)); d != "" {
		t.Fatalf("after replays (-want +got):\n%s", d)
	}
	must(t, db.AcceptADTFile(ctx, adtFile(a, 6)))
	fs, err := db.ADTFiles(ctx, a)
	must(t, err)
	if d := cmp.Diff([]store.ADTFile{adtFile(a, 6), f5}, fs); d != "" {
		t.Fatalf("history, newest first (-want +got):\n%s", d)
	}

	// A legacy file only comes first, and counts as 0.
	l := legacyFile(b)
	must(t, db.AcceptADTFile(ctx, l))
	wantReplayNaming(t, db.AcceptADTFile(ctx, legacyFile(b)), "legacy")
	wantReplayNaming(t, db.AcceptADTFile(ctx, adtFile(b, 0)), "legacy")
	must(t, db.AcceptADTFile(ctx, adtFile(b, 1)))
	fs, err = db.ADTFiles(ctx, b)
	must(t, err)
	if d := cmp.Diff([]store.ADTFile{adtFile(b, 1), l}, fs); d != "" {
		t.Fatalf("history after a legacy file (-want +got):\n%s", d)
	}

	c := eu(0x90, 3)
	for name, mod := range map[string]func(*store.ADTFile){
		"no user":            func(f *store.ADTFile) { f.User = eui.EUI{} },
		"legacy, sequenced":  func(f *store.ADTFile) { f.Legacy = true },
		"no document":        func(f *store.ADTFile) { f.Document = nil },
		"no acceptance time": func(f *store.ADTFile) { f.AcceptedAt = time.Time{} },
	} {
		f := adtFile(c, 9)
		mod(&f)
		if err := db.AcceptADTFile(ctx, f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if d := cmp.Diff([]uint64{}, sequences(t, db, c)); d != "" {
		t.Fatalf("refused files stored (-want +got):\n%s", d)
	}
}

func testADTCurrent(t *testing.T, open Opener) {
	db := open(t)
	ctx := ctxOf(t)
	a, b, c := eu(0x90, 1), eu(0x90, 2), eu(0x90, 3)
	for _, f := range []store.ADTFile{adtFile(c, 9), adtFile(a, 5), legacyFile(b), adtFile(a, 6), adtFile(b, 1), adtFile(b, 1<<63)} {
		must(t, db.AcceptADTFile(ctx, f))
	}
	var got []store.ADTFile
	must(t, db.CurrentADTFiles(ctx, func(f store.ADTFile) error {
		got = append(got, f)
		return nil
	}))
	if d := cmp.Diff([]store.ADTFile{adtFile(a, 6), adtFile(b, 1<<63), adtFile(c, 9)}, got); d != "" {
		t.Fatalf("current files (-want +got):\n%s", d)
	}
	stop := errors.New("stop")
	calls := 0
	err := db.CurrentADTFiles(ctx, func(store.ADTFile) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("CurrentADTFiles after fn failed: %v, %d calls", err, calls)
	}
}

// Concurrent submissions for one User, through two handles as two
// processes would: of those with the same sequence number exactly one is
// accepted; of rising ones racing, the highest always is, and each one
// accepted is stored.
func testADTConcurrent(t *testing.T, open Opener) {
	db := open(t)
	db2 := reopen(t, db)
	ctx := ctxOf(t)
	user := eu(0x90, 1)
	const workers = 16
	race := func(seq func(i int) uint64) (accepted []uint64) {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for i := range workers {
			h := db
			if i%2 == 1 {
				h = db2
			}
			wg.Go(func() {
				errs[i] = h.AcceptADTFile(ctx, adtFile(user, seq(i)))
				if errs[i] == nil {
					mu.Lock()
					accepted = append(accepted, seq(i))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil && !errors.Is(err, store.ErrReplay) {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
		return accepted
	}
	if got := race(func(int) uint64 { return 10 }); len(got) != 1 {
		t.Fatalf("same sequence from %d workers: %v accepted", workers, got)
	}
	got := race(func(i int) uint64 { return 11 + uint64(i) })
	stored := sequences(t, db, user)
	if len(stored) != len(got)+1 || stored[0] != 10+workers {
		t.Fatalf("rising sequences: accepted %v, stored %v", got, stored)
	}
}
