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
	anomalies *prometheus.CounterVec   // thresholds crossed, by outcome and scope
	holds     *prometheus.CounterVec   // held requests decided, by what became of them
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
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecos_anomaly_thresholds_crossed_total", Help: "Requests that crossed an anomaly detection threshold, by outcome (warning, quarantined) and scope (user, dcc).",
		}, []string{"outcome", "scope"}),
		holds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecos_quarantine_decided_total", Help: "Quarantined requests released, deleted or expired.",
		}, []string{"to"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.submitted, m.final, m.stages, m.anomalies, m.holds} {
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
func (m *metrics) anomaly(outcome, scope string) { m.anomalies.WithLabelValues(outcome, scope).Inc() }
func (m *metrics) holdDecided(s store.HoldState) { m.holds.WithLabelValues(string(s)).Inc() }
func (m *metrics) stage(name string, since time.Time) {
	m.stages.WithLabelValues(name).Observe(time.Since(since).Seconds())
}
