package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Client talks to the API, for `ecos send` and tests. Its errors name the
// HTTP status and a clipped body; a 404 wraps ErrNotFound.
type Client struct {
	BaseURL string // e.g. "https://ecos.example.net"
	// HTTP sends the requests; nil: http.DefaultClient. Deadlines come
	// from ctx. A User presents its TLS client certificate through it:
	// see TLSClient.
	HTTP *http.Client
	// Token is sent as "Authorization: Bearer Token": the operator API
	// requires it (operator.token_file). "": none.
	Token string
}

// TLSClient is an http.Client for the Users' listener: it presents cert
// (the User's registered TLS client certificate) and trusts only roots
// for the server's certificate (nil: the system's roots).
func TLSClient(cert tls.Certificate, roots *x509.CertPool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}
}

// LoadTLSClient is TLSClient from PEM files: the User's TLS client
// certificate and key, and the CA certificates the server's certificate
// must chain to ("": the system's roots).
func LoadTLSClient(certFile, keyFile, caFile string) (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS client certificate: %w", err)
	}
	var roots *x509.CertPool
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("server CA: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("server CA: %s holds no PEM certificate", caFile)
		}
	}
	return TLSClient(cert, roots), nil
}

// ErrUnauthorized is what Client wraps for a 401: the operator token
// was missing or wrong.
var ErrUnauthorized = errors.New("api: the operator token was missing or wrong")

// maxClientBody bounds what is read back for one document.
const maxClientBody = 16 << 20

// Submit sends a signed DUIS request. A refusal is not an error: it
// returns the signed refusal with accepted false.
func (c *Client) Submit(ctx context.Context, doc []byte) (ack []byte, accepted bool, err error) {
	resp, body, err := c.do(ctx, http.MethodPost, "/api/v1/serviceS", doc)
	if err != nil {
		return nil, false, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return body, true, nil
	case resp.StatusCode == http.StatusBadRequest && isXML(resp):
		return body, false, nil
	}
	return nil, false, statusError(resp, body)
}

// Response returns the answer to a request once it is final, waiting up
// to wait (which the server caps) for that. final is false when the wait
// ran out first.
func (c *Client) Response(ctx context.Context, requestID string, wait time.Duration) (doc []byte, final bool, err error) {
	path := "/api/v1/responses/" + url.PathEscape(requestID)
	if wait > 0 {
		path += "?wait=" + url.QueryEscape(wait.String())
	}
	resp, body, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, true, nil
	case http.StatusAccepted:
		return nil, false, nil
	}
	return nil, false, statusError(resp, body)
}

// Status returns where a request stands. The Documents carry no Body;
// their XML is at /api/v1/requests/{requestID}/responses/{n}.
func (c *Client) Status(ctx context.Context, requestID string) (Status, error) {
	resp, body, err := c.do(ctx, http.MethodGet, "/api/v1/requests/"+url.PathEscape(requestID), nil)
	if err != nil {
		return Status{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return Status{}, statusError(resp, body)
	}
	var sb statusBody
	if err := json.Unmarshal(body, &sb); err != nil {
		return Status{}, fmt.Errorf("api: decoding the status of %s: %w", requestID, err)
	}
	st := Status{
		RequestID: sb.RequestID, State: sb.State, Reason: sb.Reason, ResponseCode: sb.ResponseCode,
		Final: sb.Final, ReceivedAt: sb.ReceivedAt, UpdatedAt: sb.UpdatedAt,
		Responses: make([]Document, len(sb.Responses)),
	}
	for i, d := range sb.Responses {
		st.Responses[i] = Document{
			ID: d.ID, RequestID: sb.RequestID, Kind: d.Kind, Code: d.Code,
			CreatedAt: d.CreatedAt, PushedAt: d.PushedAt,
		}
	}
	return st, nil
}

// Document returns the n-th (from 1) signed document sent about a
// request, as Status lists them.
func (c *Client) Document(ctx context.Context, requestID string, n int) ([]byte, error) {
	resp, body, err := c.do(ctx, http.MethodGet, documentPath(requestID, n), nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, body)
	}
	return body, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, []byte, error) {
	return c.doWith(ctx, method, path, body, func(h http.Header) {
		if body != nil {
			h.Set("Content-Type", "application/xml")
		}
	})
}

// doWith is do with the request's headers set by header.
func (c *Client) doWith(ctx context.Context, method, path string, body []byte, header func(http.Header)) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("api: %w", err)
	}
	header(req.Header)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("api: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxClientBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("api: %s %s: reading the answer: %w", method, path, err)
	}
	if len(b) > maxClientBody {
		return nil, nil, fmt.Errorf("api: %s %s: answer larger than %d bytes", method, path, maxClientBody)
	}
	return resp, b, nil
}

func isXML(resp *http.Response) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && (mt == "application/xml" || mt == "text/xml")
}

func statusError(resp *http.Response, body []byte) error {
	err := fmt.Errorf("api: %s %s: server answered %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, clip(string(body), 200))
	// Only our JSON 404 means "no such request"; a plain one is a wrong
	// BaseURL or path.
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusNotFound && mt == "application/json" {
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("%w (%w)", ErrUnauthorized, err)
	}
	return err
}

// clip shortens s for an error message without splitting a UTF-8 rune.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
