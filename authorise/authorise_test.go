package authorise

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/testpki"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const mpan = "1200023305967"

// gbcsCancel is GBCS's cancellation time as a DUIS ExecutionDateTime.
var gbcsCancel = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// reference is an in-memory Reference with store's not-found semantics.
type reference struct {
	parties map[eui.EUI]store.Party
	devices map[eui.EUI]store.Device
	regs    []store.Registration
	pending map[eui.EUI][]string
}

func (r *reference) PartyByUser(_ context.Context, u eui.EUI) (store.Party, store.Role, error) {
	p, ok := r.parties[u]
	if !ok {
		return store.Party{}, "", store.ErrNotFound
	}
	for _, user := range p.Users {
		if user.EUI == u {
			return p, user.Role, nil
		}
	}
	return store.Party{}, "", store.ErrNotFound
}

func (r *reference) Device(_ context.Context, id eui.EUI) (store.Device, error) {
	d, ok := r.devices[id]
	if !ok {
		return store.Device{}, store.ErrNotFound
	}
	return d, nil
}

func (r *reference) RegistrationAt(_ context.Context, m string, at time.Time) (store.Registration, error) {
	for _, reg := range r.regs {
		if reg.MPxN == m && !at.Before(reg.From) && (reg.To.IsZero() || at.Before(reg.To)) {
			return reg, nil
		}
	}
	return store.Registration{}, store.ErrNotFound
}

func (r *reference) PendingFutureDated(_ context.Context, d eui.EUI, _ store.RequestID) ([]string, error) {
	return r.pending[d], nil
}

type world struct {
	pki    *testpki.PKI
	ref    *reference
	cfg    Config
	signer *smki.Certificate
	device eui.EUI
}

func parse(t *testing.T, c *testpki.Credential) *smki.Certificate {
	t.Helper()
	sc, err := smki.Parse(c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func newWorld(t *testing.T) *world {
	t.Helper()
	p, err := testpki.Generate(testpki.Options{Now: t0.Add(-24 * time.Hour), Suppliers: 2, Devices: 2})
	if err != nil {
		t.Fatal(err)
	}
	s1, s2, d1 := p.Suppliers[0], p.Suppliers[1], p.Devices[0].EUI
	ref := &reference{
		parties: map[eui.EUI]store.Party{
			s1.EUI: {ID: "SUP1", Name: "Supplier One", State: store.PartyActive, Users: []store.User{{EUI: s1.EUI, Role: store.RoleImportSupplier}}, MPIDs: []string{"SUPA"}},
			s2.EUI: {ID: "SUP2", Name: "Supplier Two", State: store.PartyActive, Users: []store.User{{EUI: s2.EUI, Role: store.RoleImportSupplier}}, MPIDs: []string{"SUPB", "SUPC"}},
		},
		devices: map[eui.EUI]store.Device{d1: {EUI: d1, Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS}},
		regs: []store.Registration{
			{MPxN: mpan, From: t0.Add(-365 * 24 * time.Hour), To: t0.Add(-time.Hour), Supplier: "SUP1", MPID: "SUPA", Device: d1},
			{MPxN: mpan, From: t0.Add(-time.Hour), Supplier: "SUP2", MPID: "SUPB", Device: d1},
		},
		pending: map[eui.EUI][]string{},
	}
	signer := parse(t, s2.XMLSign)
	w := &world{pki: p, ref: ref, signer: signer, device: d1}
	w.cfg = Config{
		Reference:       ref,
		Pending:         ref,
		OrganisationCAs: smki.NewPool(parse(t, p.Root)),
		MPID:            MPIDConfig{Policy: PolicyEnforce, BySerial: map[string]string{signer.SerialNumber.Text(16): "SUPB"}},
	}
	return w
}

// request is supplier 2's 6.23 for device 1.
func (w *world) request() Verified {
	s := w.pki.Suppliers[1]
	zero := uint64(0)
	return Verified{
		Request: &duis.Request{
			Header: duis.Header{RequestID: duis.RequestID{Originator: s.EUI, Target: w.device, Counter: 7}, CommandVariant: 1, ServiceReference: "6.23", ServiceReferenceVariant: "6.23"},
			UpdateSecurityCredentialsCoS: &duis.UpdateSecurityCredentialsCoS{
				SupplierPrepaymentTopUpFloorSeqNumber: &zero,
				DigitalSigningCertificate:             s.DS.Cert,
				KeyAgreementCertificate:               s.KA.Cert,
				KeyAgreementTopUpCertificate:          s.KATopUp.Cert,
				CertificationPath:                     [][]byte{w.pki.OrgCA.Cert},
				ApplyTimeBasedCPVChecks:               true,
				ImportMPxN:                            mpan,
			},
		},
		Signer:     w.signer,
		ReceivedAt: t0,
	}
}

func TestAuthorise(t *testing.T) {
	other, err := testpki.Generate(testpki.Options{Now: t0.Add(-24 * time.Hour), Suppliers: 2, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		mutate  func(w *world, v *Verified)
		want    ecoserr.Reason // 0: approved
		outcome Outcome
	}{
		{"ok/immediate", nil, 0, OutcomeSuccess},
		{"ok/ka-optional", func(w *world, v *Verified) {
			v.Request.UpdateSecurityCredentialsCoS.KeyAgreementCertificate = nil
			v.Request.UpdateSecurityCredentialsCoS.KeyAgreementTopUpCertificate = nil
		}, 0, OutcomeSuccess},
		{"fail/unknown-user", func(w *world, v *Verified) {
			v.Request.Header.RequestID.Originator = eui.MustParse("EE-C0-5E-00-09-00-00-01")
		}, ecoserr.UnknownUser, ""},
		{"fail/role", func(w *world, v *Verified) {
			p := w.ref.parties[w.pki.Suppliers[1].EUI]
			p.Users = []store.User{{EUI: w.pki.Suppliers[1].EUI, Role: store.RoleElectricityDistributor}}
			w.ref.parties[w.pki.Suppliers[1].EUI] = p
		}, ecoserr.RoleNotPermitted, ""},
		{"fail/suspended", func(w *world, v *Verified) {
			p := w.ref.parties[w.pki.Suppliers[1].EUI]
			p.State = store.PartySuspended
			w.ref.parties[w.pki.Suppliers[1].EUI] = p
		}, ecoserr.UserNotActive, ""},
		{"fail/unknown-device", func(w *world, v *Verified) { v.Request.Header.RequestID.Target = w.pki.Devices[1].EUI }, ecoserr.UnknownDevice, ""},
		{"fail/decommissioned", func(w *world, v *Verified) {
			w.setDevice(func(d *store.Device) { d.SMIStatus = store.SMIDecommissioned })
		}, ecoserr.DeviceState, ""},
		{"fail/credential-unknown", func(w *world, v *Verified) {
			w.setDevice(func(d *store.Device) { d.Credential = store.CredentialUnknown })
		}, ecoserr.DeviceState, ""},
		{"fail/credential-not-held", func(w *world, v *Verified) {
			w.cfg.Credentials = []store.Credential{store.CredentialECoS}
		}, ecoserr.DeviceState, ""},
		{"ok/credential-held", func(w *world, v *Verified) {
			w.cfg.Credentials = []store.Credential{store.CredentialECoS, store.CredentialTCoS}
		}, 0, OutcomeSuccess},
		{"fail/gas-meter-for-import-supplier", func(w *world, v *Verified) { w.setDevice(func(d *store.Device) { d.Type = store.GSME }) }, ecoserr.RoleNotPermitted, ""},
		{"fail/invalid-mpan", func(w *world, v *Verified) { v.Request.UpdateSecurityCredentialsCoS.ImportMPxN = "1200023305968" }, ecoserr.InvalidMPxN, ""},
		{"fail/mprn-for-esme", func(w *world, v *Verified) { v.Request.UpdateSecurityCredentialsCoS.ImportMPxN = "3938424403" }, ecoserr.DeviceTypeMismatch, ""},
		{"fail/not-registered-yet", func(w *world, v *Verified) { v.ReceivedAt = t0.Add(-2 * time.Hour) }, ecoserr.NotRegisteredSupplier, ""},
		{"fail/no-registration", func(w *world, v *Verified) { w.ref.regs = nil }, ecoserr.NotRegisteredSupplier, ""},
		{"fail/mpxn-on-other-device", func(w *world, v *Verified) { w.ref.regs[1].Device = w.pki.Devices[1].EUI }, ecoserr.MPxNNotAssociated, ""},
		{"ok/future-dated-into-own-registration", func(w *world, v *Verified) {
			// Registered to SUP2 only from tomorrow; the switch is dated then.
			w.ref.regs[0].To, w.ref.regs[1].From = t0.Add(24*time.Hour), t0.Add(24*time.Hour)
			at := t0.Add(24 * time.Hour)
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, 0, OutcomeSuccess},
		{"fail/immediate-before-registration", func(w *world, v *Verified) {
			w.ref.regs[0].To, w.ref.regs[1].From = t0.Add(24*time.Hour), t0.Add(24*time.Hour)
		}, ecoserr.NotRegisteredSupplier, ""},
		{"fail/replacement-wrong-role", func(w *world, v *Verified) {
			v.Request.UpdateSecurityCredentialsCoS.DigitalSigningCertificate = w.pki.NetworkOperator.DS.Cert
		}, ecoserr.BadReplacementCertificate, ""},
		{"fail/replacement-wrong-usage", func(w *world, v *Verified) {
			v.Request.UpdateSecurityCredentialsCoS.KeyAgreementCertificate = w.pki.Suppliers[1].DS.Cert
		}, ecoserr.BadReplacementCertificate, ""},
		{"fail/replacement-of-another-supplier", func(w *world, v *Verified) {
			s := w.pki.Suppliers[0]
			b := v.Request.UpdateSecurityCredentialsCoS
			b.DigitalSigningCertificate, b.KeyAgreementCertificate, b.KeyAgreementTopUpCertificate = s.DS.Cert, s.KA.Cert, s.KATopUp.Cert
		}, ecoserr.BadReplacementCertificate, ""},
		{"ok/replacement-of-another-supplier-allowed", func(w *world, v *Verified) {
			w.cfg.AllowForeignReplacements = true
			s := w.pki.Suppliers[0]
			b := v.Request.UpdateSecurityCredentialsCoS
			b.DigitalSigningCertificate, b.KeyAgreementCertificate, b.KeyAgreementTopUpCertificate = s.DS.Cert, s.KA.Cert, s.KATopUp.Cert
		}, 0, OutcomeSuccess},
		{"fail/replacement-mixed-parties", func(w *world, v *Verified) {
			v.Request.UpdateSecurityCredentialsCoS.KeyAgreementCertificate = w.pki.Suppliers[0].KA.Cert
		}, ecoserr.BadReplacementCertificate, ""},
		{"fail/replacement-from-another-pki", func(w *world, v *Verified) {
			b := v.Request.UpdateSecurityCredentialsCoS
			b.DigitalSigningCertificate, b.CertificationPath = other.Suppliers[1].DS.Cert, [][]byte{other.OrgCA.Cert}
			b.KeyAgreementCertificate, b.KeyAgreementTopUpCertificate = nil, nil
		}, ecoserr.BadReplacementCertificate, ""},
		{"fail/issuer-not-in-path", func(w *world, v *Verified) {
			v.Request.UpdateSecurityCredentialsCoS.CertificationPath = [][]byte{w.pki.DeviceCA.Cert}
		}, ecoserr.BadReplacementCertificate, ""},
		{"fail/replacement-expired", func(w *world, v *Verified) {
			v.ReceivedAt = t0.Add(20 * 365 * 24 * time.Hour)
			w.ref.regs[1].To = time.Time{}
		}, ecoserr.BadReplacementCertificate, ""},
		{"fail/mpid-incorrect", func(w *world, v *Verified) {
			w.cfg.MPID.BySerial = map[string]string{w.signer.SerialNumber.Text(16): "SUPC"}
		}, ecoserr.MPIDIncorrect, OutcomeIncorrect},
		{"fail/mpid-missing", func(w *world, v *Verified) { w.cfg.MPID.BySerial = nil }, ecoserr.MPIDMissing, OutcomeMissing},
		{"ok/mpid-incorrect-reported", func(w *world, v *Verified) {
			w.cfg.MPID.Policy = PolicyReport
			w.cfg.MPID.BySerial = map[string]string{w.signer.SerialNumber.Text(16): "SUPC"}
		}, 0, OutcomeIncorrect},
		{"fail/cancel-nothing-pending", func(w *world, v *Verified) {
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, ecoserr.CancelNotOwner, ""},
		{"fail/cancel-other-partys", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP1"}
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, ecoserr.CancelNotOwner, ""},
		{"ok/cancel-own", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP2"}
			// Not the registered supplier now: the change it cancels was to
			// make it so.
			w.ref.regs[1].Supplier = "SUP1"
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, 0, OutcomeSuccess},
		{"fail/cancel-without-pending-source", func(w *world, v *Verified) {
			w.cfg.Pending = nil
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, ecoserr.CancelNotOwner, ""},
		// GBCS's own cancellation time, copied into the CS02b as it stands,
		// is executed by the device as a cancellation: same rules.
		{"fail/cancel-by-gbcs-time-other-partys", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP1"}
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &gbcsCancel
		}, ecoserr.CancelNotOwner, ""},
		{"fail/cancel-by-gbcs-time-with-offset-nothing-pending", func(w *world, v *Verified) {
			at := gbcsCancel.In(time.FixedZone("-01:00", -3600))
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, ecoserr.CancelNotOwner, ""},
		{"ok/cancel-own-by-gbcs-time", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP2"}
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &gbcsCancel
		}, 0, OutcomeSuccess},
		{"fail/cancel-with-another-partys-also-pending", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP1", "SUP2"}
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, ecoserr.CancelNotOwner, ""},
		// A cancellation passes step 6's MPxN checks like any request.
		{"fail/cancel-mpxn-not-associated", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP2"}
			w.ref.regs[1].Device = w.pki.Devices[1].EUI
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, ecoserr.MPxNNotAssociated, ""},
		{"fail/cancel-mpxn-unregistered", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP2"}
			w.ref.regs = nil
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &gbcsCancel
		}, ecoserr.MPxNNotAssociated, ""},
		{"fail/cancel-invalid-mpxn", func(w *world, v *Verified) {
			w.ref.pending[w.device] = []string{"SUP2"}
			v.Request.UpdateSecurityCredentialsCoS.ImportMPxN = "1200023305968"
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &duis.Cancellation
		}, ecoserr.InvalidMPxN, ""},
		// Future dates beyond the horizon have their own reason.
		{"ok/rtds-future-date-2030", func(w *world, v *Verified) {
			at := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, 0, OutcomeSuccess},
		{"fail/beyond-default-horizon", func(w *world, v *Verified) {
			at := t0.AddDate(11, 0, 0)
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, ecoserr.BeyondHorizon, ""},
		{"fail/just-beyond-default-horizon", func(w *world, v *Verified) {
			at := t0.Add(DefaultHorizon + time.Second)
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, ecoserr.BeyondHorizon, ""},
		{"fail/a-second-before-the-gbcs-cancellation-time", func(w *world, v *Verified) {
			at := gbcsCancel.Add(-time.Second)
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, ecoserr.BeyondHorizon, ""},
		{"fail/beyond-configured-horizon", func(w *world, v *Verified) {
			w.cfg.Horizon = 24 * time.Hour
			at := t0.Add(48 * time.Hour)
			v.Request.UpdateSecurityCredentialsCoS.ExecutionDateTime = &at
		}, ecoserr.BeyondHorizon, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			v := w.request()
			if tc.mutate != nil {
				tc.mutate(w, &v)
			}
			a, err := New(w.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ok, mpid, err := a.Authorise(context.Background(), v)
			if tc.want != 0 {
				if ok != nil || !errors.Is(err, tc.want) {
					t.Fatalf("got %v, %v; want refusal %s", ok, err, tc.want.Name())
				}
				if ecoserr.PublicMessage(err) == "" {
					t.Error("refusal without a public message")
				}
			} else if err != nil || ok == nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.outcome != "" && (mpid == nil || mpid.Outcome != tc.outcome) {
				t.Errorf("MPID outcome %+v, want %s", mpid, tc.outcome)
			}
			if ok != nil {
				if ok.Device() != w.device || ok.Party() != "SUP2" || ok.Credential() != store.CredentialTCoS || ok.Body() != v.Request.UpdateSecurityCredentialsCoS {
					t.Errorf("approved %+v", ok)
				}
				if len(ok.Checks()) != 5 {
					t.Errorf("checks %v", ok.Checks())
				}
			}
		})
	}
}

func (w *world) setDevice(f func(*store.Device)) {
	d := w.ref.devices[w.device]
	f(&d)
	w.ref.devices[w.device] = d
}

func TestNewRefusesBadConfig(t *testing.T) {
	w := newWorld(t)
	for name, mutate := range map[string]func(c *Config){
		"no reference": func(c *Config) { c.Reference = nil },
		"no CA":        func(c *Config) { c.OrganisationCAs = nil },
		"bad policy":   func(c *Config) { c.MPID.Policy = "sometimes" },
		"bad serial":   func(c *Config) { c.MPID.BySerial = map[string]string{"xyz": "SUPB"} },
		"empty mpid":   func(c *Config) { c.MPID.BySerial = map[string]string{"0a": ""} },
		"bad horizon":  func(c *Config) { c.Horizon = -time.Hour },
		"serial twice": func(c *Config) { c.MPID.BySerial = map[string]string{"0A": "SUPB", "a": "SUPC"} },
		"zero serial":  func(c *Config) { c.MPID.BySerial = map[string]string{"00": "SUPB"} },
		"signed":       func(c *Config) { c.MPID.BySerial = map[string]string{"-a": "SUPB"} },
	} {
		cfg := w.cfg
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
