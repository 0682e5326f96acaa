package gbcs

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpPayload compares decoded values on their meaning: length forms are
// ignored and nil equals empty.
var cmpPayload = []cmp.Option{
	cmpopts.IgnoreUnexported(UpdateSecurityCredentials{}, Control{}, SpecialistSeqNumber{}, SeqNumberChange{},
		Replacement{}, Cell{}, UpdateSecurityCredentialsResponse{}, ExecutionOutcome{}, ReplacementOutcome{},
		UpdateSecurityCredentialsAlert{}, ProvideSecurityCredentialDetails{}, ProvideSecurityCredentialDetailsResponse{},
		RemotePartyDetails{}, RemotePartyCredentials{}, CellContents{}, Message{}, Ciphering{}),
	cmpopts.EquateEmpty(),
}

// TestDeviceResponse plays the device: it answers the RTDS 6.23 IMMEDIATE
// command the way the RTDS device did, and the result matches the RTDS
// response in meaning (the RTDS device writes non-minimal lengths; we write
// DER).
func TestDeviceResponse(t *testing.T) {
	for _, tc := range []struct{ cmd, resp string }{
		{"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS", "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS"},
		{"CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS", "CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE_GBCS"},
		{"CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_COMMAND_GBCS", "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_RESPONSE_GBCS"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			cmdFrame, err := ParseFrame(rtdsFrame(t, tc.cmd))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := ParseFrame(rtdsFrame(t, tc.resp))
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := ParseUpdateSecurityCredentials(cmdFrame.Message.Content)
			if err != nil {
				t.Fatal(err)
			}
			refPayload, err := ParseUpdateSecurityCredentialsResponse(ref.Message.Content)
			if err != nil {
				t.Fatal(err)
			}
			outcome := OutcomeFor(cmd)
			outcome.Outcomes = refPayload.Outcome.Outcomes // what the device found in its cells
			payload, err := (&UpdateSecurityCredentialsResponse{Outcome: outcome}).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			// Written as the RTDS devices write lengths, the payload is
			// byte-identical to theirs.
			if payload, err = TwoOctetLengths(payload); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(payload, ref.Message.Content) {
				t.Fatalf("payload:\n got %X\nwant %X", payload, ref.Message.Content)
			}
			now := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
			resp := NewResponse(&cmdFrame.Message, now, payload)
			device := fixedKey(t, "device")
			if err := resp.Sign(nil, device); err != nil {
				t.Fatal(err)
			}
			wire, err := resp.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseFrame(wire)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Message.Verify(&device.PublicKey); err != nil {
				t.Fatal(err)
			}
			if got.Ciphering != nil {
				t.Error("responses travel bare")
			}
			// Everything but the signature matches the RTDS response.
			mine, _ := got.Message.SignedBytes()
			theirs, _ := ref.Message.SignedBytes()
			if !bytes.Equal(mine, theirs) {
				t.Errorf("signed bytes:\n got %X\nwant %X", mine, theirs)
			}
			gotPayload, err := ParseUpdateSecurityCredentialsResponse(got.Message.Content)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(refPayload, gotPayload, cmpPayload...); diff != "" {
				t.Errorf("payload (-rtds +ours):\n%s", diff)
			}
		})
	}
}

// TestFutureDatedAlert rebuilds the RTDS 0x8F66 alert from its decoded parts.
func TestFutureDatedAlert(t *testing.T) {
	ref, err := ParseFrame(rtdsFrame(t, "CS02bSupplierByTransCoS_6.23_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS"))
	if err != nil {
		t.Fatal(err)
	}
	refAlert, err := ParseUpdateSecurityCredentialsAlert(ref.Message.Content)
	if err != nil {
		t.Fatal(err)
	}
	if refAlert.AlertCode != AlertFutureDatedSuccess || !refAlert.ExecutionDateTime.Equal(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("alert %s at %s", refAlert.AlertCode, refAlert.ExecutionDateTime)
	}
	if ref.Message.Counter != 2001 || ref.Message.Recipient != cosParty || ref.Message.CRA != CRAAlert {
		t.Fatalf("alert header: counter %d, recipient %s, CRA %s", ref.Message.Counter, ref.Message.Recipient, ref.Message.CRA)
	}
	a := &UpdateSecurityCredentialsAlert{AlertCode: AlertFutureDatedSuccess, ExecutionDateTime: refAlert.ExecutionDateTime, Outcome: refAlert.Outcome}
	a.Outcome.form, a.Outcome.changesForm, a.Outcome.outcomesForm = 0, 0, 0
	m, err := NewFutureDatedAlert(esme, cosParty, 2001, a)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Message.DateTime != nil || m.DateTime != nil {
		t.Error("CS02b alerts carry no grouping-header date-time")
	}
	// Written with the RTDS device's length style, the whole unsigned APDU
	// is byte-identical to the RTDS one.
	if m.Content, err = TwoOctetLengths(m.Content); err != nil {
		t.Fatal(err)
	}
	mine, _ := m.SignedBytes()
	theirs, _ := ref.Message.SignedBytes()
	if !bytes.Equal(mine, theirs) {
		t.Fatalf("unsigned alert:\n got %X\nwant %X", mine, theirs)
	}
}

func TestDateTime(t *testing.T) {
	when := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	d := NewDateTime(when)
	if want := mustHex(t, "07DF0101FF000000008000FF"); !bytes.Equal(d[:], want) {
		t.Fatalf("NewDateTime = %X, want %X (RTDS)", d[:], want)
	}
	got, err := d.Time()
	if err != nil || !got.Equal(when) {
		t.Fatalf("Time() = %v, %v", got, err)
	}
	var bad DateTime
	copy(bad[:], mustHex(t, "FFFF0101FF000000008000FF"))
	if _, err := bad.Time(); err == nil {
		t.Error("unspecified year decoded")
	}
	if bad.String() != "ffff0101ff000000008000ff" {
		t.Errorf("String() of an undecodable date-time = %q", bad.String())
	}
}

func TestOutcomeForCopies(t *testing.T) {
	cmd := syntheticMode7(5)
	o := OutcomeFor(cmd)
	o.SeqNumberChanges[0].SpecialistFloorSeqNumbers[0].SeqNumber = 99
	if cmd.Control.OtherSeqNumberChanges[0].SpecialistFloorSeqNumbers[0].SeqNumber != 0 {
		t.Fatal("OutcomeFor shares memory with the command")
	}
	if o.SeqNumber != 5 || o.Mode != ModeSupplierByTransCoS {
		t.Fatalf("outcome %+v", o)
	}
}
