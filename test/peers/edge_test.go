package peers

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/gbcs"
)

// TestGBCSPeerDecodesEdgeValues: the encodings most likely to go wrong
// agree with gbcs-parser too: counters and floors at every INTEGER length
// boundary (0x7F/0x80, where DER needs a leading zero octet, up to 2^64-1
// in nine octets), a 6.23 with the DS certificate alone or without the
// top-up cell, time-based checks applied and disapplied, and the meter's
// responses echoing those counters.
func TestGBCSPeerDecodesEdgeValues(t *testing.T) {
	peersAvailable(t)
	s := newScenario(t)
	p := s.w.pki
	counters := []uint64{0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
		1 << 32, 1<<53 + 1, 1<<63 - 1, 1 << 63, math.MaxUint64}
	for i, n := range counters {
		body := s.body(2-i%2, nil)
		body.SupplierFloorSeqNumber = counters[len(counters)-1-i]
		top := n
		body.SupplierPrepaymentTopUpFloorSeqNumber = &top
		switch i % 4 {
		case 1:
			body.KeyAgreementCertificate, body.KeyAgreementTopUpCertificate = nil, nil
			body.SupplierPrepaymentTopUpFloorSeqNumber = nil
		case 2:
			body.KeyAgreementTopUpCertificate = nil
			body.ApplyTimeBasedCPVChecks = false
		case 3:
			at := meterNow.Add(time.Duration(i) * time.Hour)
			body.ExecutionDateTime = &at
		}
		f := s.signed(s.command(p.TCoS, s.cs02b(cosbuild.SupplierByTransCoS(body, n))), p.TCoS.Key, i%2 == 0)
		name := fmt.Sprintf("counter-%#x", n)
		s.add("command/"+name, f, frameWant{cra: gbcs.CRACommand, code: gbcs.CodeSupplierByTransCoS, mac: i%2 == 0})
		s.add("response/"+name, s.send(f, device.Faults{}).Response, respWant(gbcs.CodeSupplierByTransCoS))
	}
	// The 0x00CB alerts of the future-dated ones, with large alert counters
	// the meter continues from.
	alerts, err := s.w.meter.Tick(meterNow.Add(24 * time.Hour))
	if err != nil || len(alerts) == 0 {
		t.Fatalf("Tick: %d alerts, %v", len(alerts), err)
	}
	for _, a := range alerts {
		s.add(fmt.Sprintf("alert/command-%#x", a.CommandCounter), a.Frame, frameWant{cra: gbcs.CRAAlert, code: gbcs.CodeFutureDatedAlert, alert: a.Code, fail: a.Code == gbcs.AlertFutureDatedFailure})
	}
	r := run(t, s.job)
	for _, name := range s.order {
		c := newChecker(t, name, r.GBCS[name])
		if c == nil {
			continue
		}
		f, err := gbcs.ParseFrame(s.frames[name])
		if err != nil {
			t.Fatalf("%s: our decoder: %v", name, err)
		}
		checkWant(t, name, f, s.wants[name])
		c.frame(f)
		c.payload(&f.Message)
	}
}
