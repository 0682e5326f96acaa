package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/xmldsig"
)

func sendCommand() *command {
	return &command{name: "send", summary: "act as a supplier: sign, submit and wait for the answer", subs: []*command{
		{name: "6.23", summary: "send an SR 6.23 Update Security Credentials (CoS) and wait for the device's answer", run: runSend623},
	}}
}

func runSend623(ctx context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos send 6.23", "[REQUEST.xml]")
	uf := addUserFlags(fs)
	demoDir := fs.String("demo", "", "a demo `DIR` from \"ecos serve --demo\": build and sign the request with its supplier keys")
	supplier := fs.Int("supplier", 2, "with --demo: the sending supplier (1-based)")
	deviceSpec := fs.String("device", "1", "with --demo: the meter `N|EUI`, by its number in the demo or its EUI-64")
	counter := fs.Uint64("counter", 0, "with --demo: the RequestID counter (default: milliseconds since 1970, as DCC Boxed does)")
	executeAt := fs.String("execute-at", "", "with --demo: future-dated execution, `RFC3339`")
	keyPath := fs.String("key", "", "sign REQUEST.xml with this XML-signing key `KEY.pem` (with --cert)")
	certPath := fs.String("cert", "", "the XML-signing certificate `CERT.pem` for --key")
	dspCert := fs.String("dsp-cert", "", "the ECoS Party's response-signing certificate `PEM`: every answer is verified with it")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for the device's answer")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(std.out, format+"\n", a...) }
	if *demoDir != "" {
		if len(pos) != 0 {
			return usagef("--demo builds the request: no REQUEST argument")
		}
		w, err := demoworld.Load(*demoDir)
		if err != nil {
			return malformed(notDemo(*demoDir, err))
		}
		p := w.PKI
		if *supplier < 1 || *supplier > len(p.Suppliers) {
			return usagef("--supplier %d: the demo has suppliers 1..%d", *supplier, len(p.Suppliers))
		}
		d, err := parseDevice(*deviceSpec)
		if err != nil {
			return usagef("--device: %v", err)
		}
		r := demoworld.Request{Supplier: *supplier, Device: d, Counter: *counter}
		if r.Counter == 0 {
			r.Counter = uint64(time.Now().UnixMilli())
		}
		if *executeAt != "" {
			t, err := time.Parse(time.RFC3339, *executeAt)
			if err != nil {
				return usagef("--execute-at: %v", err)
			}
			t = t.UTC()
			r.ExecuteAt = &t
		}
		doc, err := w.Sign(r)
		if err != nil {
			return err
		}
		c, err := uf.client(*demoDir, p.Suppliers[r.Supplier-1].EUI)
		if err != nil {
			return err
		}
		id := duis.RequestID{Originator: p.Suppliers[r.Supplier-1].EUI, Target: d, Counter: r.Counter}
		return submitAndWait(ctx, say, c, doc, id.String(), p.DSPXMLSign.Cert, *wait)
	}
	if len(pos) != 1 {
		return usagef("give REQUEST.xml (from `ecos duis new-6.23`), or --demo DIR")
	}
	if *dspCert == "" {
		return usagef("--dsp-cert is required: answers are only believed once their signature is checked")
	}
	doc, err := readInput(std, pos[0])
	if err != nil {
		return err
	}
	if (*keyPath == "") != (*certPath == "") {
		return usagef("--key and --cert go together")
	}
	if *keyPath != "" {
		key, err := hsm.LoadFile(*keyPath)
		if err != nil {
			return malformed(fmt.Errorf("--key: %w", err))
		}
		cert, err := loadCert(*certPath)
		if err != nil {
			return malformed(fmt.Errorf("--cert: %w", err))
		}
		if doc, err = xmldsig.Sign(doc, key, cert, nil); err != nil {
			return malformed(err)
		}
	}
	req, err := duis.DecodeRequest(doc)
	if err != nil {
		return malformed(err)
	}
	dsp, err := loadCert(*dspCert)
	if err != nil {
		return malformed(fmt.Errorf("--dsp-cert: %w", err))
	}
	c, err := uf.client("", req.Header.RequestID.Originator)
	if err != nil {
		return err
	}
	return submitAndWait(ctx, say, c, doc, req.Header.RequestID.String(), dsp.Raw, *wait)
}

func parseDevice(s string) (eui.EUI, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return eui.EUI{}, fmt.Errorf("meter %d: numbers start at 1", n)
		}
		return demoworld.Device(n), nil
	}
	return eui.Parse(s)
}

// submitAndWait posts doc, then waits for the final answer; every
// document is verified with the DSP certificate before it is believed.
// It fails (exit 1) when the request is refused or the device did not
// change.
func submitAndWait(ctx context.Context, say func(string, ...any), c *api.Client, doc []byte, id string, dspDER []byte, wait time.Duration) error {
	dsp, err := smki.Parse(dspDER)
	if err != nil {
		return err
	}
	pool := smki.NewPool(dsp)
	ackDoc, accepted, err := submitWhenUp(ctx, c, doc)
	if err != nil {
		return connHint(err, c.BaseURL)
	}
	ack, err := checkAnswer(ackDoc, pool)
	if err != nil {
		return invalid(fmt.Errorf("acknowledgement: %w", err))
	}
	say("→ %s submitted; acknowledgement %s (signature verified)", id, ack.Header.ResponseCode)
	if !accepted {
		return invalid(refusal(ctx, c, id, string(ack.Header.ResponseCode)))
	}
	if err := reportHeld(ctx, say, c, id, pool); err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return invalid(fmt.Errorf("no final answer within %s; ask again with `curl%s %s/api/v1/responses/%s?wait=30s`", wait, curlTLS(c.BaseURL), c.BaseURL, id))
		}
		body, final, err := c.Response(ctx, id, min(left, 30*time.Second))
		if err != nil {
			return err
		}
		if !final {
			continue
		}
		r, err := checkAnswer(body, pool)
		if err != nil {
			return invalid(fmt.Errorf("response: %w", err))
		}
		say("← response %s (signature verified)", r.Header.ResponseCode)
		if r.Header.ResponseCode != duis.ResponseSuccess || r.ResponseMessage == nil || r.ResponseMessage.GBCSPayload == nil {
			st, _ := c.Status(ctx, id)
			return invalid(fmt.Errorf("the request ended %s: %s (%s)%s", st.State, st.Reason, r.Header.ResponseCode, reasonMessage(st.Reason)))
		}
		return reportPayload(say, r.ResponseMessage.GBCSPayload)
	}
}

func checkAnswer(doc []byte, pool *smki.Pool) (*duis.Response, error) {
	v, err := xmldsig.Verify(doc, pool)
	if err != nil {
		return nil, err
	}
	return duis.DecodeResponse(v.Digested)
}

// reportPayload describes the device's GBCS response inside a DUIS
// response: who answered, and what happened in each cell.
func reportPayload(say func(string, ...any), frame []byte) error {
	m, err := gbcs.ParseMessage(frame)
	if err != nil {
		return invalid(fmt.Errorf("GBCS payload: %w", err))
	}
	res, err := gbcs.ParseUpdateSecurityCredentialsResponse(m.Content)
	if err != nil {
		return invalid(fmt.Errorf("GBCS payload: %w", err))
	}
	say("  the meter %s answered counter %d", m.Originator, m.Counter)
	if res.Outcome == nil {
		say("  accepted and held for its execution time; the alert follows as another response")
		return nil
	}
	failed := 0
	for _, o := range res.Outcome.Outcomes {
		say("  %-44s %s → %s", fmt.Sprintf("{%s, %s, %s}: %s", o.Cell.Role, o.Cell.KeyUsage, o.Cell.Usage, o.Status), o.ExistingSubjectUniqueID, o.ReplacingSubjectUniqueID)
		if o.Status != gbcs.StatusSuccess {
			failed++
		}
	}
	if failed > 0 {
		return invalid(errors.New("the meter did not replace every credential"))
	}
	say("  the meter now trusts the new supplier")
	return nil
}

// submitWhenUp submits doc, retrying for a few seconds while nothing
// listens yet (a server still starting): a refused connection delivered
// nothing, so trying again cannot send the request twice.
func submitWhenUp(ctx context.Context, c *api.Client, doc []byte) ([]byte, bool, error) {
	type ack struct {
		doc      []byte
		accepted bool
	}
	a, err := whenUp(ctx, func() (ack, error) {
		d, ok, err := c.Submit(ctx, doc)
		return ack{d, ok}, err
	})
	return a.doc, a.accepted, err
}

// reportHeld says so, with the signed alert's QuarantineEventRef, when
// anomaly detection holds the request: no device answer will come until
// it is released.
func reportHeld(ctx context.Context, say func(string, ...any), c *api.Client, id string, pool *smki.Pool) error {
	st, err := c.Status(ctx, id)
	if err != nil || st.State != "quarantined" {
		return err
	}
	for i, d := range st.Responses {
		if d.Kind != "alert" {
			continue
		}
		doc, err := c.Document(ctx, id, i+1)
		if err != nil {
			return err
		}
		a, err := checkAnswer(doc, pool)
		if err != nil {
			return invalid(fmt.Errorf("alert: %w", err))
		}
		if a.DCCAlertMessage == nil {
			continue
		}
		if q, ok := a.DCCAlertMessage.Alert.(*duis.QuarantinedRequest); ok {
			say("! held by anomaly detection: DCC alert %s %s, QuarantineEventRef %d (signature verified)",
				a.DCCAlertMessage.DCCAlertCode, q.Breach, q.QuarantineEventRef)
			return invalid(fmt.Errorf("not sent: held until its User's action file or `ecos quarantine release %d` releases it", q.QuarantineEventRef))
		}
	}
	return invalid(errors.New("not sent: held by anomaly detection"))
}

// refusal says why a request was refused. The request's status names the
// reason only when it is this refusal's: a replayed RequestID's status is
// the first request's (refused for another reason, or accepted), so
// otherwise the code is read by the default table.
func refusal(ctx context.Context, c *api.Client, id, code string) error {
	if st, err := c.Status(ctx, id); err == nil && st.Reason != "" && st.ResponseCode == code {
		return fmt.Errorf("refused: %s (%s)%s", st.Reason, code, reasonMessage(st.Reason))
	}
	var names []string
	for _, e := range ecoserr.Table() {
		if e.Code == code {
			names = append(names, e.Name)
		}
	}
	switch len(names) {
	case 0:
		return fmt.Errorf("refused with %s", code)
	case 1:
		return fmt.Errorf("refused: %s (%s, by the default codes of docs/response-codes.md)%s", names[0], code, reasonMessage(names[0]))
	}
	return fmt.Errorf("refused with %s: one of %s, by the default codes of docs/response-codes.md", code, strings.Join(names, ", "))
}

// curlTLS is the TLS part of a curl command line that reaches url as a
// User: mutual TLS wants the User's certificate.
func curlTLS(url string) string {
	if strings.HasPrefix(url, "https://") {
		return " --cert TLS.pem --key TLS.key --cacert CA.pem"
	}
	return ""
}

// reasonMessage is ": " and a reason's public message, which says, for
// one, whether the command reached the device.
func reasonMessage(name string) string {
	if r, ok := ecoserr.ByName(name); ok {
		return ": " + r.Message()
	}
	return ""
}
