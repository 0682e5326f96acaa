package dispatch

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
)

// maxReply bounds what is read back from the network for one command.
const maxReply = 64 << 10

// HTTP is a device gateway to a service speaking the devicesim protocol.
type HTTP struct {
	base   string
	client *http.Client
}

// NewHTTP sends to the service at base (e.g. "http://127.0.0.1:8090").
// client may be nil for http.DefaultClient; deadlines come from ctx.
func NewHTTP(base string, client *http.Client) *HTTP {
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTP{base: strings.TrimRight(base, "/"), client: client}
}

// Send posts the frame. What fails before the frame is written, and a
// 4xx or 503 (the device service did not pass it on), is ErrUnreachable;
// what fails after, ErrUnreadable; a 204 is a device that sent nothing.
func (g *HTTP) Send(ctx context.Context, frame []byte) (*Reply, error) {
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { written.Store(i.Err == nil) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, g.base+"/v1/frames", bytes.NewReader(frame))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := g.client.Do(req)
	switch {
	case err != nil && !written.Load():
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err() // handed on, not answered in time
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	switch {
	case notPassedOn(resp.StatusCode):
		return nil, fmt.Errorf("%w: device service answered %s: %s", ErrUnreachable, resp.Status, clip(body))
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("%w: reading the reply: %w", ErrUnreadable, err)
	case resp.StatusCode == http.StatusNoContent:
		return &Reply{NoResponseReason: resp.Header.Get("Device-Outcome")}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: device service answered %s: %s", ErrUnreadable, resp.Status, clip(body))
	case len(body) > maxReply:
		return nil, fmt.Errorf("%w: reply larger than %d bytes", ErrUnreadable, maxReply)
	case len(body) == 0:
		return nil, fmt.Errorf("%w: empty reply with status 200", ErrUnreadable)
	}
	return &Reply{Response: body}, nil
}

// notPassedOn: statuses by which the device service says the frame went
// no further (it refused it, or has no device network to hand it to).
func notPassedOn(status int) bool {
	return status >= 400 && status < 500 || status == http.StatusServiceUnavailable
}

// clip keeps an error body short and on one line.
func clip(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Alerts drains the service's alert queue.
func (g *HTTP) Alerts(ctx context.Context) ([][]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/v1/alerts", nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: alerts: %s", ErrUnreachable, resp.Status)
	}
	var body struct {
		Alerts []string `json:"alerts"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("dispatch: decoding alerts: %w", err)
	}
	out := make([][]byte, 0, len(body.Alerts))
	for i, a := range body.Alerts {
		b, err := hex.DecodeString(a)
		if err != nil {
			return nil, fmt.Errorf("dispatch: alert %d: %w", i, err)
		}
		out = append(out, b)
	}
	return out, nil
}
