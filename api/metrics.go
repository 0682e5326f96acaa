package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecos_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ecos_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route pattern.",
			// Long polls run up to MaxWait, so the buckets reach a minute.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
	}
	if err := register(reg, m.requests, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register returns an error rather than panicking as MustRegister would:
// a second handler on one registry is a wiring mistake New can report.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("api: registering metrics: %w", err)
		}
	}
	return nil
}

// instrument counts, times and logs every request, including the 404s and
// 405s the mux answers itself.
func (s *server) instrument(mux *http.ServeMux) http.Handler { return s.instrumentAs(mux, mux) }

// instrumentAs is instrument of h, which serves mux's routes (behind a
// check of its own).
func (s *server) instrumentAs(mux *http.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		// Labels use the pattern, never the path: paths carry RequestIDs,
		// and a label per RequestID would grow without bound.
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		d := s.now().Sub(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
		s.log.Debug("http request", "method", r.Method, "route", route, "status", status, "duration", d)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection underneath.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type pushMetrics struct {
	delivered, failed, abandoned prometheus.Counter
}

func newPushMetrics(reg prometheus.Registerer) (*pushMetrics, error) {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ecos_push_total",
		Help: "Push attempts by outcome: delivered, failed (one per failed attempt), abandoned (one per document given up on).",
	}, []string{"outcome"})
	if err := register(reg, total); err != nil {
		return nil, err
	}
	// Created up front so that all three series exist from zero.
	return &pushMetrics{
		delivered: total.WithLabelValues("delivered"),
		failed:    total.WithLabelValues("failed"),
		abandoned: total.WithLabelValues("abandoned"),
	}, nil
}
