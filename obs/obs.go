// Package obs sets up what the service reports about itself: the
// operational log (log/slog), the audit stream (a second slog.Logger with
// its own, append-only sink, never sampled or filtered below Info) and the
// Prometheus registry that packages register their metrics on. Everything
// here is built once by cmd/ecos and injected; there is no global logger
// or registry (style.md C9, C14).
//
// Trust level: wiring; writes only to the writers and the file it is given.
package obs

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// levels are the names config accepts for log.level; slog's own parser
// would also take "INFO+2", which no operator means.
var levels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// NewLogger returns a logger writing to w in format "json" or "text",
// dropping records below level ("debug", "info", "warn" or "error").
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	l, ok := levels[level]
	if !ok {
		return nil, fmt.Errorf("obs: log level %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("obs: log format %q is not one of json, text", format)
}

// Discard is a logger that drops everything, for tests and for callers
// that were given no logger.
func Discard() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

// NewRegistry returns a Prometheus registry with the Go runtime and
// process collectors registered. Packages add their own metrics through
// the prometheus.Registerer they are given.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}
