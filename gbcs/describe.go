package gbcs

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ecos-cos/ecos/eui"
)

// Description is a decoded, JSON-marshalable view of a frame, for the CLI
// (`ecos gbcs decode`) and for logs. It describes; it does not vouch: no
// signature or MAC is checked here.
type Description struct {
	Frame          string    `json:"frame"` // "general-ciphering" or "general-signing"
	MessageCode    string    `json:"messageCode"`
	MessageName    string    `json:"messageName"`
	CRA            string    `json:"cra"`
	Originator     eui.EUI   `json:"originator"`
	Recipient      eui.EUI   `json:"recipient"`
	Counter        uint64    `json:"counter"`
	DateTime       *DateTime `json:"dateTime"`
	OtherInfoExtra string    `json:"otherInfoExtra,omitempty"`
	SignatureField string    `json:"signatureField"`
	Signature      *string   `json:"signature"`
	MAC            *string   `json:"mac"`
	PayloadType    string    `json:"payloadType,omitempty"`
	Payload        any       `json:"payload"`
	PayloadError   string    `json:"payloadError,omitempty"`
	PayloadHex     string    `json:"payloadHex"`
	// Outcomes lists per-cell results (CS02b responses and alerts) or
	// per-role results (CS02a responses).
	Outcomes []OutcomeView `json:"outcomes,omitempty"`
}

// Describe parses a frame (wrapped or bare) and describes it. Only a
// malformed frame is an error; a payload that does not decode is reported in
// PayloadError with its raw hex, and an unknown message code just has no
// decoded payload.
func Describe(frame []byte) (*Description, error) {
	f, err := ParseFrame(frame)
	if err != nil {
		return nil, err
	}
	return DescribeFrame(f), nil
}

// DescribeFrame describes an already parsed frame.
func DescribeFrame(f *Frame) *Description {
	m := &f.Message
	d := &Description{
		Frame:          "general-signing",
		MessageCode:    m.Code.String(),
		MessageName:    m.Code.Name(),
		CRA:            m.CRA.String(),
		Originator:     m.Originator,
		Recipient:      m.Recipient,
		Counter:        m.Counter,
		DateTime:       m.DateTime,
		OtherInfoExtra: hex.EncodeToString(m.OtherInfoExtra),
		SignatureField: m.Sig.String(),
		PayloadHex:     hex.EncodeToString(m.Content),
	}
	if d.MessageName == "" {
		d.MessageName = "unknown"
	}
	if m.Sig == SigPresent {
		s := hex.EncodeToString(m.Signature[:])
		d.Signature = &s
	}
	if f.Ciphering != nil {
		d.Frame = "general-ciphering"
		s := hex.EncodeToString(f.Ciphering.MAC[:])
		d.MAC = &s
	}
	p, err := DecodePayload(m)
	if err != nil {
		d.PayloadError = err.Error()
		return d
	}
	if p != nil {
		d.Payload, d.PayloadType, d.Outcomes = viewPayload(p)
	}
	return d
}

// maxTextValue is where WriteText shortens long values (certificates); the
// JSON form always has them in full.
const maxTextValue = 130

// WriteText writes d as an indented "key: value" tree, in the same order and
// with the same keys as its JSON form. Long hex values are shortened.
func WriteText(w io.Writer, d *Description) error {
	j, err := json.Marshal(d)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(j)))
	dec.UseNumber()
	bw := bufio.NewWriter(w)
	tok, err := dec.Token() // the opening '{'
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("gbcs: description is not a JSON object")
	}
	if err := writeMembers(bw, dec, 0); err != nil {
		return err
	}
	return bw.Flush()
}

// writeMembers writes the members of the object being decoded, then
// consumes its closing '}'.
func writeMembers(w *bufio.Writer, dec *json.Decoder, depth int) error {
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		if err := writeNode(w, dec, depth, fmt.Sprint(k)); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

func writeNode(w *bufio.Writer, dec *json.Decoder, depth int, key string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	indent := strings.Repeat("  ", depth)
	switch v := tok.(type) {
	case json.Delim:
		if !dec.More() {
			if _, err := dec.Token(); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "%s%s: (none)\n", indent, key)
			return err
		}
		fmt.Fprintf(w, "%s%s:\n", indent, key)
		if v == '{' {
			return writeMembers(w, dec, depth+1)
		}
		for i := 0; dec.More(); i++ {
			if err := writeNode(w, dec, depth+1, fmt.Sprintf("[%d]", i)); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	case nil:
		_, err := fmt.Fprintf(w, "%s%s: null\n", indent, key)
		return err
	default:
		s := fmt.Sprint(v)
		if len(s) > maxTextValue {
			s = fmt.Sprintf("%s… (%d characters)", s[:64], len(s))
		}
		_, err := fmt.Fprintf(w, "%s%s: %s\n", indent, key, s)
		return err
	}
}
