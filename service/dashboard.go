package service

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/dashboard"
)

// dashboard is the operators' dashboard over the service's store, served
// under /dashboard/ by the operator listener.
func (s *Service) dashboard(reg prometheus.Gatherer) (http.Handler, error) {
	return dashboard.New(dashboard.Config{Source: s.db, Thresholds: s.thresholds, Metrics: reg, Now: s.now, Log: s.log})
}
