package cosbuild

import (
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
)

func body() *duis.UpdateSecurityCredentialsCoS {
	return &duis.UpdateSecurityCredentialsCoS{
		SupplierFloorSeqNumber:    7,
		DigitalSigningCertificate: []byte{0x30, 0x00},
		CertificationPath:         [][]byte{{0x30, 0x00}},
		ApplyTimeBasedCPVChecks:   true,
		ImportMPxN:                "1312345678333",
	}
}

func TestSupplierByTransCoSMapping(t *testing.T) {
	u := body()
	u.ApplyTimeBasedCPVChecks = false
	cmd, err := SupplierByTransCoS(u, 42)
	if err != nil {
		t.Fatal(err)
	}
	c := cmd.Control
	if c.Mode != gbcs.ModeSupplierByTransCoS || c.SeqNumber != 42 || c.TimeBasedCPVChecks != gbcs.CPVDisapply || *c.AuthorisingCell != authorisingCell {
		t.Errorf("control = %+v", c)
	}
	if len(cmd.Replacements) != 1 || cmd.Replacements[0].Target != supplierDS {
		t.Errorf("replacements = %+v", cmd.Replacements)
	}
	if len(c.OtherSeqNumberChanges) != 1 || c.OtherSeqNumberChanges[0].FloorSeqNumber != 7 || c.OtherSeqNumberChanges[0].SpecialistFloorSeqNumbers != nil {
		t.Errorf("seq changes = %+v", c.OtherSeqNumberChanges)
	}
	if cmd.ExecutionDateTime != nil {
		t.Error("immediate command has an execution time")
	}

	// Future-dated and cancellation.
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	u.ExecutionDateTime = &at
	if cmd, err = SupplierByTransCoS(u, 43); err != nil || !cmd.ExecutionDateTime.Equal(at) {
		t.Errorf("future-dated: %v %v", cmd, err)
	}
	u.ExecutionDateTime = &duis.Cancellation
	if cmd, err = SupplierByTransCoS(u, 44); err != nil || !cmd.ExecutionDateTime.Equal(gbcs.CancellationTime()) || cmd.Control.OtherSeqNumberChanges != nil {
		t.Errorf("cancellation: %+v %v", cmd, err)
	}
}

func TestSupplierByTransCoSRefuses(t *testing.T) {
	frac := time.Date(2031, 5, 6, 7, 8, 9, 500, time.UTC)
	cases := map[string]func(u *duis.UpdateSecurityCredentialsCoS){
		"fail/no-ds":            func(u *duis.UpdateSecurityCredentialsCoS) { u.DigitalSigningCertificate = nil },
		"fail/topup-without-ka": func(u *duis.UpdateSecurityCredentialsCoS) { u.KeyAgreementTopUpCertificate = []byte{0x30, 0} },
		"fail/fractional-time":  func(u *duis.UpdateSecurityCredentialsCoS) { u.ExecutionDateTime = &frac },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			u := body()
			mutate(u)
			if cmd, err := SupplierByTransCoS(u, 1); err == nil || cmd != nil {
				t.Fatalf("accepted: %+v", cmd)
			}
		})
	}
	if _, err := SupplierByTransCoS(nil, 1); err == nil {
		t.Error("nil body accepted")
	}
}

func TestTransCoSByTransCoS(t *testing.T) {
	m := Migration{NewCertificate: []byte{0x30, 0}, CertificationPath: [][]byte{{0x30, 0}}}
	cmd, err := TransCoSByTransCoS(m, 9)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Control.Mode != gbcs.ModeTransCoSByTransCoS || cmd.Control.TimeBasedCPVChecks != gbcs.CPVDisapply || cmd.Replacements[0].Target != authorisingCell {
		t.Errorf("migration = %+v", cmd.Control)
	}
	m.ApplyTimeBasedCPV = true
	if cmd, _ = TransCoSByTransCoS(m, 9); cmd.Control.TimeBasedCPVChecks != gbcs.CPVDefault {
		t.Error("--apply-time-cpv not honoured")
	}
	if _, err := TransCoSByTransCoS(Migration{CertificationPath: m.CertificationPath}, 1); err == nil || !strings.Contains(err.Error(), "new transitionalCoS") {
		t.Errorf("missing certificate: %v", err)
	}
	if _, err := TransCoSByTransCoS(Migration{NewCertificate: m.NewCertificate}, 1); err == nil {
		t.Error("missing path accepted")
	}
	msg, err := Command(transCoS, esme, cmd)
	if err != nil || msg.Code != gbcs.CodeTransCoSByTransCoS || msg.Counter != 9 || msg.Recipient != esme {
		t.Errorf("Command = %+v, %v", msg, err)
	}
}
