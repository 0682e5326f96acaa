package gbcs

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

var (
	cosParty = eui.MustParse("90-B3-D5-1F-30-00-00-04")
	esme     = eui.MustParse("00-DB-12-34-56-78-90-A0")
)

// duisCertificate pulls one base64 certificate element out of a DUIS 6.23
// request: the DUIS templates carry the very certificates the RTDS commands
// install, so the golden frames are built from an independent source.
func duisCertificate(tb testing.TB, file, element string) []byte {
	tb.Helper()
	xml := testkit.Vector(tb, "duis/"+file)
	m := regexp.MustCompile(`(?s)<sr:` + element + `>(.*?)</sr:` + element + `>`).FindSubmatch(xml)
	if m == nil {
		tb.Fatalf("%s: no <sr:%s>", file, element)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(m[1])), ""))
	if err != nil {
		tb.Fatalf("%s: %s: %v", file, element, err)
	}
	return der
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// supplierByTransCoS builds the SR 6.23 command payload field by field, as
// the service will from a DUIS request.
func supplierByTransCoS(tb testing.TB, counter uint64, floors bool, exec *time.Time) *UpdateSecurityCredentials {
	const duis = "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
	u := &UpdateSecurityCredentials{
		Control: Control{
			Mode:            ModeSupplierByTransCoS,
			AuthorisingCell: &Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature},
			SeqNumber:       counter,
		},
		Replacements: []Replacement{
			{Certificate: duisCertificate(tb, duis, "DigitalSigningCertificate"), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageDigitalSignature}},
			{Certificate: duisCertificate(tb, duis, "KeyAgreementCertificate"), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageKeyAgreement}},
			{Certificate: duisCertificate(tb, duis, "KeyAgreementTopUpCertificate"), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageKeyAgreement, Usage: CellPrepaymentTopUp}},
		},
		CertificationPath: [][]byte{duisCertificate(tb, duis, "Certificate")},
		ExecutionDateTime: exec,
	}
	if floors {
		u.Control.OtherSeqNumberChanges = []SeqNumberChange{{
			Role:                      RoleSupplier,
			FloorSeqNumber:            0,
			SpecialistFloorSeqNumbers: []SpecialistSeqNumber{{Usage: SeqNumberPrepaymentTopUp, SeqNumber: 0}},
		}}
	}
	return u
}

// checkGolden builds the command frame from payload and compares it with the
// RTDS frame: byte for byte up to the signature, then (with the RTDS
// signature copied in and our MAC computed) the whole frame.
func checkGolden(t *testing.T, name string, counter uint64, code MessageCode, payload *UpdateSecurityCredentials, wantControl string) {
	t.Helper()
	rtds := rtdsFrame(t, name)
	ref, err := ParseFrame(rtds)
	if err != nil {
		t.Fatal(err)
	}

	ctl, err := marshalValue(controlValue{&payload.Control})
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, wantControl); !bytes.Equal(ctl, want) {
		t.Errorf("control block:\n got %X\nwant %X", ctl, want)
	}

	m, err := NewUpdateSecurityCredentialsCommand(cosParty, esme, counter, payload)
	if err != nil {
		t.Fatal(err)
	}
	if m.Code != code {
		t.Fatalf("message code %s, want %s", m.Code, code)
	}
	unsigned, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.IndexByte(rtds, tagGeneralSigning)
	if got, want := unsigned, rtds[start:start+len(unsigned)]; !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("first difference at APDU offset %d: got %X, want %X", i, got[i:min(i+16, len(got))], want[i:min(i+16, len(want))])
			}
		}
	}
	if rest := rtds[start+len(unsigned):]; len(rest) != 1+64+12 || rest[0] != 0x40 {
		t.Fatalf("RTDS frame continues with %d octets, want signature (65) + MAC (12)", len(rest))
	}

	m.Sig, m.Signature = SigPresent, ref.Message.Signature
	f, err := Wrap(m, macKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, rtds) {
		t.Fatalf("whole frame differs:\n got %X\nwant %X", out, rtds)
	}
	if f.Ciphering.MAC != ref.Ciphering.MAC {
		t.Fatalf("MAC %X, RTDS %X", f.Ciphering.MAC, ref.Ciphering.MAC)
	}
}

// controlValue lets the test marshal the control block on its own.
type controlValue struct{ c *Control }

func (v controlValue) Marshal(b *cryptobyte.Builder) error { v.c.marshal(b); return nil }

func TestGoldenSupplierByTransCoS(t *testing.T) {
	const ctl623 = "3024 020107 A207 020105 03020780 8302%04X A612 3010 020102 020100 3008 3006 020100 020100"
	future := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	cancel := CancellationTime()
	cases := []struct {
		name    string
		counter uint64
		floors  bool
		exec    *time.Time
		control string
	}{
		{"CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS", 6001, true, nil, ctl623},
		{"CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_COMMAND_GBCS", 6002, true, &future, ctl623},
		// The cancellation drops the floor changes ([6]).
		{"CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_COMMAND_GBCS", 6003, false, &cancel, "3010 020107 A207 020105 03020780 8302%04X"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := supplierByTransCoS(t, tc.counter, tc.floors, tc.exec)
			checkGolden(t, tc.name, tc.counter, CodeSupplierByTransCoS, p, strings.ReplaceAll(fmt.Sprintf(tc.control, tc.counter), " ", ""))
			if tc.exec != nil {
				b, _ := p.Bytes()
				want := append([]byte{0x18, 0x0F}, tc.exec.Format("20060102150405Z")...)
				if !bytes.HasSuffix(b, want) {
					t.Errorf("payload does not end with executionDateTime %X", want)
				}
			}
		})
	}
}

func TestGoldenTransCoSByTransCoS(t *testing.T) {
	const duis = "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
	p := &UpdateSecurityCredentials{
		Control: Control{
			Mode:               ModeTransCoSByTransCoS,
			TimeBasedCPVChecks: CPVDisapply,
			AuthorisingCell:    &Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature},
			SeqNumber:          6000,
		},
		Replacements: []Replacement{{
			Certificate: testkit.PEMBlock(t, "keys/Z1b-transitionalCoS-ds.pem"),
			Target:      Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature},
		}},
		CertificationPath: [][]byte{duisCertificate(t, duis, "Certificate")},
	}
	checkGolden(t, "CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS", 6000, CodeTransCoSByTransCoS, p,
		"3013 020106 810101 A207 020105 03020780 83021770")
}

func TestNewUpdateSecurityCredentialsCommandChecks(t *testing.T) {
	u := syntheticMode7(10)
	if _, err := NewUpdateSecurityCredentialsCommand(cosParty, esme, 11, u); err == nil {
		t.Error("accepted a sequence number that is not the counter")
	}
	u.Control.Mode = 10
	if _, err := NewUpdateSecurityCredentialsCommand(cosParty, esme, 10, u); err == nil {
		t.Error("accepted mode 10")
	}
	u.Control.Mode = ModeTransCoSByTransCoS
	u.CertificationPath = [][]byte{{0x04, 0x00}}
	if _, err := NewUpdateSecurityCredentialsCommand(cosParty, esme, 10, u); err == nil {
		t.Error("accepted a certificate that is not a SEQUENCE")
	}
}
