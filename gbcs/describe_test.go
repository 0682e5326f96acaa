package gbcs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDescribeVectors(t *testing.T) {
	for _, v := range rtdsVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			d, err := Describe(v.bytes)
			if err != nil {
				t.Fatal(err)
			}
			j, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(j, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"messageCode", "messageName", "cra", "originator", "recipient", "counter", "dateTime", "signature", "mac", "payload", "payloadHex"} {
				if _, ok := m[k]; !ok {
					t.Errorf("missing key %q", k)
				}
			}
			if d.Payload == nil || d.PayloadError != "" {
				t.Errorf("payload not decoded: %s", d.PayloadError)
			}
			if d.CRA != "command" && len(d.Outcomes) == 0 && !strings.Contains(v.name, "FUTURE_DATED_SUCCESS_RESPONSE") && !strings.Contains(v.name, "CANCELLATION_SUCCESS_RESPONSE") {
				t.Errorf("no outcomes for a %s", d.CRA)
			}
			var text bytes.Buffer
			if err := WriteText(&text, d); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "messageCode: "+d.MessageCode) {
				t.Errorf("text tree lacks the message code:\n%s", text.String())
			}
		})
	}
}

func TestDescribeImmediateResponse(t *testing.T) {
	d, err := Describe(rtdsFrame(t, "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_RESPONSE_GBCS"))
	if err != nil {
		t.Fatal(err)
	}
	if d.MessageCode != "0x0102" || d.CRA != "response" || d.Counter != 1003 ||
		d.Originator.String() != "00-DB-12-34-56-78-90-A0" || d.Recipient.String() != "90-B3-D5-1F-30-01-00-00" ||
		d.DateTime.String() != "2015-01-01T00:00:00Z" || d.MAC != nil || d.Signature == nil {
		t.Errorf("header: %+v", d)
	}
	// The partial failure: DS and KA top-up succeed, KA reports noTrustAnchor
	// with existing == replacing.
	var got []string
	for _, o := range d.Outcomes {
		got = append(got, o.KeyUsage+"/"+o.CellUsage+"="+o.Status)
	}
	want := "digitalSignature/management=success keyAgreement/management=noTrustAnchor keyAgreement/prepaymentTopUp=success"
	if strings.Join(got, " ") != want {
		t.Errorf("outcomes %v, want %s", got, want)
	}
	if o := d.Outcomes[1]; o.StatusCode != 10 || *o.ExistingSubjectKeyID != *o.ReplacingSubjectKeyID {
		t.Errorf("KA outcome %+v", o)
	}
	var text bytes.Buffer
	if err := WriteText(&text, d); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"messageCode: 0x0102", "cra: response", "    status: noTrustAnchor", "dateTime: 2015-01-01T00:00:00Z"} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("text lacks %q:\n%s", line, text.String())
		}
	}
}

func TestDescribeSeeds(t *testing.T) {
	seeds := committedSeeds(t)
	d, err := Describe(seeds["unknown_code"])
	if err != nil {
		t.Fatal(err)
	}
	if d.MessageCode != "0x0062" || d.MessageName != "unknown" || d.Payload != nil || d.PayloadHex != "d90100" || d.PayloadError != "" {
		t.Errorf("unknown code: %+v", d)
	}
	j, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte(`"payload":null`)) || !bytes.Contains(j, []byte(`"mac":null`)) || !bytes.Contains(j, []byte(`"dateTime":null`)) {
		t.Errorf("JSON: %s", j)
	}

	d, err = Describe(seeds["command_mode7_cancellation"])
	if err != nil {
		t.Fatal(err)
	}
	if v := d.Payload.(*commandView); v.Execution != "cancellation" || *v.ExecutionDateTime != "9999-12-31T23:59:59Z" {
		t.Errorf("cancellation: %+v", v)
	}
	d, err = Describe(seeds["cs02a_response"])
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Outcomes) != 2 || d.Outcomes[1].Status != "trustAnchorNotFound" || d.Outcomes[1].StatusCode != 25 {
		t.Errorf("cs02a outcomes: %+v", d.Outcomes)
	}

	// A frame whose payload does not decode is still described.
	m := NewCommand(seedCoS, seedDevice, 1, CodeSupplierByTransCoS, []byte{0x30, 0x01})
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d, err = Describe(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.PayloadError == "" || d.Payload != nil || d.PayloadHex != "3001" {
		t.Errorf("bad payload: %+v", d)
	}
}
