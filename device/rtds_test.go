package device

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/smki"
)

// RTDS 4.5.0 vectors (dcc-formats.md §3).
const (
	rtds623Immediate      = "gbcs/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX"
	rtds623ImmediateResp  = "gbcs/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"
	rtds623Future         = "gbcs/CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX"
	rtds623FutureResp     = "gbcs/CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX"
	rtds623Cancel         = "gbcs/CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_COMMAND_GBCS.HEX"
	rtdsMigration         = "gbcs/CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS.HEX"
	rtdsMigrationResp     = "gbcs/CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE_GBCS.HEX"
	rtdsCS02aSignature    = "gbcs/CS02aSignature_NA_ERROR_COMMAND_GBCS.HEX"
	rtdsCS02aSignatureRsp = "gbcs/CS02aSignature_NA_ERROR_RESPONSE_GBCS.HEX"
)

var (
	rtdsDevice = eui.MustParse("00-DB-12-34-56-78-90-A0")
	rtdsClock  = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	// Z1b-transitionalCoS-ds: the certificate the migration installs.
	z1bSKI = gbcs.KeyID{0x4F, 0x3F, 0x10, 0x85, 0x56, 0x96, 0xFE, 0xF2}
)

func vectorCert(t testing.TB, name string) *smki.Certificate {
	t.Helper()
	c, err := smki.Parse(testkit.PEMBlock(t, filepath.Join("keys", name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// testDeviceKey is a fixed stand-in for the RTDS device's DS key, which is
// not public: our responses verify with it, not with the RTDS device
// certificate.
func testDeviceKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), new(big.Int).SetUint64(0x00DB1234567890A0).FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rtdsESME is the RTDS ESME 00DB1234567890A0 as far as the vectors show
// it: the Z1 transitionalCoS certificate in {5, DS} (90b3d51f30000004-ds
// is the same certificate), supplier 1's three certificates in the
// supplier cells, and no root anchor (the ZA root is not published), with
// a clock of 2020-01-01.
func rtdsESME(t testing.TB) *Device {
	t.Helper()
	clk := newClock(rtdsClock)
	d, err := New(Config{
		EUI:   rtdsDevice,
		DSKey: testDeviceKey(t),
		Now:   clk.Now,
		Anchors: []Anchor{
			{Cell: cellTransCoSDS.cell(), Cert: vectorCert(t, "Z1-transitionalCoS-ds.pem")},
			{Cell: cellSupplierDS.cell(), Cert: vectorCert(t, "90b3d51f30010000-ds.pem")},
			{Cell: cellSupplierKA.cell(), Cert: vectorCert(t, "90b3d51f30010000-ka.pem")},
			{Cell: cellSupplierKATopUp.cell(), Cert: vectorCert(t, "90b3d51f30010000-pp-ka.pem")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rtdsResponse decodes an RTDS response vector.
func rtdsResponse(t testing.TB, name string) (*gbcs.Message, *gbcs.UpdateSecurityCredentialsResponse) {
	t.Helper()
	m, err := gbcs.ParseMessage(testkit.HexVector(t, name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

// checkLikeRTDS compares our response with the RTDS one: same header
// fields (bar the date-time), same execution outcome, field by field.
func checkLikeRTDS(t testing.TB, d *Device, ours []byte, rtds string) {
	t.Helper()
	om, or := parseResponse(t, d, ours)
	rm, rr := rtdsResponse(t, rtds)
	if om.Counter != rm.Counter || om.Originator != rm.Originator || om.Recipient != rm.Recipient || om.Code != rm.Code {
		t.Errorf("header: ours %v→%v #%d %v, RTDS %v→%v #%d %v", om.Originator, om.Recipient, om.Counter, om.Code,
			rm.Originator, rm.Recipient, rm.Counter, rm.Code)
	}
	if (or.Outcome == nil) != (rr.Outcome == nil) {
		t.Fatalf("outcome present: ours %v, RTDS %v", or.Outcome != nil, rr.Outcome != nil)
	}
	if or.Outcome == nil {
		if !bytes.Equal(om.Content, rm.Content) {
			t.Errorf("content %x, RTDS %x", om.Content, rm.Content)
		}
		return
	}
	if or.Outcome.SeqNumber != rr.Outcome.SeqNumber || or.Outcome.Mode != rr.Outcome.Mode {
		t.Errorf("outcome seq/mode %d/%v, RTDS %d/%v", or.Outcome.SeqNumber, or.Outcome.Mode, rr.Outcome.SeqNumber, rr.Outcome.Mode)
	}
	// Sequence-number changes are compared by re-encoding: they are plain
	// numbers, so equal meaning is equal bytes.
	ob, _ := (&gbcs.UpdateSecurityCredentialsResponse{Outcome: &gbcs.ExecutionOutcome{SeqNumberChanges: or.Outcome.SeqNumberChanges}}).Bytes()
	rb, _ := (&gbcs.UpdateSecurityCredentialsResponse{Outcome: &gbcs.ExecutionOutcome{SeqNumberChanges: rr.Outcome.SeqNumberChanges}}).Bytes()
	if !bytes.Equal(ob, rb) {
		t.Errorf("seq changes %+v, RTDS %+v", or.Outcome.SeqNumberChanges, rr.Outcome.SeqNumberChanges)
	}
	checkOutcomes(t, or.Outcome.Outcomes, rr.Outcome.Outcomes)
}

func TestRTDS623Immediate(t *testing.T) {
	d := rtdsESME(t)
	res := mustHandle(t, d, testkit.HexVector(t, rtds623Immediate))
	checkLikeRTDS(t, d, res.Response, rtds623ImmediateResp)
	if len(res.Outcome.Outcomes) != 3 {
		t.Fatalf("outcomes %+v", res.Outcome.Outcomes)
	}
	// Replayed verbatim: refused.
	mustReject(t, d, testkit.HexVector(t, rtds623Immediate), Replay)
}

func TestRTDS623FutureDatedAndCancellation(t *testing.T) {
	d := rtdsESME(t)
	mustHandle(t, d, testkit.HexVector(t, rtds623Immediate)) // 6001
	res := mustHandle(t, d, testkit.HexVector(t, rtds623Future))
	checkLikeRTDS(t, d, res.Response, rtds623FutureResp)
	if !res.Pending || d.Pending() != 1 || !res.ExecuteAt.Equal(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("future-dated: %+v", res)
	}
	res = mustHandle(t, d, testkit.HexVector(t, rtds623Cancel))
	if res.Cancelled != 1 || d.Pending() != 0 {
		t.Fatalf("cancellation: %+v, pending %d", res, d.Pending())
	}
}

func TestRTDSMigration(t *testing.T) {
	d := rtdsESME(t)
	res := mustHandle(t, d, testkit.HexVector(t, rtdsMigration))
	checkLikeRTDS(t, d, res.Response, rtdsMigrationResp)
	if ski, _ := d.AnchorSKI(cellTransCoSDS.cell()); ski != z1bSKI {
		t.Errorf("transitionalCoS cell SKI %x, want Z1b %x", ski, z1bSKI)
	}
	// The 6.23 command signed with the old Z1 key is now refused.
	mustReject(t, d, testkit.HexVector(t, rtds623Immediate), BadSignature)
}

func TestRTDSCS02aSignature(t *testing.T) {
	// The RTDS read of the networkOperator and wanProvider roles: this
	// device has neither, so both report trustAnchorNotFound (RTDS's device
	// had a network operator).
	d := rtdsESME(t)
	res := mustHandle(t, d, testkit.HexVector(t, rtdsCS02aSignature))
	rm, err := gbcs.ParseMessage(testkit.HexVector(t, rtdsCS02aSignatureRsp))
	if err != nil {
		t.Fatal(err)
	}
	om, err := gbcs.ParseMessage(res.Response)
	if err != nil {
		t.Fatal(err)
	}
	if om.Counter != rm.Counter || om.Recipient != rm.Recipient || (om.DateTime == nil) != (rm.DateTime == nil) {
		t.Errorf("header ours %+v, RTDS %+v", om, rm)
	}
	if len(res.Details.Parties) != 2 || res.Details.Parties[1].Status != gbcs.StatusTrustAnchorNotFound {
		t.Errorf("details %+v", res.Details.Parties)
	}
}
