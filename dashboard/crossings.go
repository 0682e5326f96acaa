package dashboard

import (
	"github.com/prometheus/client_golang/prometheus"
)

// crossedMetric counts the requests that crossed an anomaly detection
// threshold (package pipeline). Warnings are not stored (the User is not
// told of one, product.md §4): this counter, since the service started,
// is where they are.
const crossedMetric = "ecos_anomaly_thresholds_crossed_total"

// crossings is the threshold-crossings chart: per scope (user, dcc), the
// warnings and the quarantined requests since start.
func crossings(g prometheus.Gatherer) (chart, error) {
	ch := chart{ID: "crossings", Title: "Anomaly thresholds crossed since the service started: warnings and quarantines", Horizontal: true,
		Labels: []string{"user", "dcc"}}
	warned, held := series{Name: "warning", Values: make([]int64, 2)}, series{Name: "quarantined", Values: make([]int64, 2)}
	mfs, err := g.Gather()
	if err != nil {
		return chart{}, err
	}
	for _, mf := range mfs {
		if mf.GetName() != crossedMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			var outcome, scope string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "outcome":
					outcome = l.GetValue()
				case "scope":
					scope = l.GetValue()
				}
			}
			i := 0
			if scope == "dcc" {
				i = 1
			}
			n := int64(m.GetCounter().GetValue())
			switch outcome {
			case "warning":
				warned.Values[i] += n
			case "quarantined":
				held.Values[i] += n
			}
		}
	}
	ch.Series = []series{warned, held}
	return ch, nil
}
