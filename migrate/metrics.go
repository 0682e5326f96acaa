package migrate

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/store"
)

// metrics count what the migration did, for /metrics and the dashboard.
type metrics struct {
	commands *prometheus.CounterVec // by kind and what the device was moved to ("none": it stayed)
	holds    prometheus.Counter     // waves paused by a DCC-wide threshold
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecos_migration_commands_total",
			Help: "Migration commands settled, by kind (migrate, readback) and the state their device went to (none: it stayed).",
		}, []string{"kind", "to"}),
		holds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ecos_migration_dcc_holds_total", Help: "Waves paused because a DCC-wide anomaly threshold was reached.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.commands, m.holds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) settled(kind store.OwnKind, s store.Settlement) {
	to := "none"
	if s.Move != nil {
		to = string(s.Move.To)
	}
	m.commands.WithLabelValues(string(kind), to).Inc()
}
