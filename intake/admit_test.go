package intake

import (
	"errors"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
)

func admitRequest(cv int, at *time.Time) *duis.Request {
	return &duis.Request{
		Header: duis.Header{
			RequestID:      duis.RequestID{Originator: eui.MustParse("90-B3-D5-1F-30-01-00-00"), Target: eui.MustParse("00-DB-12-34-56-78-90-A0"), Counter: 1},
			CommandVariant: cv, ServiceReference: "6.23", ServiceReferenceVariant: "6.23",
		},
		UpdateSecurityCredentialsCoS: &duis.UpdateSecurityCredentialsCoS{
			ExecutionDateTime:         at,
			DigitalSigningCertificate: []byte{0x30, 0x00},
			CertificationPath:         [][]byte{{0x30, 0x00}},
			ImportMPxN:                "1312345678333",
		},
	}
}

// TestAdmit: Command Variant 1 only, and only what a CS02b can carry.
func TestAdmit(t *testing.T) {
	whole := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	frac := whole.Add(10 * time.Millisecond)
	gbcsCancel := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	cases := []struct {
		name string
		req  *duis.Request
		want ecoserr.Reason // 0: admitted
	}{
		{"ok/immediate", admitRequest(1, nil), 0},
		{"ok/future-dated", admitRequest(1, &whole), 0},
		{"ok/duis-cancellation", admitRequest(1, &duis.Cancellation), 0},
		{"ok/gbcs-cancellation-time", admitRequest(1, &gbcsCancel), 0},
		{"fail/fraction", admitRequest(1, &frac), ecoserr.ExecutionTimeUnsupported},
		{"fail/no-body", &duis.Request{Header: duis.Header{CommandVariant: 1}}, ecoserr.UnsupportedRequest},
	}
	for cv := 2; cv <= 8; cv++ {
		cases = append(cases, struct {
			name string
			req  *duis.Request
			want ecoserr.Reason
		}{"fail/command-variant-" + string(rune('0'+cv)), admitRequest(cv, nil), ecoserr.UnsupportedRequest})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Admit(tc.req)
			if tc.want == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || ecoserr.PublicMessage(err) == "" {
				t.Fatalf("got %v, want %s with a message", err, tc.want.Name())
			}
		})
	}
}
