package service

import (
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/lease"
	"github.com/ecos-cos/ecos/migrate"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/smki"
)

// migrationPoll is how often the runner looks at waves when nothing woke
// it: a retry falling due, a wave resumed by another process.
const migrationPoll = time.Second

// migration builds the migration runner and the operator's hand on it.
// The runner shares the pipeline's device leases, so a 6.23 and a
// migration command never race to one device. A service without both CoS
// keys, or without the ECoS certificate's issuing CA in
// trust.intermediates, can plan waves but not start them (the operator
// is told why).
func (s *Service) migration(sig *signer.Signer, gw pipeline.Gateway, keys pipeline.DeviceKeys, leases *lease.Table,
	ecos *signer.Key, intermediates *smki.Pool, audit *slog.Logger, reg prometheus.Registerer) error {
	var m cosbuild.Migration
	if ecos != nil && s.cfg.Keys.ECoS != nil {
		certs, err := smki.LoadFiles(s.cfg.Keys.ECoS.Cert)
		if err == nil && len(certs) > 0 {
			m.NewCertificate = certs[0].Raw
			if issuers := intermediates.FindBySKI(certs[0].AuthorityKeyID); len(issuers) > 0 {
				m.CertificationPath = [][]byte{issuers[0].Raw}
			}
		}
	}
	s.migrationWake = make(chan struct{}, 1)
	var err error
	if keys != nil {
		s.migrator, err = migrate.New(migrate.Config{Waves: s.db, Commands: s.db, Signer: sig, Gateway: gw, DeviceKeys: keys,
			Leases: leases, Thresholds: s.counter, Migration: m, Timeout: s.deviceTimeout(),
			Retry: migrate.Retry{Attempts: s.cfg.Migration.Attempts, Base: time.Duration(s.cfg.Migration.RetryBase), Max: time.Duration(s.cfg.Migration.RetryMax)},
			Now:   s.now, Rand: rand.Reader, Log: s.log, Audit: audit})
		if err != nil {
			return err
		}
	}
	s.migrationOperator = &migrate.Operator{Store: s.db, Devices: s.db, Runner: s.migrator, Now: s.now, Wake: func() {
		select {
		case s.migrationWake <- struct{}{}:
		default:
		}
	}}
	return nil
}

func (s *Service) deviceTimeout() time.Duration {
	if t := time.Duration(s.cfg.Devices.Timeout); t > 0 {
		return t
	}
	return 10 * time.Second
}
