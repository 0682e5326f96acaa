package gbcs

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/cryptobyte"
	"pgregory.net/rapid"

	"github.com/ecos-cos/ecos/eui"
)

// Generators for every payload type. They produce values in the canonical
// shape a parser returns (e.g. ExplicitUsage only with management cells), so
// that parse(marshal(v)) can be compared with v.

func genBytes(t *rapid.T, label string, max int) []byte {
	return rapid.SliceOfN(rapid.Byte(), 0, max).Draw(t, label)
}

func genOptBytes(t *rapid.T, label string, max int) []byte {
	if !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	return genBytes(t, label, max)
}

func genKeyUsage(t *rapid.T, label string) KeyUsage {
	return rapid.OneOf(
		rapid.SampledFrom([]KeyUsage{KeyUsageDigitalSignature, KeyUsageKeyAgreement, 0}),
		rapid.Map(rapid.Uint16(), func(u uint16) KeyUsage { return KeyUsage(u) }),
	).Draw(t, label)
}

func genUsage(t *rapid.T, label string) (CellUsage, bool) {
	u := CellUsage(rapid.SampledFrom([]uint8{0, 0, 1, 2, 255}).Draw(t, label))
	return u, u == CellManagement && rapid.Bool().Draw(t, label+"Explicit")
}

func genCell(t *rapid.T, label string) Cell {
	c := Cell{Role: Role(rapid.Byte().Draw(t, label+"Role")), KeyUsage: genKeyUsage(t, label+"KeyUsage")}
	c.Usage, c.ExplicitUsage = genUsage(t, label+"Usage")
	return c
}

func genSpecialists(t *rapid.T, label string, optional bool) []SpecialistSeqNumber {
	if optional && !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	n := rapid.IntRange(0, 3).Draw(t, label+"N")
	out := make([]SpecialistSeqNumber, n)
	for i := range out {
		out[i] = SpecialistSeqNumber{Usage: SeqNumberUsage(rapid.Byte().Draw(t, label+"Usage")), SeqNumber: rapid.Uint64().Draw(t, label+"Seq")}
	}
	return out
}

func genSeqChanges(t *rapid.T, label string) []SeqNumberChange {
	n := rapid.IntRange(0, 3).Draw(t, label+"N")
	out := make([]SeqNumberChange, n)
	for i := range out {
		out[i] = SeqNumberChange{
			Role:                      Role(rapid.Byte().Draw(t, label+"Role")),
			FloorSeqNumber:            rapid.Uint64().Draw(t, label+"Floor"),
			SpecialistFloorSeqNumbers: genSpecialists(t, label+"Specialist", true),
		}
	}
	return out
}

func genCert(t *rapid.T, label string) []byte {
	return fakeCert(rapid.IntRange(0, 300).Draw(t, label+"Len"), rapid.Byte().Draw(t, label+"Fill"))
}

func genTime(t *rapid.T, label string) time.Time {
	min := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	max := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	return time.Unix(rapid.Int64Range(min, max).Draw(t, label), 0).UTC()
}

func genCommand(t *rapid.T) *UpdateSecurityCredentials {
	u := &UpdateSecurityCredentials{
		Control: Control{
			Mode:                  Mode(rapid.Byte().Draw(t, "mode")),
			PlainTextSymmetricKey: genOptBytes(t, "key", 40),
			TimeBasedCPVChecks:    CPVChecks(rapid.IntRange(0, 2).Draw(t, "cpv")),
			SeqNumber:             rapid.Uint64().Draw(t, "seq"),
		},
	}
	c := &u.Control
	if rapid.Bool().Draw(t, "cell?") {
		cell := genCell(t, "authCell")
		c.AuthorisingCell = &cell
	}
	if rapid.Bool().Draw(t, "floor?") {
		f := rapid.Uint64().Draw(t, "floor")
		c.FloorSeqNumber = &f
	}
	c.SpecialistFloorSeqNumbers = genSpecialists(t, "specialist", true)
	if rapid.Bool().Draw(t, "other?") {
		c.OtherSeqNumberChanges = genSeqChanges(t, "other")
	}
	for range rapid.IntRange(0, 4).Draw(t, "replacements") {
		u.Replacements = append(u.Replacements, Replacement{Certificate: genCert(t, "cert"), Target: genCell(t, "target")})
	}
	for range rapid.IntRange(0, 3).Draw(t, "path") {
		u.CertificationPath = append(u.CertificationPath, genCert(t, "pathCert"))
	}
	if rapid.Bool().Draw(t, "exec?") {
		e := genTime(t, "exec")
		u.ExecutionDateTime = &e
	}
	return u
}

func genOutcome(t *rapid.T) ExecutionOutcome {
	o := ExecutionOutcome{
		SeqNumber:        rapid.Uint64().Draw(t, "outcomeSeq"),
		Mode:             Mode(rapid.Byte().Draw(t, "outcomeMode")),
		SeqNumberChanges: genSeqChanges(t, "changes"),
	}
	for range rapid.IntRange(0, 4).Draw(t, "outcomes") {
		var r ReplacementOutcome
		r.Cell = genCell(t, "outcomeCell")
		r.Status = Status(rapid.Byte().Draw(t, "status"))
		copy(r.ExistingSubjectUniqueID[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "eUID"))
		copy(r.ExistingSubjectKeyID[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "eSKI"))
		copy(r.ReplacingSubjectUniqueID[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "rUID"))
		copy(r.ReplacingSubjectKeyID[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "rSKI"))
		o.Outcomes = append(o.Outcomes, r)
	}
	return o
}

func genResponse(t *rapid.T) *UpdateSecurityCredentialsResponse {
	r := &UpdateSecurityCredentialsResponse{}
	if rapid.Bool().Draw(t, "outcome?") {
		o := genOutcome(t)
		r.Outcome = &o
	}
	return r
}

func genAlert(t *rapid.T) *UpdateSecurityCredentialsAlert {
	return &UpdateSecurityCredentialsAlert{
		AlertCode:         AlertCode(rapid.Uint16().Draw(t, "alertCode")),
		ExecutionDateTime: genTime(t, "alertTime"),
		Outcome:           genOutcome(t),
	}
}

func genCS02a(t *rapid.T) *ProvideSecurityCredentialDetails {
	p := &ProvideSecurityCredentialDetails{AuthorisingCell: genCell(t, "cs02aCell")}
	for range rapid.IntRange(0, 5).Draw(t, "roles") {
		p.Roles = append(p.Roles, Role(rapid.Byte().Draw(t, "role")))
	}
	return p
}

func genCS02aResponse(t *rapid.T) *ProvideSecurityCredentialDetailsResponse {
	r := &ProvideSecurityCredentialDetailsResponse{}
	for range rapid.IntRange(0, 4).Draw(t, "parties") {
		d := RemotePartyDetails{Role: Role(rapid.Byte().Draw(t, "partyRole")), Status: Status(rapid.Byte().Draw(t, "partyStatus"))}
		if rapid.Bool().Draw(t, "creds?") {
			c := &RemotePartyCredentials{SeqNumber: rapid.Uint64().Draw(t, "credSeq")}
			for range rapid.IntRange(0, 3).Draw(t, "cells") {
				var cc CellContents
				cc.KeyUsage = genKeyUsage(t, "ccKeyUsage")
				cc.Usage, cc.ExplicitUsage = genUsage(t, "ccUsage")
				copy(cc.SubjectUniqueID[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "ccUID"))
				copy(cc.SubjectKeyID[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "ccSKI"))
				c.Cells = append(c.Cells, cc)
			}
			d.Credentials = c
		}
		r.Parties = append(r.Parties, d)
	}
	return r
}

func genEUI(t *rapid.T, label string) eui.EUI {
	var e eui.EUI
	copy(e[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, label))
	return e
}

func genFrame(t *rapid.T) *Frame {
	f := &Frame{Message: Message{
		CRA:            CRA(rapid.IntRange(1, 3).Draw(t, "cra")),
		Counter:        rapid.Uint64().Draw(t, "counter"),
		Originator:     genEUI(t, "originator"),
		Recipient:      genEUI(t, "recipient"),
		Code:           MessageCode(rapid.Uint16().Draw(t, "code")),
		OtherInfoExtra: genOptBytes(t, "extra", 300),
		Content:        genBytes(t, "content", 400),
		Sig:            SignatureField(rapid.IntRange(0, 2).Draw(t, "sig")),
	}}
	if len(f.Message.OtherInfoExtra) == 0 {
		f.Message.OtherInfoExtra = nil
	}
	if rapid.Bool().Draw(t, "dateTime?") {
		var d DateTime
		copy(d[:], rapid.SliceOfN(rapid.Byte(), 12, 12).Draw(t, "dateTime"))
		f.Message.DateTime = &d
	}
	if f.Message.Sig == SigPresent {
		copy(f.Message.Signature[:], rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, "signature"))
	}
	if rapid.Bool().Draw(t, "wrapped?") {
		c := &Ciphering{SecurityControl: SecurityControlAuthOnly, InvocationCounter: rapid.Uint32().Draw(t, "ic")}
		for _, field := range []*[]byte{&c.TransactionID, &c.Originator, &c.Recipient, &c.DateTime, &c.OtherInfo} {
			if b := genBytes(t, "header", 20); len(b) > 0 {
				*field = b
			}
		}
		copy(c.MAC[:], rapid.SliceOfN(rapid.Byte(), 12, 12).Draw(t, "mac"))
		f.Ciphering = c
	}
	return f
}

var cmpExact = []cmp.Option{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmpopts.EquateEmpty(),
}

// roundTrip checks parse(marshal(v)) == v and that re-marshalling is exact.
func roundTrip[T cryptobyte.MarshalingValue](t *rapid.T, v T, parse func([]byte) (T, error)) {
	b, err := marshalValue(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	got, err := parse(b)
	if err != nil {
		t.Fatalf("parse %X: %v", b, err)
	}
	if diff := cmp.Diff(v, got, cmpExact...); diff != "" {
		t.Fatalf("parse(marshal(v)) != v (-want +got):\n%s", diff)
	}
	again, err := marshalValue(got)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-marshal differs (%v):\n got %X\nwant %X", err, again, b)
	}
}

func TestPropertyCommand(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { roundTrip(t, genCommand(t), ParseUpdateSecurityCredentials) })
}

func TestPropertyResponse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { roundTrip(t, genResponse(t), ParseUpdateSecurityCredentialsResponse) })
}

func TestPropertyAlert(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { roundTrip(t, genAlert(t), ParseUpdateSecurityCredentialsAlert) })
}

func TestPropertyCS02a(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { roundTrip(t, genCS02a(t), ParseProvideSecurityCredentialDetails) })
}

func TestPropertyCS02aResponse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { roundTrip(t, genCS02aResponse(t), ParseProvideSecurityCredentialDetailsResponse) })
}

func TestPropertyFrame(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { roundTrip(t, genFrame(t), ParseFrame) })
}

// TestPropertyLengthForms writes contents with every length form that fits
// and checks the form is recorded only when it is not the minimal one.
func TestPropertyLengthForms(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 70000).Draw(t, "n")
		form := lenForm(rapid.IntRange(0, int(maxLenForm)).Draw(t, "form"))
		if form != 0 && form < minimalForm(uint64(n)) {
			form = minimalForm(uint64(n))
		}
		content := bytesOf(n, 7)
		b := cryptobyte.NewBuilder(nil)
		addLength(b, form, func(b *cryptobyte.Builder) { b.AddBytes(content) })
		enc, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		s := cryptobyte.String(enc)
		var got cryptobyte.String
		var gotForm lenForm
		if !readLength(&s, &got, &gotForm) || !s.Empty() || !bytes.Equal(got, content) {
			t.Fatalf("readLength failed on %X…", enc[:min(len(enc), 8)])
		}
		want := form
		if want == minimalForm(uint64(n)) {
			want = 0
		}
		if gotForm != want {
			t.Fatalf("form %d recorded as %d", form, gotForm)
		}
	})
}

// TestPropertyRecordedForms sets non-minimal forms on a command's SEQUENCEs
// and checks they survive parse → marshal.
func TestPropertyRecordedForms(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := genCommand(t)
		pick := func(label string) lenForm { return lenForm(rapid.SampledFrom([]int{0, 3, 4}).Draw(t, label)) }
		u.form, u.replacementsForm, u.pathForm, u.Control.form = pick("f1"), pick("f2"), pick("f3"), pick("f4")
		for i := range u.Replacements {
			u.Replacements[i].form = pick("f5")
			u.Replacements[i].Target.form = pick("f6")
		}
		roundTrip(t, u, ParseUpdateSecurityCredentials)
	})
}
