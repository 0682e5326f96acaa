package adt

import (
	"errors"
	"testing"
)

func TestCheckSequence(t *testing.T) {
	user := goodFile(userEUI, 0).User
	for _, tc := range []struct {
		name     string
		seq      uint64
		legacy   bool
		last     uint64
		haveLast bool
		kind     error // nil: accepted
	}{
		{"ok/first-ever", 0, false, 0, false, nil},
		{"ok/first-ever-large", 17, false, 99, false, nil},
		{"ok/next", 18, false, 17, true, nil},
		{"ok/gap", 1000, false, 17, true, nil},
		{"fail/replay", 17, false, 17, true, ErrReplay},
		{"fail/lower", 16, false, 17, true, ErrReplay},
		{"fail/zero-after-zero", 0, false, 0, true, ErrReplay},
		{"fail/legacy", 0, true, 0, false, ErrLegacy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &File{User: user, Sequence: tc.seq, Legacy: tc.legacy}
			err := CheckSequence(f, tc.last, tc.haveLast)
			if tc.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("CheckSequence = %v, want %v", err, tc.kind)
			}
			if got := problemLines(t, err); len(got) != 1 || got[0] != 1 {
				t.Errorf("problem lines = %v, want [1]", got)
			}
		})
	}
}
