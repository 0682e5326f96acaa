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
		t, err := ExecutionTime(*u.ExecutionDateTime)
		if err != nil {
			return nil, err
		}
		cmd.ExecutionDateTime = &t
	}
	if !IsCancellation(u) {
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

// ErrExecutionTime marks a DUIS ExecutionDateTime that no CS02b can
// carry. Intake refuses such a request before acknowledging it.
var ErrExecutionTime = errors.New("cosbuild: ExecutionDateTime cannot be carried by a CS02b")

// ExecutionTime maps a DUIS ExecutionDateTime onto the CS02b's
// executionDateTime: DUIS's cancellation date becomes GBCS's cancellation
// time 99991231235959Z; any other time is copied, and must be whole seconds
// (GeneralizedTime in GBCS carries no fraction) in the years 0001..9999.
// It is the one place the mapping is defined: what is a cancellation is
// derived from it (IsCancellation), never listed apart.
func ExecutionTime(t time.Time) (time.Time, error) {
	if t.Equal(duis.Cancellation) {
		return gbcs.CancellationTime(), nil
	}
	t = t.UTC()
	if t.Nanosecond() != 0 {
		return time.Time{}, fmt.Errorf("%w: %s has a fraction of a second; GBCS carries whole seconds", ErrExecutionTime, t.Format(time.RFC3339Nano))
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%w: year %d is outside 0001..9999", ErrExecutionTime, y)
	}
	return t, nil
}

// IsCancellation reports whether the device would execute u as the
// cancellation of its pending future-dated command: its ExecutionDateTime
// maps onto GBCS's cancellation time. DUIS's 3000-12-31T00:00:00Z does,
// and so does 9999-12-31T23:59:59Z, copied as it stands.
func IsCancellation(u *duis.UpdateSecurityCredentialsCoS) bool {
	if u == nil || u.ExecutionDateTime == nil {
		return false
	}
	t, err := ExecutionTime(*u.ExecutionDateTime)
	return err == nil && t.Equal(gbcs.CancellationTime())
}

// Check builds, without a key or a counter, the command u would become and
// reports why it cannot be: what intake runs so that no request is
// acknowledged and then fails to encode. A problem with ExecutionDateTime
// wraps ErrExecutionTime.
func Check(u *duis.UpdateSecurityCredentialsCoS, device eui.EUI) error {
	const counter = 1<<64 - 1 // the longest encoding a counter has
	payload, err := SupplierByTransCoS(u, counter)
	if err != nil {
		return err
	}
	m, err := Command(eui.EUI{}, device, payload)
	if err != nil {
		return err
	}
	_, err = m.SignedBytes()
	return err
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
