package prove

import (
	"fmt"
	"io"
	"time"
)

// WriteText prints the report for a custodian: the key, the certificate,
// the meters, then one line per check, "ok" or "FAIL" first, and a
// verdict.
func (r *Report) WriteText(w io.Writer) {
	c := r.Certificate
	fmt.Fprintf(w, "key          %s\n", r.Key)
	fmt.Fprintf(w, "certificate  %s %s, EUI-64 %s, SKI %s, serial %s\n", c.Role, c.KeyUsage, c.EUI, c.SKI, c.Serial)
	fmt.Fprintf(w, "             subject %q, valid %s to %s, SHA-256 %s\n", c.Subject, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), c.SHA256)
	for _, m := range r.Meters {
		state := "inside the certificate's validity"
		if m.AnchorExpired {
			state = "a day after the certificate's notAfter"
		}
		fmt.Fprintf(w, "meter        %-14s  %s, clock %s (%s), the certificate in its transitionalCoS cell\n", m.Name, m.EUI, m.Clock.Format(time.RFC3339), state)
	}
	for _, ch := range r.Checks {
		mark := "ok  "
		if !ch.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s  %-14s  %-7s  %s\n", mark, ch.Meter, ch.Step, ch.Detail)
	}
	if r.OK() {
		fmt.Fprintf(w, "%d of %d checks passed: the key signs CS02b mode 7 and mode 6 commands that verify with the certificate and that meters trusting it accept", r.Passed, r.Passed)
		if len(r.Meters) > 1 {
			fmt.Fprint(w, ", after its expiry too")
		}
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "%d of %d checks FAILED\n", r.Failed, r.Passed+r.Failed)
}
