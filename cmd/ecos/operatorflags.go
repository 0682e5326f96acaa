package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
)

// operatorFlags are how a command reaches the operator API: its URL, or
// the configuration of the service whose operator_listen it is (so that
// beside a running demo, on the default port, an operator does not read
// the demo's holds by mistake).
type operatorFlags struct {
	url, config, tokenFile *string
}

func addOperatorFlags(fs *flag.FlagSet) operatorFlags {
	return operatorFlags{
		url:       fs.String("operator", "", "the operator API's base `URL` (default "+defaultOperatorURL+")"),
		config:    fs.String("config", "", "reach the operator API of the service the configuration `FILE` describes (its operator_listen and operator.token_file)"),
		tokenFile: fs.String("operator-token-file", "", "the operator token, in `FILE` (default: the configuration's operator.token_file; with neither --operator nor --config, ./ecos-demo's)"),
	}
}

// client is the operator API client the flags name, with the operator
// token from --operator-token-file or the configuration's
// operator.token_file.
func (f operatorFlags) client() (*api.Client, error) {
	c, cfg, err := f.base()
	if err != nil {
		return nil, err
	}
	if *f.tokenFile != "" {
		tok, err := (&config.Config{Operator: config.Operator{TokenFile: *f.tokenFile}}).OperatorToken()
		if err != nil {
			return nil, usagef("--operator-token-file: %v", strings.TrimPrefix(err.Error(), "operator.token_file: "))
		}
		c.Token = string(tok)
	} else if cfg != nil {
		tok, err := cfg.OperatorToken()
		if err != nil {
			return nil, malformed(fmt.Errorf("%s: %w", *f.config, err))
		}
		c.Token = string(tok)
	} else if *f.url == "" {
		// The default address is the demo's (serve --demo's defaults),
		// and so is the default token: beside ./ecos-demo, its own.
		if tok, err := demoworld.OperatorToken(defaultDemoDir); err == nil {
			c.Token = tok
		}
	}
	return c, nil
}

// defaultDemoDir is where `ecos serve --demo` keeps its demo by default.
const defaultDemoDir = "ecos-demo"

// base is the client without its token, and the configuration if one
// was named.
func (f operatorFlags) base() (*api.Client, *config.Config, error) {
	switch {
	case *f.url != "" && *f.config != "":
		return nil, nil, usagef("--operator and --config exclude each other")
	case *f.url != "":
		return &api.Client{BaseURL: *f.url}, nil, nil
	case *f.config == "":
		return &api.Client{BaseURL: defaultOperatorURL}, nil, nil
	}
	cfg, err := config.Load(*f.config)
	if err != nil {
		return nil, nil, malformed(err)
	}
	if cfg.OperatorListen == "" {
		return nil, nil, usagef("%s: operator_listen is off, so its service has no operator API", *f.config)
	}
	addr, err := dialAddr(cfg.OperatorListen)
	if err != nil {
		return nil, nil, malformed(fmt.Errorf("%s: operator_listen: %w", *f.config, err))
	}
	return &api.Client{BaseURL: "http://" + addr}, cfg, nil
}

// dialAddr is where a client on this host reaches a listener configured
// as listen: a listener on every address (no host, 0.0.0.0, ::) is
// reached on the loopback.
func dialAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// operatorHint says what to check when nothing answers at the operator
// API's address.
func operatorHint(err error, c *api.Client) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w\nno ecos serve answers at %s: start it, or name its operator API with --operator URL or --config FILE", err, c.BaseURL)
	}
	if errors.Is(err, api.ErrUnauthorized) && c.Token == "" {
		return fmt.Errorf("%w\nthe operator API requires the operator token: give --config FILE (its operator.token_file) or --operator-token-file FILE", err)
	}
	return err
}

// whenUp calls f, again for a few seconds while nothing listens yet (a
// service still starting): a refused connection delivered nothing, so
// trying again cannot act twice.
func whenUp[T any](ctx context.Context, f func() (T, error)) (T, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := f()
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
