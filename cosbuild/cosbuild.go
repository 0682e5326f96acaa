// Package cosbuild builds the two CS02b commands the CoS Party signs:
// supplierByTransCoS (mode 7, message code 0x0107) from an SR 6.23 request,
// and transCoSByTransCoS (mode 6, 0x0106), which replaces the credential in
// a device's transitionalCoS cell during TCoS → ECoS migration.
//
// Trust level: pure mapping, no I/O and no keys. It assumes its input was
// authorised; it only refuses inputs it cannot encode faithfully.
package cosbuild

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// authorisingCell is the transitionalCoS digital-signing cell: the anchor
// every CoS Party command is checked against, TCoS or ECoS alike.
var authorisingCell = gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}

// Targets of the supplier replacements, in the order DUIS lists them.
var (
	supplierDS      = gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageDigitalSignature}
	supplierKA      = gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageKeyAgreement}
	supplierKATopUp = gbcs.Cell{Role: gbcs.RoleSupplier, KeyUsage: gbcs.KeyUsageKeyAgreement, Usage: gbcs.CellPrepaymentTopUp}
)

// SupplierByTransCoS maps an SR 6.23 body onto the CS02b mode 7 payload
// (dcc-formats.md §3.7, verified on the RTDS pairs). counter is the CoS
// Party's own originator counter for this device, not the User's RequestID
// counter; it goes in both the grouping header and [3].
//
// The supplier's new floors travel in [6] otherRemotePartySeqNumberChanges,
// except on a cancellation, which changes no floors (as in RTDS).
func SupplierByTransCoS(u *duis.UpdateSecurityCredentialsCoS, counter uint64) (*gbcs.UpdateSecurityCredentials, error) {
	if u == nil {
		return nil, errors.New("cosbuild: no 6.23 body")
	}
	if len(u.DigitalSigningCertificate) == 0 {
		return nil, errors.New("cosbuild: 6.23 body has no digital-signing certificate")
	}
	if u.KeyAgreementTopUpCertificate != nil && u.KeyAgreementCertificate == nil {
		// DUIS allows it; GBCS would then replace the top-up cell alone,
		// which no RTDS vector shows. Refuse rather than guess.
		return nil, errors.New("cosbuild: a KA top-up certificate without a KA certificate is not supported")
	}
	cmd := &gbcs.UpdateSecurityCredentials{
		Control: gbcs.Control{
			Mode:            gbcs.ModeSupplierByTransCoS,
			AuthorisingCell: &authorisingCell,
			SeqNumber:       counter,
		},
		CertificationPath: u.CertificationPath,
	}
	if !u.ApplyTimeBasedCPVChecks {
		cmd.Control.TimeBasedCPVChecks = gbcs.CPVDisapply
	}
	cmd.Replacements = append(cmd.Replacements, gbcs.Replacement{Certificate: u.DigitalSigningCertificate, Target: supplierDS})
	if u.KeyAgreementCertificate != nil {
		cmd.Replacements = append(cmd.Replacements, gbcs.Replacement{Certificate: u.KeyAgreementCertificate, Target: supplierKA})
	}
	if u.KeyAgreementTopUpCertificate != nil {
		cmd.Replacements = append(cmd.Replacements, gbcs.Replacement{Certificate: u.KeyAgreementTopUpCertificate, Target: supplierKATopUp})
	}
	if u.ExecutionDateTime != nil {
		t, err := executionTime(u)
		if err != nil {
			return nil, err
		}
		cmd.ExecutionDateTime = &t
	}
	if !u.IsCancellation() {
		change := gbcs.SeqNumberChange{Role: gbcs.RoleSupplier, FloorSeqNumber: u.SupplierFloorSeqNumber}
		if u.SupplierPrepaymentTopUpFloorSeqNumber != nil {
			change.SpecialistFloorSeqNumbers = []gbcs.SpecialistSeqNumber{{
				Usage: gbcs.SeqNumberPrepaymentTopUp, SeqNumber: *u.SupplierPrepaymentTopUpFloorSeqNumber,
			}}
		}
		cmd.Control.OtherSeqNumberChanges = []gbcs.SeqNumberChange{change}
	}
	return cmd, nil
}

// executionTime converts the DUIS ExecutionDateTime: the DUIS cancellation
// date becomes GBCS's 99991231235959Z; other times must be whole seconds,
// because GeneralizedTime in GBCS carries no fraction.
func executionTime(u *duis.UpdateSecurityCredentialsCoS) (time.Time, error) {
	if u.IsCancellation() {
		return gbcs.CancellationTime(), nil
	}
	t := u.ExecutionDateTime.UTC()
	if t.Nanosecond() != 0 {
		return time.Time{}, fmt.Errorf("cosbuild: ExecutionDateTime %s has a fraction of a second; GBCS carries whole seconds", t.Format(time.RFC3339Nano))
	}
	return t, nil
}

// Migration describes one mode 6 command: the ECoS certificate to install
// in the device's transitionalCoS cell, signed with the TCoS key.
type Migration struct {
	NewCertificate    []byte   // DER of the incoming transitionalCoS DS certificate
	CertificationPath [][]byte // its issuing CA chain
	// ApplyTimeBasedCPV applies the device's time-based certification path
	// checks. RTDS disapplies them, and so do we by default: a device with a
	// wrong clock must still migrate.
	ApplyTimeBasedCPV bool
}

// TransCoSByTransCoS builds the CS02b mode 6 payload for m.
func TransCoSByTransCoS(m Migration, counter uint64) (*gbcs.UpdateSecurityCredentials, error) {
	if len(m.NewCertificate) == 0 {
		return nil, errors.New("cosbuild: migration needs the new transitionalCoS certificate")
	}
	if len(m.CertificationPath) == 0 {
		return nil, errors.New("cosbuild: migration needs the certification path")
	}
	cmd := &gbcs.UpdateSecurityCredentials{
		Control: gbcs.Control{
			Mode:            gbcs.ModeTransCoSByTransCoS,
			AuthorisingCell: &authorisingCell,
			SeqNumber:       counter,
		},
		Replacements:      []gbcs.Replacement{{Certificate: m.NewCertificate, Target: authorisingCell}},
		CertificationPath: m.CertificationPath,
	}
	if !m.ApplyTimeBasedCPV {
		cmd.Control.TimeBasedCPVChecks = gbcs.CPVDisapply
	}
	return cmd, nil
}

// Command wraps a CS02b payload in an unsigned General Signing message from
// the CoS Party (originator) to the device, with the message code of its
// mode. Sign it with the key the device trusts.
func Command(originator, device eui.EUI, payload *gbcs.UpdateSecurityCredentials) (*gbcs.Message, error) {
	m, err := gbcs.NewUpdateSecurityCredentialsCommand(originator, device, payload.Control.SeqNumber, payload)
	if err != nil {
		return nil, fmt.Errorf("cosbuild: %w", err)
	}
	return m, nil
}
