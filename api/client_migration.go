package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// MigrationError is a migration action the operator API refused, with its
// message.
type MigrationError struct {
	Status int
	Msg    string
}

func (e *MigrationError) Error() string { return e.Msg }

func (c *Client) migrationCall(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, b, err := c.doWith(ctx, method, path, body, func(h http.Header) {
		if body != nil {
			h.Set("Content-Type", "application/json")
		}
	})
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e errorBody
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return &MigrationError{Status: resp.StatusCode, Msg: e.Error}
		}
		return statusError(resp, b)
	}
	return decodeJSON(b, out)
}

// PlanWave asks what a wave with f would take.
func (c *Client) PlanWave(ctx context.Context, f store.WaveFilter) (PlanView, error) {
	var v PlanView
	return v, c.migrationCall(ctx, http.MethodPost, "/operator/v1/migration/plan", WaveRequest{Filter: f}, &v)
}

// StartWave creates and runs a wave.
func (c *Client) StartWave(ctx context.Context, w WaveRequest) (WaveView, error) {
	var v WaveView
	return v, c.migrationCall(ctx, http.MethodPost, "/operator/v1/migration/waves", w, &v)
}

// Wave is one wave's progress.
func (c *Client) Wave(ctx context.Context, id int64) (WaveView, error) {
	var v WaveView
	return v, c.migrationCall(ctx, http.MethodGet, "/operator/v1/migration/waves/"+strconv.FormatInt(id, 10), nil, &v)
}

// Waves is every wave's progress.
func (c *Client) Waves(ctx context.Context) ([]WaveView, error) {
	var v []WaveView
	return v, c.migrationCall(ctx, http.MethodGet, "/operator/v1/migration/waves", nil, &v)
}

// ActOnWave pauses, resumes or cancels a wave.
func (c *Client) ActOnWave(ctx context.Context, id int64, action, note string) (WaveView, error) {
	var v WaveView
	path := "/operator/v1/migration/waves/" + strconv.FormatInt(id, 10) + "/" + url.PathEscape(action)
	return v, c.migrationCall(ctx, http.MethodPost, path, map[string]string{"note": note}, &v)
}

// ActOnDevices retries, excludes or reads back devices.
func (c *Client) ActOnDevices(ctx context.Context, action, note string, ds []eui.EUI) ([]DeviceActionResult, error) {
	if len(ds) == 0 {
		return nil, errors.New("api: no devices")
	}
	var v []DeviceActionResult
	err := c.migrationCall(ctx, http.MethodPost, "/operator/v1/migration/devices/"+url.PathEscape(action), DeviceAction{Note: note, Devices: ds}, &v)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return v, nil
}
