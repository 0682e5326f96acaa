package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/store"
)

type metrics struct {
	submitted *prometheus.CounterVec   // by outcome: "accepted" or a reason name
	final     *prometheus.CounterVec   // by final state
	stages    *prometheus.HistogramVec // by pipeline stage
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecos_requests_total", Help: "SR 6.23 requests submitted, by outcome (accepted, or the refusal reason).",
		}, []string{"outcome"}),
		final: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecos_requests_finished_total", Help: "SR 6.23 requests that reached a final state, by state.",
		}, []string{"state"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ecos_pipeline_stage_seconds", Help: "Time spent in each pipeline stage.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 12),
		}, []string{"stage"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.submitted, m.final, m.stages} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) accepted()                     { m.submitted.WithLabelValues("accepted").Inc() }
func (m *metrics) refused(r ecoserr.Reason)      { m.submitted.WithLabelValues(r.Name()).Inc() }
func (m *metrics) finished(s store.RequestState) { m.final.WithLabelValues(string(s)).Inc() }
func (m *metrics) stage(name string, since time.Time) {
	m.stages.WithLabelValues(name).Observe(time.Since(since).Seconds())
}
