package service_test

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/enrol"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/testpki"
)

// TestGeneratedECoSCredential: an ECoS credential created as a custodian
// creates it (the key generated inside a SoftHSM2 token, its request
// issued by the demo's Organisation CA, the certificate checked and
// installed) is what the service migrates meters to and then signs
// 6.23s with, which the migrated meters obey.
func TestGeneratedECoSCredential(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	ctx := context.Background()
	dir := t.TempDir()
	cfg := installDemo(t, dir, demoworld.InstallOptions{Devices: 3})
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok := hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile}
	a, err := hsm.OpenAdmin(tok)
	if err != nil {
		t.Fatal(err)
	}
	csr, pub, err := enrol.New(a, "ecos-2026", enrol.Subject{Role: role.TransitionalCoS, EUI: w.PKI.ECoS.EUI}, rand.Reader, func(string) {})
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, err := smki.ParseRequest(csr)
	if err != nil {
		t.Fatal(err)
	}
	der, err := w.PKI.IssueOrganisation(req, testpki.IssueOptions{Now: time.Now(), Role: role.TransitionalCoS})
	if err != nil {
		t.Fatal(err)
	}
	roots, _ := smki.LoadFiles(cfg.Trust.OrganisationCAs...)
	intermediates, _ := smki.LoadFiles(cfg.Trust.Intermediates...)
	chain, err := enrol.Check(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pub,
		smki.VerifyOptions{Roots: smki.NewPool(roots...), Intermediates: smki.NewPool(intermediates...), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, "ecos-2026.pem")
	if _, err := enrol.Install(certPath, chain[0]); err != nil {
		t.Fatal(err)
	}
	cfg.Keys.ECoS = &config.KeyPair{Cert: certPath, PKCS11: &config.PKCS11Key{Module: tok.Module, TokenLabel: tok.TokenLabel, KeyLabel: "ecos-2026", PINFile: pinFile}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	r := serve(t, dir, cfg)
	<-r.svc.Recovered()
	wave, err := r.svc.Migration().Start(ctx, store.Wave{Name: "new ecos", Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the wave to end", func() (bool, error) {
		wv, err := r.svc.Migration().Wave(ctx, wave.ID)
		return err == nil && wv.State != store.WaveRunning, err
	})
	if p, err := r.svc.Migration().Progress(ctx, wave.ID); err != nil || p.Counts[store.MigrationECoS] != 3 {
		t.Fatalf("the wave: %v, %v; want 3 meters on the ECoS credential", p.Counts, err)
	}
	for n := 1; n <= 3; n++ {
		d, _ := r.sim.Fleet().Device(demoworld.Device(n))
		if cert, _ := d.TransitionalCoS(); string(cert.Raw) != string(der) {
			t.Errorf("meter %d does not hold the new ECoS certificate", n)
		}
	}
	changeSupplierOK(t, w, r.client, smki.NewPool(mustParse(t, w.PKI.DSPXMLSign.Cert)), 2, uint64(time.Now().UnixMilli()))
}
