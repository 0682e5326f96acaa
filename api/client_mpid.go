package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/ecos-cos/ecos/mpidreport"
)

// ReportError is a report the operator API refused (a bad month, an
// unknown party), with its message.
type ReportError struct {
	Status int
	Msg    string
}

func (e *ReportError) Error() string { return e.Msg }

// MPIDReport fetches month's (YYYY-MM) MPID report, or party's extract
// when party is not empty.
func (c *Client) MPIDReport(ctx context.Context, month, party string) (*mpidreport.Report, error) {
	q := url.Values{"month": {month}}
	if party != "" {
		q.Set("party", party)
	}
	resp, b, err := c.doWith(ctx, http.MethodGet, PathMPIDReport+"?"+q.Encode(), nil, func(http.Header) {})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, &ReportError{Status: resp.StatusCode, Msg: e.Error}
		}
		return nil, statusError(resp, b)
	}
	return mpidreport.Decode(b)
}
