package service_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/keywrap"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/xmldsig"
)

// TestKeysOnSoftHSM: with the TCoS, ECoS and DUIS signing keys on a
// PKCS#11 token (SoftHSM2), the demo service signs a 6.23 the meter
// obeys and a signed response the supplier verifies, migrates its meters
// with mode 6 commands the token signs with the TCoS key, and then signs
// a 6.23 with the ECoS key. The keys' files are not read: the
// configuration names none.
func TestKeysOnSoftHSM(t *testing.T) {
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	ctx := context.Background()
	dir := t.TempDir()
	cfg := installDemo(t, dir, demoworld.InstallOptions{Devices: 5})
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	testkit.SoftHSMImport(t, "ecos", "1234", "tcos", w.PKI.TCoS.Key)
	testkit.SoftHSMImport(t, "ecos", "1234", "ecos", w.PKI.ECoS.Key)
	testkit.SoftHSMImport(t, "ecos", "1234", "dsp", w.PKI.DSPXMLSign.Key)
	onToken := func(label, cert string) config.KeyPair {
		return config.KeyPair{Cert: cert, PKCS11: &config.PKCS11Key{Module: testkit.SoftHSMModule, TokenLabel: "ecos", KeyLabel: label, PINFile: pinFile}}
	}
	tcos, ecos, dsp := onToken("tcos", cfg.Keys.TCoS.Cert), onToken("ecos", cfg.Keys.ECoS.Cert), onToken("dsp", cfg.Keys.DSPXMLSign.Cert)
	cfg.Keys.TCoS, cfg.Keys.ECoS, cfg.Keys.DSPXMLSign = &tcos, &ecos, dsp
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	r := serve(t, dir, cfg)
	svc, sim, client := r.svc, r.sim, r.client
	dspPool := smki.NewPool(mustParse(t, w.PKI.DSPXMLSign.Cert))
	changeSupplier := func(device int, counter uint64) { changeSupplierOK(t, w, client, dspPool, device, counter) }
	counter := uint64(time.Now().UnixMilli())
	changeSupplier(2, counter) // the TCoS key, on the token

	<-svc.Recovered()
	wave, err := svc.Migration().Start(ctx, store.Wave{Name: "hsm", Concurrency: 5})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		wv, err := svc.Migration().Wave(ctx, wave.ID)
		if err != nil {
			t.Fatal(err)
		}
		if wv.State != store.WaveRunning {
			p, err := svc.Migration().Progress(ctx, wave.ID)
			if err != nil || p.Counts[store.MigrationECoS] != 5 {
				t.Fatalf("the wave ended %s (%s): %v, %v", wv.State, wv.Reason, p.Counts, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the wave is still running after 30s")
		}
		<-tick.C
	}
	for n := 1; n <= 5; n++ {
		d, _ := sim.Fleet().Device(demoworld.Device(n))
		if cert, _ := d.TransitionalCoS(); string(cert.Raw) != string(w.PKI.ECoS.Cert) {
			t.Errorf("meter %d does not hold the ECoS certificate", n)
		}
	}
	changeSupplier(3, counter+1) // the ECoS key, on the token
}

// changeSupplierOK has the demo's supplier 2 take demo meter device with
// a 6.23 and wants its acknowledgement and an I0 response, both signed
// with the DSP key dspPool holds.
func changeSupplierOK(t *testing.T, w *demoworld.World, client *api.Client, dspPool *smki.Pool, device int, counter uint64) {
	t.Helper()
	ctx := context.Background()
	doc, err := w.Sign(demoworld.Request{Supplier: 2, Device: demoworld.Device(device), Counter: counter})
	if err != nil {
		t.Fatal(err)
	}
	ack, accepted, err := client.Submit(ctx, doc)
	if err != nil || !accepted {
		t.Fatalf("device %d: submit accepted=%v err=%v\n%s", device, accepted, err, ack)
	}
	if _, err := xmldsig.Verify(ack, dspPool); err != nil {
		t.Fatalf("the acknowledgement signed on the token: %v", err)
	}
	req, _ := duis.DecodeRequest(doc)
	resp, final, err := client.Response(ctx, req.Header.RequestID.String(), 10*time.Second)
	if err != nil || !final {
		t.Fatalf("device %d: response final=%v err=%v", device, final, err)
	}
	v, err := xmldsig.Verify(resp, dspPool)
	if err != nil {
		t.Fatalf("the response signed on the token: %v", err)
	}
	got, _ := duis.DecodeResponse(v.Digested)
	if got.Header.ResponseCode != duis.ResponseSuccess {
		t.Fatalf("device %d: response %s, want I0", device, got.Header.ResponseCode)
	}
}

// TestZAZ1TCoSKeyImported is the deck's key transfer with the public
// ZAZ1 TCoS key: wrapped under a KEK (RFC 5649) as the old side exports
// it, unwrapped inside a fresh SoftHSM2 token as the ECoS Party imports
// it, and then the key the service signs 6.23 CS02b commands with:
// meters whose transitionalCoS anchor is Z1-transitionalCoS-ds.pem obey
// them. No file the import side wrote, nor the token's own store, holds
// the key in the clear.
func TestZAZ1TCoSKeyImported(t *testing.T) {
	vectors := testkit.VectorsDir(t)
	z1Key, z1Cert := filepath.Join(vectors, "keys", "Z1-transitionalCoS-ds.key"), filepath.Join(vectors, "keys", "Z1-transitionalCoS-ds.pem")
	pinFile := testkit.SoftHSM(t, "ecos", "1234")
	clear, err := hsm.LoadFile(z1Key)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := smki.LoadFiles(z1Cert)
	if err != nil {
		t.Fatal(err)
	}
	cert := certs[0]

	// The old side: PKCS#8 wrapped under the KEK.
	kek := make([]byte, 32)
	rand.Read(kek)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(clear)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := keywrap.WrapPad(kek, pkcs8)
	if err != nil {
		t.Fatal(err)
	}
	// The ECoS side: the KEK and then the key, inside the token.
	p := hsm.PKCS11{Module: testkit.SoftHSMModule, TokenLabel: "ecos", PINFile: pinFile}
	a, err := hsm.OpenAdmin(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ImportKEK("kek", kek); err != nil {
		t.Fatal(err)
	}
	if err := a.UnwrapSigningKey("kek", hsm.MechanismSoftHSM, blob, "tcos-z1", cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	a.Close()

	dir := t.TempDir()
	cfg := installDemo(t, dir, demoworld.InstallOptions{Devices: 3})
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys.TCoS = &config.KeyPair{Cert: z1Cert, PKCS11: &config.PKCS11Key{Module: p.Module, TokenLabel: p.TokenLabel, KeyLabel: "tcos-z1", PINFile: pinFile}}
	cfg.Devices.TCoSAnchor = z1Cert
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := serve(t, dir, cfg)
	changeSupplierOK(t, w, r.client, smki.NewPool(mustParse(t, w.PKI.DSPXMLSign.Cert)), 2, uint64(time.Now().UnixMilli()))
	d, _ := r.sim.Fleet().Device(demoworld.Device(2))
	if c, _ := d.TransitionalCoS(); !bytes.Equal(c.Raw, cert.Raw) {
		t.Fatal("the meter does not hold the ZAZ1 TCoS certificate it obeyed")
	}
	if n := d.SeqNumber(gbcs.RoleTransitionalCoS); n == 0 {
		t.Fatal("the meter's transitionalCoS counter did not move: it obeyed no TCoS command")
	}

	// Nothing on the import side holds the key in the clear: not the
	// service's directory, not the token's store.
	tokenDir := filepath.Dir(os.Getenv("SOFTHSM2_CONF"))
	testkit.NoClearKey(t, clear, dir, tokenDir)
}
