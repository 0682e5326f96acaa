package duis

import (
	"math/big"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/ecos-cos/ecos/eui"
)

// Generators for every document type. They produce values in the shape a
// decoder returns (UTC times, nil for absent, zero EUIs only where zero
// means absent…), so decode(encode(v)) can be compared with v. Enumerated
// strings come from the schema, so the same values also feed the XSD test.

// cmpOpts compares decoded values: times by instant, big.Ints by value,
// nil and empty slices alike.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b *big.Int) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Cmp(b) == 0
	}),
	cmpopts.EquateEmpty(),
}

func genEUI(t *rapid.T, label string) eui.EUI {
	var e eui.EUI
	copy(e[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, label))
	return e
}

func genRequestID(t *rapid.T, label string) RequestID {
	return RequestID{
		Originator: genEUI(t, label+"Originator"),
		Target:     genEUI(t, label+"Target"),
		Counter:    rapid.OneOf(rapid.Uint64(), rapid.Uint64Range(0, 10)).Draw(t, label+"Counter"),
	}
}

func genOptRequestID(t *rapid.T, label string) *RequestID {
	if !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	id := genRequestID(t, label)
	return &id
}

// genTime covers whole seconds (what DUIS senders write), milliseconds
// (all DUIS writes; finer values are cut or refused, TestDateTimeShape)
// and the extreme years xs:dateTime allows.
func genTime(t *rapid.T, label string) time.Time {
	lo := time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	sec := rapid.OneOf(
		rapid.Int64Range(lo, hi),
		rapid.Int64Range(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).Unix()),
	).Draw(t, label+"Sec")
	nsec := rapid.OneOf(rapid.Just(0), rapid.IntRange(0, 999)).Draw(t, label+"Ms") * int(time.Millisecond)
	return time.Unix(sec, int64(nsec)).UTC()
}

func genOptTime(t *rapid.T, label string) *time.Time {
	if !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	v := genTime(t, label)
	return &v
}

func genOptUint(t *rapid.T, label string, hi uint64) *uint64 {
	if !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	v := rapid.OneOf(rapid.Uint64Range(0, hi), rapid.Just(hi)).Draw(t, label)
	return &v
}

func genOptBool(t *rapid.T, label string) *bool {
	if !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	v := rapid.Bool().Draw(t, label)
	return &v
}

func genBytes(t *rapid.T, label string, maxLen int) []byte {
	return rapid.SliceOfN(rapid.Byte(), 1, maxLen).Draw(t, label)
}

func genOptBytes(t *rapid.T, label string, maxLen int) []byte {
	if !rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	return genBytes(t, label, maxLen)
}

// textRunes mixes what must be escaped, white space that must survive
// inside a value, and characters outside ASCII and the BMP.
var textRunes = []rune("0123456789ABCxyz &<>\"'\t\n\r-_.é€😀")

// genText draws a string of minLen..maxLen characters that checkText
// accepts (no surrounding white space).
func genText(t *rapid.T, label string, minLen, maxLen int) string {
	s := rapid.StringOfN(rapid.SampledFrom(textRunes), minLen, maxLen, -1).
		Filter(func(s string) bool { return strings.TrimSpace(s) == s }).
		Draw(t, label)
	return s
}

func genOptText(t *rapid.T, label string, maxLen int) string {
	if !rapid.Bool().Draw(t, label+"?") {
		return ""
	}
	return genText(t, label, 1, maxLen)
}

func genEnum(t *rapid.T, label string, values []string) string {
	return rapid.SampledFrom(values).Draw(t, label)
}

// Schema versions stay short: libxml2 cannot hold a decimal of more than
// 24 digits, and no real version is long.
var genSchemaVersion = rapid.SampledFrom([]string{"5.4", "5.3", "1", "10.25", "+5.4", "5."})

// Service references and variants from both schemas' enumerations.
var (
	genServiceRef = rapid.SampledFrom([]string{"6.23", "11.2", "8.2", "6.15", "6.24"})
	genVariant    = rapid.SampledFrom([]string{"6.23", "11.2", "8.2", "6.15.1", "6.24.1"})
)

var genCoSBody = rapid.Custom(func(t *rapid.T) *UpdateSecurityCredentialsCoS {
	u := &UpdateSecurityCredentialsCoS{
		ExecutionDateTime:                     genOptTime(t, "ExecutionDateTime"),
		SupplierFloorSeqNumber:                rapid.OneOf(rapid.Uint64Range(0, MaxFloorSeqNumber), rapid.Just(uint64(MaxFloorSeqNumber))).Draw(t, "Floor"),
		SupplierPrepaymentTopUpFloorSeqNumber: genOptUint(t, "TopUpFloor", MaxFloorSeqNumber),
		DigitalSigningCertificate:             genBytes(t, "DS", 600),
		ApplyTimeBasedCPVChecks:               rapid.Bool().Draw(t, "CPV"),
		ImportMPxN:                            genText(t, "MPxN", 1, 13),
	}
	if rapid.Bool().Draw(t, "cancel") {
		u.ExecutionDateTime = &Cancellation
	}
	if u.KeyAgreementCertificate = genOptBytes(t, "KA", 600); u.KeyAgreementCertificate != nil {
		u.KeyAgreementTopUpCertificate = genOptBytes(t, "KATopUp", 600)
	}
	n := rapid.IntRange(1, maxPathCertificates).Draw(t, "pathN")
	for i := range n {
		u.CertificationPath = append(u.CertificationPath, genBytes(t, "path"+string(rune('0'+i)), 600))
	}
	return u
})

var genRequest = rapid.Custom(func(t *rapid.T) *Request {
	return &Request{
		SchemaVersion: genSchemaVersion.Draw(t, "schemaVersion"),
		Header: Header{
			RequestID:                 genRequestID(t, "RequestID"),
			FirstInSequence:           genOptBool(t, "FirstInSequence"),
			PrecedingServiceRequestID: genOptRequestID(t, "Preceding"),
			CommandVariant:            rapid.IntRange(1, 8).Draw(t, "CommandVariant"),
			ServiceReference:          ServiceReferenceCoS,
			ServiceReferenceVariant:   ServiceReferenceCoS,
		},
		UpdateSecurityCredentialsCoS: genCoSBody.Draw(t, "body"),
	}
})

var genDCCAlert = rapid.Custom(func(t *rapid.T) DCCAlert {
	switch rapid.IntRange(0, 3).Draw(t, "alertKind") {
	case 0:
		return &QuarantinedRequest{
			Breach:             Breach(genEnum(t, "Breach", breaches)),
			RequestID:          genRequestID(t, "RequestID"),
			QuarantineEventRef: rapid.Uint64().Draw(t, "QuarantineEventRef"),
		}
	case 1:
		return &ChangeOfSupplier{
			ServiceRequestID: genRequestID(t, "ServiceRequestID"),
			ECoSErrorCode:    rapid.OneOf(rapid.Just(""), rapid.Custom(func(t *rapid.T) string { return genText(t, "code", 3, 3) })).Draw(t, "ECoSErrorCode"),
		}
	case 2:
		return &ECoSAlert{
			AlertID:               genRequestID(t, "AlertID"),
			RequestID:             genOptRequestID(t, "RequestID"),
			ECoSAlertCode:         genText(t, "ECoSAlertCode", 1, 20),
			DeviceID:              genEUI(t, "DeviceID"),
			AdditionalInformation: genOptText(t, "AdditionalInformation", 80),
		}
	default:
		a := &CoSCertificateAlert{DeviceID: genEUI(t, "DeviceID")}
		if rapid.Bool().Draw(t, "serial?") {
			a.CertificateSerialNumber = new(big.Int).SetBytes(rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "serial"))
		}
		return a
	}
})

var genResponse = rapid.Custom(func(t *rapid.T) *Response {
	r := &Response{
		SchemaVersion: genSchemaVersion.Draw(t, "schemaVersion"),
		Header: ResponseHeader{
			RequestID:        genOptRequestID(t, "RequestID"),
			ResponseID:       genOptRequestID(t, "ResponseID"),
			ResponseCode:     rapid.SampledFrom(responseCodes).Draw(t, "ResponseCode"),
			ResponseDateTime: genTime(t, "ResponseDateTime"),
		},
	}
	if rapid.Bool().Draw(t, "alert") {
		r.DCCAlertMessage = &DCCAlertMessage{
			DCCAlertCode: rapid.SampledFrom(dccAlertCodes).Draw(t, "DCCAlertCode"),
			Alert:        genDCCAlert.Draw(t, "DCCAlert"),
		}
	} else {
		r.ResponseMessage = &ResponseMessage{
			ServiceReference:        genServiceRef.Draw(t, "ServiceReference"),
			ServiceReferenceVariant: genVariant.Draw(t, "ServiceReferenceVariant"),
		}
		if rapid.Bool().Draw(t, "futureDated") {
			total := rapid.Uint16Min(1).Draw(t, "TotalCommandInstructions")
			r.ResponseMessage.FutureDatedDeviceAlert = &FutureDatedDeviceAlert{
				AlertCode:                rapid.SampledFrom([]FutureDatedAlertCode{FutureDatedSuccess, FutureDatedFailure}).Draw(t, "FutureDatedAlertCode"),
				GBCSPayload:              rapid.SliceOfN(rapid.Byte(), 1, 400).Draw(t, "alertPayload"),
				InstructionNumber:        rapid.Uint16Range(1, total).Draw(t, "InstructionNumber"),
				TotalCommandInstructions: total,
			}
		} else {
			r.ResponseMessage.GBCSPayload = genOptBytes(t, "GBCSPayload", 400)
		}
	}
	return r
})
