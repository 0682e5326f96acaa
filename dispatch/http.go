package dispatch

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxReply bounds what is read back from the network for one command.
const maxReply = 64 << 10

// HTTP is a Gateway to a device service speaking the devicesim protocol.
type HTTP struct {
	base   string
	client *http.Client
}

var _ Gateway = (*HTTP)(nil)

// NewHTTP sends to the service at base (e.g. "http://127.0.0.1:8090").
// client may be nil for http.DefaultClient; deadlines come from ctx.
func NewHTTP(base string, client *http.Client) *HTTP {
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTP{base: strings.TrimRight(base, "/"), client: client}
}

// Send posts the frame. A transport failure is ErrUnreachable; a 204 is a
// device that sent nothing.
func (g *HTTP) Send(ctx context.Context, frame []byte) (*Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.base+"/v1/frames", bytes.NewReader(frame))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading reply: %v", ErrUnreachable, err)
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return &Reply{NoResponseReason: resp.Header.Get("Device-Outcome")}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: device service answered %s: %s", ErrUnreachable, resp.Status, strings.TrimSpace(string(body)))
	case len(body) > maxReply:
		return nil, fmt.Errorf("dispatch: reply larger than %d bytes", maxReply)
	case len(body) == 0:
		return nil, fmt.Errorf("dispatch: empty reply with status 200")
	}
	return &Reply{Response: body}, nil
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
