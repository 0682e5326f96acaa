package device

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

func TestSupplierByTransCoSAccepted(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 1); !slices.Equal(got, want) {
		t.Fatalf("before: supplier cells %x, want supplier 1's %x", got, want)
	}

	res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 101)))

	if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 2); !slices.Equal(got, want) {
		t.Errorf("after: supplier cells %x, want supplier 2's %x", got, want)
	}
	m, r := parseResponse(t, d, res.Response)
	if m.Recipient != p.TCoS.EUI || m.Counter != 101 || m.Code != gbcs.CodeSupplierByTransCoS || m.DateTime == nil {
		t.Errorf("response header %+v", m)
	}
	if when, err := m.DateTime.Time(); err != nil || !when.Equal(deviceNow) {
		t.Errorf("response date-time %v, %v", when, err)
	}
	if r.Outcome == nil || r.Outcome.SeqNumber != 101 || r.Outcome.Mode != gbcs.ModeSupplierByTransCoS {
		t.Fatalf("outcome %+v", r.Outcome)
	}
	s1, s2 := p.Suppliers[0], p.Suppliers[1]
	checkOutcomes(t, r.Outcome.Outcomes, []gbcs.ReplacementOutcome{
		wantOutcome(cellSupplierDS, gbcs.StatusSuccess, s1.DS, s2.DS),
		wantOutcome(cellSupplierKA, gbcs.StatusSuccess, s1.KA, s2.KA),
		wantOutcome(cellSupplierKATopUp, gbcs.StatusSuccess, s1.KATopUp, s2.KATopUp),
	})
	// The response's outcome is the one the Result reports.
	checkOutcomes(t, res.Outcome.Outcomes, r.Outcome.Outcomes)
	if len(r.Outcome.SeqNumberChanges) != 1 || r.Outcome.SeqNumberChanges[0].Role != gbcs.RoleSupplier {
		t.Errorf("seq changes %+v", r.Outcome.SeqNumberChanges)
	}
	if got := d.SeqNumber(gbcs.RoleTransitionalCoS); got != 101 {
		t.Errorf("transitionalCoS counter %d, want 101", got)
	}
	if res.Originator != p.TCoS.EUI || res.Counter != 101 || res.Pending || res.Dropped {
		t.Errorf("result %+v", res)
	}
}

func TestReplayAndCounters(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	first := frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 500))
	mustHandle(t, d, first)

	t.Run("fail/same-frame", func(t *testing.T) { mustReject(t, d, first, Replay) })
	t.Run("fail/same-counter", func(t *testing.T) {
		mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 1), 500)), Replay)
	})
	t.Run("fail/lower-counter", func(t *testing.T) {
		mustReject(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 1), 499)), Replay)
	})
	t.Run("ok/higher-counter", func(t *testing.T) {
		mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 1), 501)))
		if got, want := supplierSKIs(t, d), supplierCredSKIs(p, 1); !slices.Equal(got, want) {
			t.Errorf("supplier cells %x, want supplier 1's again %x", got, want)
		}
	})
	t.Run("fail/seq-number-not-counter", func(t *testing.T) {
		m := message(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 600))
		m.Counter = 601
		mustReject(t, d, signed(t, m, p.TCoS.Key), SeqNumberMismatch)
	})
}

func TestAuthenticationFailures(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	payload := cmd623(t, body623(p, 2), 10)

	t.Run("fail/ecos-key-while-device-trusts-tcos", func(t *testing.T) {
		mustReject(t, d, frame(t, p.ECoS, d.EUI(), payload), BadSignature)
	})
	t.Run("fail/tcos-originator-ecos-key", func(t *testing.T) {
		mustReject(t, d, signed(t, message(t, p.TCoS, d.EUI(), payload), p.ECoS.Key), BadSignature)
	})
	t.Run("fail/supplier-key", func(t *testing.T) {
		mustReject(t, d, frame(t, p.Suppliers[0].DS, d.EUI(), payload), BadSignature)
	})
	good := frame(t, p.TCoS, d.EUI(), payload)
	t.Run("fail/tampered-payload-byte", func(t *testing.T) {
		m, err := gbcs.ParseMessage(good)
		if err != nil {
			t.Fatal(err)
		}
		// Flip a byte inside a replacement certificate: still decodes,
		// no longer what was signed.
		m.Content[len(m.Content)/2] ^= 0x01
		b, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		mustReject(t, d, b, BadSignature)
	})
	t.Run("fail/tampered-counter", func(t *testing.T) {
		m, _ := gbcs.ParseMessage(good)
		m.Counter++
		b, _ := m.Bytes()
		mustReject(t, d, b, BadSignature)
	})
	t.Run("fail/unsigned", func(t *testing.T) {
		b, _ := message(t, p.TCoS, d.EUI(), payload).Bytes()
		mustReject(t, d, b, BadSignature)
	})
	t.Run("fail/wrong-recipient", func(t *testing.T) {
		mustReject(t, d, frame(t, p.TCoS, p.Devices[1].EUI, payload), WrongRecipient)
	})
	t.Run("fail/wrong-originator", func(t *testing.T) {
		m := message(t, p.TCoS, d.EUI(), payload)
		m.Originator = p.ECoS.EUI
		mustReject(t, d, signed(t, m, p.TCoS.Key), WrongOriginator)
	})
	t.Run("fail/no-authorising-cell", func(t *testing.T) {
		c := cmd623(t, body623(p, 2), 11)
		c.Control.AuthorisingCell = nil
		mustReject(t, d, frame(t, p.TCoS, d.EUI(), c), NoAuthorisingAnchor)
	})
	t.Run("fail/authorising-cell-not-for-mode", func(t *testing.T) {
		c := cmd623(t, body623(p, 2), 11)
		c.Control.AuthorisingCell = &gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageDigitalSignature}
		mustReject(t, d, frame(t, p.Suppliers[0].DS, d.EUI(), c), NoAuthorisingAnchor)
	})
	t.Run("fail/empty-authorising-cell", func(t *testing.T) {
		cfg, _ := ESMEConfig(p, 1, newClock(deviceNow).Now)
		for i := range cfg.Anchors {
			if keyOf(cfg.Anchors[i].Cell) == cellTransCoSDS {
				cfg.Anchors[i].Cert = nil
			}
		}
		empty, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mustReject(t, empty, good, NoAuthorisingAnchor)
	})
	t.Run("fail/code-does-not-match-mode", func(t *testing.T) {
		m := message(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 12))
		m.Code = gbcs.CodeTransCoSByTransCoS
		mustReject(t, d, signed(t, m, p.TCoS.Key), CodeMismatch)
	})
	t.Run("fail/unsupported-mode", func(t *testing.T) {
		c := cmd623(t, body623(p, 2), 12)
		c.Control.Mode = gbcs.ModeAnyByContingency
		mustReject(t, d, frame(t, p.TCoS, d.EUI(), c), Unsupported)
	})
	t.Run("fail/response-not-command", func(t *testing.T) {
		m := message(t, p.TCoS, d.EUI(), payload)
		m.CRA = gbcs.CRAResponse
		mustReject(t, d, signed(t, m, p.TCoS.Key), Malformed)
	})
	t.Run("fail/garbage", func(t *testing.T) { mustReject(t, d, []byte{0xDF, 0x01}, Malformed) })
	t.Run("fail/malformed-payload", func(t *testing.T) {
		m := message(t, p.TCoS, d.EUI(), payload)
		m.Content = []byte{0x30, 0x00}
		mustReject(t, d, signed(t, m, p.TCoS.Key), Malformed)
	})
	t.Run("fail/unknown-code", func(t *testing.T) {
		m := message(t, p.TCoS, d.EUI(), payload)
		m.Code = gbcs.CodeUpdateDeviceCertificate
		mustReject(t, d, signed(t, m, p.TCoS.Key), Unsupported)
	})
	// After all that, the genuine command still works: nothing above
	// consumed its counter.
	mustHandle(t, d, good)
}

func TestMACChecked(t *testing.T) {
	p := genPKI(t, pkiNow)
	d, _ := newESME(t, p)
	m := message(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 20))
	if err := m.Sign(nil, p.TCoS.Key); err != nil {
		t.Fatal(err)
	}
	acb, _ := p.ACB.KA.Key.ECDH()
	dev, _ := p.Devices[0].KA.Key.ECDH()
	wrapped, err := gbcs.Wrap(m, &gbcs.MACKeys{Private: acb, Peer: dev.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	wrapped.Ciphering.MAC[0] ^= 1
	bad, _ := wrapped.Bytes()
	mustReject(t, d, bad, BadMAC)
	wrapped.Ciphering.MAC[0] ^= 1
	good, _ := wrapped.Bytes()
	mustHandle(t, d, good)
}

func TestReplacementCertificateChecks(t *testing.T) {
	p := genPKI(t, pkiNow)
	past, future := genPKI(t, pkiNow.AddDate(-20, 0, 0)), genPKI(t, pkiNow.AddDate(15, 0, 0))
	s1, s2 := p.Suppliers[0], p.Suppliers[1]
	counter := uint64(1000)
	run := func(t *testing.T, edit func(*gbcs.UpdateSecurityCredentials)) (*Device, *gbcs.ExecutionOutcome) {
		t.Helper()
		d, _ := newESME(t, p)
		counter++
		c := cmd623(t, body623(p, 2), counter)
		edit(c)
		res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), c))
		_, r := parseResponse(t, d, res.Response)
		return d, r.Outcome
	}
	ok := gbcs.StatusSuccess

	t.Run("fail/network-operator-cert-for-supplier-cell", func(t *testing.T) {
		d, o := run(t, func(c *gbcs.UpdateSecurityCredentials) { c.Replacements[1].Certificate = p.NetworkOperator.KA.Cert })
		checkOutcomes(t, o.Outcomes, []gbcs.ReplacementOutcome{
			wantOutcome(cellSupplierDS, ok, s1.DS, s2.DS),
			wantOutcome(cellSupplierKA, gbcs.StatusBadCertificate, s1.KA, s1.KA), // existing = replacing
			wantOutcome(cellSupplierKATopUp, ok, s1.KATopUp, s2.KATopUp),
		})
		// The cells that passed were applied, the failed one kept.
		if got := supplierSKIs(t, d); got[0] != skiOf(s2.DS) || got[1] != skiOf(s1.KA) || got[2] != skiOf(s2.KATopUp) {
			t.Errorf("cells %x", got)
		}
	})
	t.Run("fail/ds-cert-for-ka-cell", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) { c.Replacements[2].Certificate = s2.DS.Cert })
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{ok, ok, gbcs.StatusBadCertificate}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("fail/not-a-certificate", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) {
			c.Replacements[0].Certificate = []byte{0x30, 0x03, 0x02, 0x01, 0x00}
		})
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{gbcs.StatusBadCertificate, ok, ok}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("fail/issuer-not-in-path", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) { c.CertificationPath = [][]byte{p.DeviceCA.Cert} })
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{gbcs.StatusNoTrustAnchor, gbcs.StatusNoTrustAnchor, gbcs.StatusNoTrustAnchor}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("fail/path-not-chained-to-root", func(t *testing.T) {
		other := otherPKI(t)
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) {
			c.Replacements[0].Certificate = other.Suppliers[1].DS.Cert
			c.CertificationPath = append(c.CertificationPath, other.OrgCA.Cert)
		})
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{gbcs.StatusNoTrustAnchor, ok, ok}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("ok/path-repeats-root", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) { c.CertificationPath = [][]byte{p.Root.Cert, p.OrgCA.Cert} })
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{ok, ok, ok}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("ok/no-root-anchor-trusts-path-top", func(t *testing.T) {
		// Without a root anchor (the RTDS device) the device can only check
		// that the path issued the certificate: another PKI's path passes.
		cfg, _ := ESMEConfig(p, 1, newClock(deviceNow).Now)
		cfg.Anchors = slices.DeleteFunc(cfg.Anchors, func(a Anchor) bool { return keyOf(a.Cell) == cellRoot })
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		other := otherPKI(t)
		b := body623(other, 2)
		res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, b, 1)))
		if got := statuses(res.Outcome); !slices.Equal(got, []gbcs.Status{ok, ok, ok}) {
			t.Errorf("statuses %v", got)
		}
		// It still needs the issuer in the path.
		b.CertificationPath = [][]byte{p.OrgCA.Cert}
		res = mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, b, 2)))
		if got := statuses(res.Outcome); !slices.Equal(got, []gbcs.Status{gbcs.StatusNoTrustAnchor, gbcs.StatusNoTrustAnchor, gbcs.StatusNoTrustAnchor}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("fail/target-not-allowed-by-mode", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) {
			c.Replacements[0].Certificate, c.Replacements[0].Target = p.ECoS.Cert, cellTransCoSDS.cell()
		})
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{gbcs.StatusOther, ok, ok}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("fail/same-cell-twice", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) { c.Replacements[1] = c.Replacements[0] })
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{ok, gbcs.StatusOther, ok}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("fail/cell-device-lacks", func(t *testing.T) {
		cfg, _ := ESMEConfig(p, 1, newClock(deviceNow).Now)
		cfg.Anchors = slices.DeleteFunc(cfg.Anchors, func(a Anchor) bool { return keyOf(a.Cell) == cellSupplierKATopUp })
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res := mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, body623(p, 2), 5)))
		if got := statuses(res.Outcome); !slices.Equal(got, []gbcs.Status{ok, ok, gbcs.StatusTrustAnchorNotFound}) {
			t.Errorf("statuses %v", got)
		}
	})
	timeCases := []struct {
		name     string
		from     *testpki.PKI
		disapply bool
		want     gbcs.Status
	}{
		{"fail/replacement-expired", past, false, gbcs.StatusBadCertificate},
		{"ok/replacement-expired-cpv-disapplied", past, true, ok},
		{"fail/replacement-not-yet-valid", future, false, gbcs.StatusBadCertificate},
		{"ok/replacement-not-yet-valid-cpv-disapplied", future, true, ok},
	}
	for _, tc := range timeCases {
		t.Run(tc.name, func(t *testing.T) {
			d, o := run(t, func(c *gbcs.UpdateSecurityCredentials) {
				for i, der := range certs(tc.from) {
					c.Replacements[i].Certificate = der
				}
				if tc.disapply {
					c.Control.TimeBasedCPVChecks = gbcs.CPVDisapply
				}
			})
			if got := statuses(o); !slices.Equal(got, []gbcs.Status{tc.want, tc.want, tc.want}) {
				t.Errorf("statuses %v, want all %v", got, tc.want)
			}
			changed := supplierSKIs(t, d)[0] == skiOf(s2.DS) // same key in every PKI generation
			if changed != (tc.want == ok) {
				t.Errorf("DS cell changed = %v", changed)
			}
		})
	}
	t.Run("fail/path-certificate-expired", func(t *testing.T) {
		_, o := run(t, func(c *gbcs.UpdateSecurityCredentials) {
			for i, der := range certs(past) {
				c.Replacements[i].Certificate = der
			}
			c.CertificationPath = [][]byte{past.OrgCA.Cert}
			c.Control.TimeBasedCPVChecks = gbcs.CPVApply
		})
		if got := statuses(o); !slices.Equal(got, []gbcs.Status{gbcs.StatusBadCertificate, gbcs.StatusBadCertificate, gbcs.StatusBadCertificate}) {
			t.Errorf("statuses %v", got)
		}
	})
}

// certs is supplier 2's DS, KA and KA top-up certificates in p.
func certs(p *testpki.PKI) [3][]byte {
	s := p.Suppliers[1]
	return [3][]byte{s.DS.Cert, s.KA.Cert, s.KATopUp.Cert}
}

// otherPKI is a PKI with different keys: nothing in it chains to genPKI's
// root.
func otherPKI(t testing.TB) *testpki.PKI {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{Now: pkiNow, Rand: rand.NewChaCha8([32]byte{99}), Suppliers: 2, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExpiredTCoSAnchorStillAuthorises(t *testing.T) {
	// A PKI issued in 2000: every organisation certificate, the TCoS one
	// included, expired in 2010, long before the device's 2026 clock.
	old := genPKI(t, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	d, _ := newESME(t, old)
	tcos, _ := d.TransitionalCoS()
	if !deviceNow.After(tcos.NotAfter) {
		t.Fatalf("TCoS certificate valid until %v: not expired at %v", tcos.NotAfter, deviceNow)
	}
	// Authenticated and executed: the response is signed and lists the
	// cells. The replacement certificates (from the same old PKI) have
	// expired too, so with time checks applied they are refused...
	res := mustHandle(t, d, frame(t, old.TCoS, d.EUI(), cmd623(t, body623(old, 2), 1)))
	if got := statuses(res.Outcome); !slices.Equal(got, []gbcs.Status{gbcs.StatusBadCertificate, gbcs.StatusBadCertificate, gbcs.StatusBadCertificate}) {
		t.Errorf("with CPV: %v", got)
	}
	// ...and with them disapplied they are installed.
	c := cmd623(t, body623(old, 2), 2)
	c.Control.TimeBasedCPVChecks = gbcs.CPVDisapply
	res = mustHandle(t, d, frame(t, old.TCoS, d.EUI(), c))
	if got := statuses(res.Outcome); !slices.Equal(got, []gbcs.Status{gbcs.StatusSuccess, gbcs.StatusSuccess, gbcs.StatusSuccess}) {
		t.Errorf("CPV disapplied: %v", got)
	}
	if got, want := supplierSKIs(t, d), supplierCredSKIs(old, 2); !slices.Equal(got, want) {
		t.Errorf("cells %x, want %x", got, want)
	}
}

func TestFloorsApplied(t *testing.T) {
	p := genPKI(t, pkiNow)
	cfg, _ := ESMEConfig(p, 1, newClock(deviceNow).Now)
	cfg.SeqNumbers = map[gbcs.Role]uint64{gbcs.RoleSupplier: 900}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The supplier DS cell is refused: the old supplier is still in its
	// cell, so its counter must not be lowered to the new floor.
	c := cmd623(t, body623(p, 2), 1)
	c.Replacements[0].Certificate = p.NetworkOperator.DS.Cert
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), c))
	if got := d.SeqNumber(gbcs.RoleSupplier); got != 900 {
		t.Errorf("supplier counter %d after a failed DS replacement, want 900 kept", got)
	}
	// A successful change of supplier resets the supplier counters to the
	// floors the command gives.
	b := body623(p, 2)
	b.SupplierFloorSeqNumber = 7
	topUp := uint64(3)
	b.SupplierPrepaymentTopUpFloorSeqNumber = &topUp
	mustHandle(t, d, frame(t, p.TCoS, d.EUI(), cmd623(t, b, 2)))
	if got := d.SeqNumber(gbcs.RoleSupplier); got != 7 {
		t.Errorf("supplier counter %d, want floor 7", got)
	}
	if got := d.SpecialistSeqNumber(gbcs.RoleSupplier, gbcs.SeqNumberPrepaymentTopUp); got != 3 {
		t.Errorf("top-up floor %d, want 3", got)
	}
}
