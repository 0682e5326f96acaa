package adt

import "testing"

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want Kind
	}{
		{"thresholds", lines(hdr, "6.23,50,100,1440", fakeSig), KindThresholds},
		{"thresholds/CRLF", []byte(hdr + "\r\n6.23,0,0,1440\r\n" + fakeSig + "\r\n"), KindThresholds},
		{"thresholds/legacy", lines(user, "6.23,1,2,60", fakeSig), KindThresholds},
		{"thresholds/no-rows", lines(hdr, fakeSig), KindThresholds},
		{"thresholds/bad-row", lines(hdr, "6.23,1,1", fakeSig), KindThresholds},
		{"action", lines(user, "42,Delete", fakeSig), KindAction},
		{"action/CRLF", []byte(user + "\r\n1,Release\r\n" + fakeSig + "\r\n"), KindAction},
		{"action/with-adt-header", lines(hdr, "42,Delete", fakeSig), KindAction},
		{"action/bad-ref", lines(user, "x,Delete"), KindAction},
		{"unknown/guid-then-signature", lines(user, fakeSig), KindUnknown},
		{"unknown/guid-then-3-fields", lines(user, "1,2,3", fakeSig), KindUnknown},
		{"unknown/guid-only", []byte(user), KindUnknown},
		{"unknown/empty", nil, KindUnknown},
	} {
		if got := Sniff(tc.in); got != tc.want {
			t.Errorf("%s: Sniff = %v, want %v", tc.name, got, tc.want)
		}
	}
}
