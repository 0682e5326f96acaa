package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ecos-cos/ecos/thresholds"
)

// RefusedError is a file the server refused, with every problem it found.
type RefusedError struct {
	Status int // 409: a replay or a decision that no longer applies; 422: the file is wrong
	FileRefusal
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString(e.FileRefusal.Error)
	for _, p := range e.Problems {
		if p.Line == 0 {
			fmt.Fprintf(&b, "\n\tfile: %s", p.Message)
		} else {
			fmt.Fprintf(&b, "\n\tline %d: %s", p.Line, p.Message)
		}
	}
	return b.String()
}

// SubmitADT sends a User's signed ADT file; a refusal is a *RefusedError.
func (c *Client) SubmitADT(ctx context.Context, file []byte) (ADTAccepted, error) {
	var a ADTAccepted
	return a, c.postFile(ctx, "/api/v1/adt", file, &a)
}

// SubmitADTAsOperator sends an ADT file through the operator API (c's
// BaseURL is then the operator address); legacy carries over a file from
// before June 2023, which has no sequence number.
func (c *Client) SubmitADTAsOperator(ctx context.Context, file []byte, legacy bool) (ADTAccepted, error) {
	path := "/operator/v1/adt"
	if legacy {
		path += "?legacy=true"
	}
	var a ADTAccepted
	return a, c.postFile(ctx, path, file, &a)
}

// SubmitActions sends a User's signed Quarantined Communications Action
// File and returns the holds it decided; a refusal is a *RefusedError.
func (c *Client) SubmitActions(ctx context.Context, file []byte) ([]thresholds.ReportRow, error) {
	var l HoldList
	return l.Holds, c.postFile(ctx, "/api/v1/quarantine/actions", file, &l)
}

// ShowADT is a User's settings and counts, from the operator API.
func (c *Client) ShowADT(ctx context.Context, user string) (ADTView, error) {
	var v ADTView
	resp, body, err := c.do(ctx, http.MethodGet, "/operator/v1/adt/"+url.PathEscape(user), nil)
	if err != nil {
		return v, err
	}
	if resp.StatusCode != http.StatusOK {
		return v, statusError(resp, body)
	}
	return v, decodeJSON(body, &v)
}

// ShowDCC is the DCC-wide thresholds and counts, from the operator API.
func (c *Client) ShowDCC(ctx context.Context) (DCCView, error) {
	var v DCCView
	resp, body, err := c.do(ctx, http.MethodGet, "/operator/v1/dcc-thresholds", nil)
	if err != nil {
		return v, err
	}
	if resp.StatusCode != http.StatusOK {
		return v, statusError(resp, body)
	}
	return v, decodeJSON(body, &v)
}

// Quarantine is the quarantine report from the operator API: user and
// state may be "" for all; format is "json" or "csv". The body is returned
// as the server wrote it.
func (c *Client) Quarantine(ctx context.Context, user, state, format string) ([]byte, error) {
	q := url.Values{}
	for k, v := range map[string]string{"user": user, "state": state, "format": format} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/operator/v1/quarantine"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, body, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, body)
	}
	return body, nil
}

// DecideHold releases or deletes one held request through the operator
// API; operator names who decided, for the record.
func (c *Client) DecideHold(ctx context.Context, ref uint64, release bool, operator string) (thresholds.ReportRow, error) {
	action := "delete"
	if release {
		action = "release"
	}
	var l HoldList
	err := c.postFileAs(ctx, "/operator/v1/quarantine/"+strconv.FormatUint(ref, 10)+"/"+action, nil, operator, &l)
	if err != nil {
		return thresholds.ReportRow{}, err
	}
	if len(l.Holds) != 1 {
		return thresholds.ReportRow{}, fmt.Errorf("api: decision on %d: %d holds in the answer, want 1", ref, len(l.Holds))
	}
	return l.Holds[0], nil
}

func (c *Client) postFile(ctx context.Context, path string, file []byte, out any) error {
	return c.postFileAs(ctx, path, file, "", out)
}

func (c *Client) postFileAs(ctx context.Context, path string, file []byte, operator string, out any) error {
	if file == nil {
		file = []byte{}
	}
	resp, body, err := c.doWith(ctx, http.MethodPost, path, file, func(h http.Header) {
		h.Set("Content-Type", "text/csv")
		if operator != "" {
			h.Set(HeaderOperator, operator)
		}
	})
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return decodeJSON(body, out)
	case http.StatusConflict, http.StatusUnprocessableEntity:
		e := &RefusedError{Status: resp.StatusCode}
		if json.Unmarshal(body, &e.FileRefusal) == nil && e.FileRefusal.Error != "" {
			return e
		}
	}
	return statusError(resp, body)
}

func decodeJSON(body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("api: decoding the answer: %w", err)
	}
	return nil
}
