package peers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// A leaf is what one of our values must look like in duis-parser's
// output, compared by meaning (an instant, a number, octets, an ID), not
// by spelling, so that a change of lexical form on either side (the DUIS
// dateTime shape, say) is not a disagreement while a change of value is.
type leaf interface{ match(s string) error }

type textLeaf string
type uintLeaf uint64
type timeLeaf time.Time
type bytesLeaf []byte
type boolLeaf bool
type idLeaf duis.RequestID
type euiLeaf eui.EUI
type bigLeaf struct{ n *big.Int }
type hexLeaf uint16 // xs:hexBinary, compared by value

func (w textLeaf) match(s string) error {
	if s != string(w) {
		return fmt.Errorf("duis-parser reads %q, we read %q", s, string(w))
	}
	return nil
}

func (w uintLeaf) match(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n != uint64(w) {
		return fmt.Errorf("duis-parser reads %q, we read %d", s, uint64(w))
	}
	return nil
}

func (w timeLeaf) match(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !t.Equal(time.Time(w)) {
		return fmt.Errorf("duis-parser reads %q, we read %s", s, time.Time(w).Format(time.RFC3339Nano))
	}
	return nil
}

func (w bytesLeaf) match(s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("duis-parser reads %q: %v", s, err)
	}
	if !bytes.Equal(b, w) {
		return fmt.Errorf("duis-parser reads %d octets %X…, we read %d octets %X…", len(b), b[:min(8, len(b))], len(w), w[:min(8, len(w))])
	}
	return nil
}

func (w boolLeaf) match(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil || b != bool(w) {
		return fmt.Errorf("duis-parser reads %q, we read %v", s, bool(w))
	}
	return nil
}

func (w idLeaf) match(s string) error {
	id, err := duis.ParseRequestID(s)
	if err != nil || id != duis.RequestID(w) {
		return fmt.Errorf("duis-parser reads %q, we read %s", s, duis.RequestID(w))
	}
	return nil
}

func (w euiLeaf) match(s string) error {
	e, err := eui.Parse(s)
	if err != nil || e != eui.EUI(w) {
		return fmt.Errorf("duis-parser reads %q, we read %s", s, eui.EUI(w))
	}
	return nil
}

func (w hexLeaf) match(s string) error {
	n, err := strconv.ParseUint(s, 16, 16)
	if err != nil || len(s) != 4 || n != uint64(w) {
		return fmt.Errorf("duis-parser reads %q, we read %04X", s, uint16(w))
	}
	return nil
}

func (w bigLeaf) match(s string) error {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Cmp(w.n) != 0 {
		return fmt.Errorf("duis-parser reads %q, we read %s", s, w.n)
	}
	return nil
}

// flattenJSON lists the string leaves of duis-parser's body as
// "A/B/C" paths ("A/B[i]" for repeated elements).
func flattenJSON(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "/" + k
			}
			flattenJSON(p, c, out)
		}
	case []any:
		for i, c := range x {
			flattenJSON(fmt.Sprintf("%s[%d]", prefix, i), c, out)
		}
	case string:
		out[prefix] = x
	default:
		out[prefix] = fmt.Sprint(x)
	}
}

// peerID is a RequestID as duis-parser's simplified header gives it.
type peerID struct {
	OriginatorID string `json:"originatorId"`
	TargetID     string `json:"targetId"`
	Counter      string `json:"counter"`
}

func (p *peerID) parse() (duis.RequestID, error) {
	o, err := eui.Parse(p.OriginatorID)
	if err != nil {
		return duis.RequestID{}, err
	}
	t, err := eui.Parse(p.TargetID)
	if err != nil {
		return duis.RequestID{}, err
	}
	n, err := strconv.ParseUint(p.Counter, 10, 64)
	if err != nil {
		return duis.RequestID{}, err
	}
	return duis.RequestID{Originator: o, Target: t, Counter: n}, nil
}

// peerDoc is duis-parser's "simplified" reading of a document.
type peerDoc struct {
	Header struct {
		Type             string  `json:"type"`
		RequestID        *peerID `json:"requestId"`
		ResponseID       *peerID `json:"responseId"`
		ResponseCode     string  `json:"responseCode"`
		ResponseDateTime string  `json:"responseDateTime"`
		CommandVariant   *struct {
			Number int `json:"number"`
		} `json:"commandVariant"`
		ServiceReference        string `json:"serviceReference"`
		ServiceReferenceVariant *struct {
			Variant string `json:"Service Reference Variant"`
		} `json:"serviceReferenceVariant"`
	} `json:"header"`
	Body map[string]any `json:"body"`
}

// docCheck compares one document as duis-parser read it with ours.
type docCheck struct {
	tb   testing.TB
	name string
	doc  peerDoc
	res  duisResult
}

func newDocCheck(tb testing.TB, name string, r duisResult, kind string) *docCheck {
	tb.Helper()
	if r.Error != "" {
		tb.Errorf("%s: duis-parser refused the document: %s", name, r.Error)
		return nil
	}
	c := &docCheck{tb: tb, name: name, res: r}
	if err := json.Unmarshal(r.Doc, &c.doc); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	// duis-parser's own type guards must recognise the shape, exactly.
	want := []string{"Request"}
	if kind != "Request" {
		want = []string{"Response", kind}
	}
	got := slices.Clone(r.Kinds)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		tb.Errorf("%s: duis-parser's type guards see %v, want %v", name, r.Kinds, want)
	}
	return c
}

func (c *docCheck) id(field string, p *peerID, want *duis.RequestID) {
	c.tb.Helper()
	switch {
	case want == nil && p != nil:
		c.tb.Errorf("%s: duis-parser reads a %s %+v we did not write", c.name, field, *p)
	case want != nil && p == nil:
		c.tb.Errorf("%s: duis-parser reads no %s, we wrote %s", c.name, field, want)
	case want != nil:
		got, err := p.parse()
		if err != nil || got != *want {
			c.tb.Errorf("%s: %s: duis-parser reads %+v (%v), we read %s", c.name, field, *p, err, want)
		}
	}
}

// body compares duis-parser's body with want, path by path: every path on
// one side must be on the other.
func (c *docCheck) body(want map[string]leaf) {
	c.tb.Helper()
	got := map[string]string{}
	flattenJSON("", c.doc.Body, got)
	for p, w := range want {
		s, ok := got[p]
		if !ok {
			c.tb.Errorf("%s: body %s: missing from duis-parser's output", c.name, p)
			continue
		}
		if err := w.match(s); err != nil {
			c.tb.Errorf("%s: body %s: %v", c.name, p, err)
		}
	}
	for p, s := range got {
		if _, ok := want[p]; !ok {
			c.tb.Errorf("%s: body %s: duis-parser reads %q, which we do not", c.name, p, s)
		}
	}
}

// request checks a 6.23 request against our decoding of it.
func (c *docCheck) request(r *duis.Request) {
	c.tb.Helper()
	h := c.doc.Header
	if h.Type != "request" {
		c.tb.Errorf("%s: duis-parser reads a %q", c.name, h.Type)
	}
	c.id("RequestID", h.RequestID, &r.Header.RequestID)
	if h.CommandVariant == nil || h.CommandVariant.Number != r.Header.CommandVariant {
		c.tb.Errorf("%s: CommandVariant: duis-parser reads %+v, we read %d", c.name, h.CommandVariant, r.Header.CommandVariant)
	}
	if h.ServiceReference != r.Header.ServiceReference || h.ServiceReferenceVariant == nil || h.ServiceReferenceVariant.Variant != r.Header.ServiceReferenceVariant {
		c.tb.Errorf("%s: service reference: duis-parser reads %q / %+v, we read %q / %q", c.name,
			h.ServiceReference, h.ServiceReferenceVariant, r.Header.ServiceReference, r.Header.ServiceReferenceVariant)
	}
	u := r.UpdateSecurityCredentialsCoS
	p := "UpdateSecurityCredentialsCoS/"
	want := map[string]leaf{
		p + "SupplierFloorSeqNumber":                                    uintLeaf(u.SupplierFloorSeqNumber),
		p + "SupplierReplacementCertificates/DigitalSigningCertificate": bytesLeaf(u.DigitalSigningCertificate),
		p + "ApplyTimeBasedCPVChecks":                                   boolLeaf(u.ApplyTimeBasedCPVChecks),
		p + "ImportMPxN":                                                textLeaf(u.ImportMPxN),
	}
	if u.ExecutionDateTime != nil {
		want[p+"ExecutionDateTime"] = timeLeaf(*u.ExecutionDateTime)
	}
	if u.SupplierPrepaymentTopUpFloorSeqNumber != nil {
		want[p+"SupplierPrepaymentTopUpFloorSeqNumber"] = uintLeaf(*u.SupplierPrepaymentTopUpFloorSeqNumber)
	}
	if u.KeyAgreementCertificate != nil {
		want[p+"SupplierReplacementCertificates/KeyAgreementCertificate"] = bytesLeaf(u.KeyAgreementCertificate)
	}
	if u.KeyAgreementTopUpCertificate != nil {
		want[p+"SupplierReplacementCertificates/KeyAgreementTopUpCertificate"] = bytesLeaf(u.KeyAgreementTopUpCertificate)
	}
	for i, cert := range u.CertificationPath {
		k := p + "CertificationPathCertificates/Certificate"
		if len(u.CertificationPath) > 1 {
			k = fmt.Sprintf("%s[%d]", k, i)
		}
		want[k] = bytesLeaf(cert)
	}
	c.body(want)
}

// response checks a response or DCC alert against our decoding of it.
func (c *docCheck) response(r *duis.Response) {
	c.tb.Helper()
	h := c.doc.Header
	if h.Type != "response" {
		c.tb.Errorf("%s: duis-parser reads a %q", c.name, h.Type)
	}
	c.id("RequestID", h.RequestID, r.Header.RequestID)
	c.id("ResponseID", h.ResponseID, r.Header.ResponseID)
	if h.ResponseCode != string(r.Header.ResponseCode) {
		c.tb.Errorf("%s: ResponseCode: duis-parser reads %q, we read %q", c.name, h.ResponseCode, r.Header.ResponseCode)
	}
	if err := timeLeaf(r.Header.ResponseDateTime).match(h.ResponseDateTime); err != nil {
		c.tb.Errorf("%s: ResponseDateTime: %v", c.name, err)
	}
	want := map[string]leaf{}
	switch {
	case r.ResponseMessage != nil:
		m := r.ResponseMessage
		want["ResponseMessage/ServiceReference"] = textLeaf(m.ServiceReference)
		want["ResponseMessage/ServiceReferenceVariant"] = textLeaf(m.ServiceReferenceVariant)
		if m.GBCSPayload != nil {
			want["ResponseMessage/GBCSPayload"] = bytesLeaf(m.GBCSPayload)
			if code, ok := futureDatedAlert(m.GBCSPayload); ok {
				c.tb.Errorf("%s: a device's future-dated alert (%04X) travels as a plain GBCSPayload; DUIS and duis-parser want FutureDatedDeviceAlertMessage", c.name, uint16(code))
			}
		}
		if a := m.FutureDatedDeviceAlert; a != nil {
			if code, ok := futureDatedAlert(a.GBCSPayload); !ok || code != gbcs.AlertCode(a.AlertCode) {
				c.tb.Errorf("%s: FutureDatedAlertCode %04X, but the GBCS payload's alert code is %04X (a 0x00CB alert: %v)", c.name, uint16(a.AlertCode), uint16(code), ok)
			}
			q := "ResponseMessage/FutureDatedDeviceAlertMessage/"
			want[q+"FutureDatedAlertCode"] = hexLeaf(a.AlertCode)
			want[q+"GBCSPayload"] = bytesLeaf(a.GBCSPayload)
			want[q+"InstructionNumber"] = uintLeaf(a.InstructionNumber)
			want[q+"TotalCommandInstructions"] = uintLeaf(a.TotalCommandInstructions)
		}
	case r.DCCAlertMessage != nil:
		want["DCCAlertMessage/DCCAlertCode"] = textLeaf(r.DCCAlertMessage.DCCAlertCode)
		dccAlert(c.tb, want, "DCCAlertMessage/DCCAlert/", r.DCCAlertMessage.Alert)
	}
	c.body(want)
}

// futureDatedAlert reports whether frame is a device's 0x00CB alert, and
// its alert code.
func futureDatedAlert(frame []byte) (gbcs.AlertCode, bool) {
	m, err := gbcs.ParseMessage(frame)
	if err != nil || m.CRA != gbcs.CRAAlert || m.Code != gbcs.CodeFutureDatedAlert {
		return 0, false
	}
	a, err := gbcs.ParseUpdateSecurityCredentialsAlert(m.Content)
	if err != nil {
		return 0, false
	}
	return a.AlertCode, true
}

// dccAlert adds the fields of each DCC alert ecos raises.
func dccAlert(tb testing.TB, want map[string]leaf, p string, a duis.DCCAlert) {
	tb.Helper()
	switch a := a.(type) {
	case *duis.QuarantinedRequest:
		q := p + "QuarantinedRequest/" + string(a.Breach) + "/"
		want[q+"RequestID"] = idLeaf(a.RequestID)
		want[q+"QuarantineEventRef"] = uintLeaf(a.QuarantineEventRef)
	case *duis.ChangeOfSupplier:
		q := p + "ChangeOfSupplier/"
		want[q+"ChangeOfSupplierServiceRequestID"] = idLeaf(a.ServiceRequestID)
		if a.ECoSErrorCode != "" {
			want[q+"ECoSErrorCode"] = textLeaf(a.ECoSErrorCode)
		}
	case *duis.ECoSAlert:
		q := p + "ECoSAlert/"
		want[q+"AlertID"] = idLeaf(a.AlertID)
		if a.RequestID != nil {
			want[q+"RequestID"] = idLeaf(*a.RequestID)
		}
		want[q+"ECoSAlertCode"] = textLeaf(a.ECoSAlertCode)
		want[q+"DeviceID"] = euiLeaf(a.DeviceID)
		if a.AdditionalInformation != "" {
			want[q+"AdditionalInformation"] = textLeaf(a.AdditionalInformation)
		}
	case *duis.CoSCertificateAlert:
		q := p + "CoSCertificateAlert/"
		want[q+"DeviceID"] = euiLeaf(a.DeviceID)
		if a.CertificateSerialNumber != nil {
			want[q+"CertificateSerialNumber"] = bigLeaf{a.CertificateSerialNumber}
		}
	default:
		tb.Fatalf("no check for the DCC alert %T", a)
	}
}
