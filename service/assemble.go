package service

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/authorise"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/intake"
	"github.com/ecos-cos/ecos/lease"
	"github.com/ecos-cos/ecos/pipeline"
	"github.com/ecos-cos/ecos/refdata"
	"github.com/ecos-cos/ecos/signer"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

func stderr() io.Writer { return os.Stderr }

// assemble builds every role from the configuration.
func (s *Service) assemble(ctx context.Context, audit *slog.Logger, reg prometheus.Registerer) (*pipeline.Pipeline, error) {
	c := s.cfg
	orgCAs, err := pool("trust.organisation_cas", c.Trust.OrganisationCAs)
	if err != nil {
		return nil, err
	}
	intermediates, err := pool("trust.intermediates", c.Trust.Intermediates)
	if err != nil {
		return nil, err
	}
	users, err := pool("trust.user_certificates", c.Trust.UserCertificates)
	if err != nil {
		return nil, err
	}
	mpid, err := mpidConfig(c.Policy)
	if err != nil {
		return nil, err
	}
	// One memory of checked certificate signatures for the signer's chain
	// and the replacements: both are the same few certificates per User.
	links := smki.NewLinks(0)
	auth, err := authorise.New(authorise.Config{Reference: s.db, Pending: store.FutureDatedAt{DB: s.db, Now: s.now},
		OrganisationCAs: orgCAs, MPID: mpid, AllowForeignReplacements: c.Policy.AllowForeignReplacements, Links: links,
		Horizon: time.Duration(c.Policy.FutureDatedHorizon), Credentials: heldCredentials(c.Keys)})
	if err != nil {
		return nil, err
	}
	var tcos, ecos *signer.Key
	if tcos, err = s.cosKey("keys.tcos", "tcos", c.Keys.TCoS); err != nil {
		return nil, err
	}
	if ecos, err = s.cosKey("keys.ecos", "ecos", c.Keys.ECoS); err != nil {
		return nil, err
	}
	sig, err := signer.New(signer.Config{Log: s.db, TCoS: tcos, ECoS: ecos, Now: s.now, Audit: audit})
	if err != nil {
		return nil, err
	}
	dspKey, dspCert, err := s.keyPair("keys.dsp_xml_sign", c.Keys.DSPXMLSign)
	if err != nil {
		return nil, err
	}
	s.noteKey("keys.dsp_xml_sign", dspCert)
	gw, keys, err := s.gateway(c.Devices)
	if err != nil {
		return nil, err
	}
	codes, err := ecoserr.NewCodes(c.Policy.ResponseCodes)
	if err != nil {
		return nil, fmt.Errorf("policy.response_codes: %w", err)
	}
	counter, err := newCounter(c.Anomaly)
	if err != nil {
		return nil, err
	}
	s.counter = counter
	leases := lease.New()
	if err := s.migration(sig, gw, keys, leases, ecos, intermediates, audit, reg); err != nil {
		return nil, err
	}
	p, err := pipeline.New(pipeline.Config{Leases: leases,
		Requests: s.db, Commands: s.db, Holds: s.db, Authoriser: auth, Signer: sig, Gateway: gw, DeviceKeys: keys,
		Anomaly: counter, HoldFor: time.Duration(c.Anomaly.HoldFor),
		UserCertificates: users,
		SignerPolicy:     intake.SignerPolicy{OrganisationCAs: orgCAs, Intermediates: intermediates, Links: links},
		ResponseKey:      pipeline.ResponseKey{Signer: dspKey, Cert: dspCert},
		Codes:            codes,
		MaxRequestBytes:  c.Policy.MaxRequestBytes,
		Workers:          c.Workers,
		DeviceTimeout:    time.Duration(c.Devices.Timeout),
		Now:              s.now, Log: s.log, Audit: audit, Metrics: reg,
		Notify: func() {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if s.thresholds, err = s.fileThresholds(c, counter, p, intermediates, links, audit); err != nil {
		return nil, err
	}
	return p, nil
}

// counter is step 9's threshold counter, with the DCC-wide thresholds and
// the default for Users without a file; Users' files are loaded at Run.
func newCounter(a config.Anomaly) (*anomaly.Counter, error) {
	o := anomaly.Options{}
	if a.WithoutFile == config.WithoutFileZero {
		o.DefaultUser = (&adt.File{}).Effective()
	}
	c := anomaly.New(o)
	dcc, err := a.DCCRows()
	if err != nil {
		return nil, fmt.Errorf("anomaly.dcc_thresholds: %w", err)
	}
	c.SetDCC(dcc)
	return c, nil
}

// fileThresholds accepts Users' ADT and action files.
func (s *Service) fileThresholds(c *config.Config, counter *anomaly.Counter, p *pipeline.Pipeline,
	intermediates *smki.Pool, links *smki.Links, audit *slog.Logger) (*thresholds.Thresholds, error) {
	cas, err := pool("anomaly.file_signing_cas", c.Anomaly.FileSigningCAs)
	if err != nil {
		return nil, err
	}
	signers, err := pool("anomaly.file_signing_certificates", c.Anomaly.FileSigningCertificates)
	if err != nil {
		return nil, err
	}
	return thresholds.New(thresholds.Config{Store: s.db, Counter: counter, Holds: p,
		FileSigners: signers, IKI: cas, Intermediates: intermediates, Links: links,
		Now: s.now, Log: s.log, Audit: audit})
}

// gateway is the device side: `ecos devicesim` or a device-facing
// service over HTTP, or the simulated fleet plugged in as
// Options.Simulator; and where device keys come from.
func (s *Service) gateway(d config.Devices) (pipeline.Gateway, pipeline.DeviceKeys, error) {
	var keys pipeline.DeviceKeys
	if d.PKI != "" { // New made sure a simulator is plugged in
		keys = s.sim
	}
	if len(s.cfg.Trust.DeviceCertificates) > 0 {
		certs, err := pool("trust.device_certificates", s.cfg.Trust.DeviceCertificates)
		if err != nil {
			return nil, nil, err
		}
		keys = firstKey{pipeline.DeviceCertificates{Pool: certs}, keys}
	}
	if d.Gateway == config.GatewayHTTP {
		return dispatch.NewHTTP(d.URL, nil), keys, nil
	}
	s.ticks = true
	return s.sim, keys, nil
}

// firstKey asks a, then b.
type firstKey struct{ a, b pipeline.DeviceKeys }

func (f firstKey) DeviceKey(d eui.EUI) (*ecdsa.PublicKey, error) {
	k, err := f.a.DeviceKey(d)
	if err == nil || f.b == nil {
		return k, err
	}
	return f.b.DeviceKey(d)
}

func pool(key string, paths []string) (*smki.Pool, error) {
	certs, err := smki.LoadFiles(paths...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return smki.NewPool(certs...), nil
}

// keyPair is a configured key and its certificate, the key from its file
// or from its PKCS#11 token, refused unless the two match.
func (s *Service) keyPair(key string, kp config.KeyPair) (crypto.Signer, *smki.Certificate, error) {
	certs, err := smki.LoadFiles(kp.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("%s.cert: %w", key, err)
	}
	if len(certs) != 1 {
		return nil, nil, fmt.Errorf("%s.cert: %d certificates, want one", key, len(certs))
	}
	var k crypto.Signer
	where := "key in " + kp.Key
	if p := kp.PKCS11; p != nil {
		tok, err := s.token(key, p)
		if err != nil {
			return nil, nil, err
		}
		id, _ := p.ID() // checked by config.Validate
		if k, err = tok.Signer(p.KeyLabel, id); err != nil {
			return nil, nil, fmt.Errorf("%s.pkcs11: %w", key, err)
		}
		where = fmt.Sprintf("key %s on token %q", hsm.KeyName(p.KeyLabel, id), p.TokenLabel)
	} else if k, err = hsm.LoadFile(kp.Key); err != nil {
		return nil, nil, fmt.Errorf("%s.key: %w", key, err)
	}
	if err := hsm.CheckMatches(k, certs[0].PublicKey); err != nil {
		return nil, nil, fmt.Errorf("%s: the %s does not match the certificate in %s: %w", key, where, kp.Cert, err)
	}
	return k, certs[0], nil
}

// token is the PKCS#11 token p names, logged in once for every key on it
// and logged out when the service closes.
func (s *Service) token(key string, p *config.PKCS11Key) (*hsm.Token, error) {
	id := p.Module + "\x00" + p.TokenLabel
	if t, ok := s.tokens[id]; ok {
		return t, nil
	}
	t, err := hsm.OpenToken(hsm.PKCS11{Module: p.Module, TokenLabel: p.TokenLabel, PINFile: p.PINFile, Sessions: p.Sessions})
	if err != nil {
		return nil, fmt.Errorf("%s.pkcs11: %w", key, err)
	}
	if s.tokens == nil {
		s.tokens = map[string]*hsm.Token{}
	}
	s.tokens[id] = t
	s.closers = append(s.closers, t.Close)
	return t, nil
}

func (s *Service) cosKey(key, id string, kp *config.KeyPair) (*signer.Key, error) {
	if kp == nil {
		return nil, nil
	}
	k, cert, err := s.keyPair(key, *kp)
	if err != nil {
		return nil, err
	}
	s.noteKey(key, cert)
	sk, err := signer.NewKey(id, k, cert.Raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return sk, nil
}

// noteKey remembers a key's SKI for the start summary.
func (s *Service) noteKey(key string, cert *smki.Certificate) {
	s.keys = append(s.keys, key+".ski", strings.ToUpper(hex.EncodeToString(cert.SubjectKeyID)))
}

func mpidConfig(p config.Policy) (authorise.MPIDConfig, error) {
	oid, err := p.MPIDAttributeOID()
	if err != nil {
		return authorise.MPIDConfig{}, fmt.Errorf("policy.mpid_attribute: %w", err)
	}
	m := authorise.MPIDConfig{Policy: authorise.Policy(p.MPID), Attribute: oid}
	if p.MPIDBySerialFile != "" {
		if m.BySerial, err = readMPIDTable(p.MPIDBySerialFile); err != nil {
			return authorise.MPIDConfig{}, fmt.Errorf("policy.mpid_by_serial_file: %w", err)
		}
	}
	return m, nil
}

// readMPIDTable reads the operator's serial → MPID table (refdata.MPIDBySerial).
func readMPIDTable(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return refdata.MPIDBySerial(path, f)
}

// heldCredentials are the CoS credentials the configuration gives a key
// for: the authoriser refuses a device that trusts another, before the
// request is acknowledged.
func heldCredentials(k config.Keys) []store.Credential {
	held := []store.Credential{}
	if k.TCoS != nil {
		held = append(held, store.CredentialTCoS)
	}
	if k.ECoS != nil {
		held = append(held, store.CredentialECoS)
	}
	return held
}
