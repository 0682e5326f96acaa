package cosbuild

import (
	"errors"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// TestIsCancellationFollowsTheMapping: a request is a cancellation exactly
// when the CS02b it becomes carries GBCS's cancellation time, whatever
// DUIS spelling (or time zone) got it there.
func TestIsCancellationFollowsTheMapping(t *testing.T) {
	plus1 := time.FixedZone("+01:00", 3600)
	cases := []struct {
		name   string
		at     *time.Time
		cancel bool
	}{
		{"immediate", nil, false},
		{"duis-cancellation", &duis.Cancellation, true},
		{"duis-cancellation/offset", ptr(time.Date(3000, 12, 31, 1, 0, 0, 0, plus1)), true},
		{"gbcs-cancellation-time", ptr(gbcs.CancellationTime()), true},
		{"gbcs-cancellation-time/offset", ptr(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).In(plus1)), true},
		{"a-second-before", ptr(gbcs.CancellationTime().Add(-time.Second)), false},
		{"fraction-after", ptr(gbcs.CancellationTime().Add(time.Millisecond)), false},
		{"duis-cancellation-plus-a-second", ptr(duis.Cancellation.Add(time.Second)), false},
		{"ordinary-future", ptr(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := body()
			u.ExecutionDateTime = tc.at
			if got := IsCancellation(u); got != tc.cancel {
				t.Fatalf("IsCancellation = %v, want %v", got, tc.cancel)
			}
			cmd, err := SupplierByTransCoS(u, 1)
			if err != nil {
				if tc.cancel {
					t.Fatal(err)
				}
				return
			}
			carries := cmd.ExecutionDateTime != nil && cmd.ExecutionDateTime.Equal(gbcs.CancellationTime())
			if carries != tc.cancel {
				t.Errorf("CS02b carries the cancellation time: %v; IsCancellation %v", carries, tc.cancel)
			}
		})
	}
}

// TestCheck: what SupplierByTransCoS or the frame cannot carry is found
// before a key or a counter is involved, and a time problem is named.
func TestCheck(t *testing.T) {
	dev := eui.MustParse("00-DB-12-34-56-78-90-A0")
	if err := Check(body(), dev); err != nil {
		t.Fatalf("a good body: %v", err)
	}
	frac := time.Date(2031, 5, 6, 7, 8, 9, 10_000_000, time.UTC)
	u := body()
	u.ExecutionDateTime = &frac
	if err := Check(u, dev); !errors.Is(err, ErrExecutionTime) {
		t.Errorf("fractional second: %v, want ErrExecutionTime", err)
	}
	u = body()
	u.DigitalSigningCertificate = []byte{0x30, 0x00, 0x00} // not one DER SEQUENCE
	if err := Check(u, dev); err == nil || errors.Is(err, ErrExecutionTime) {
		t.Errorf("trailing byte after the certificate: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
