package device

import (
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// ESMEAnchors are the cells of a commissioned ESME in a testpki PKI, as
// the CoS Party finds it before migration:
//
//	{root, keyCertSign}                       the PKI root
//	{supplier, DS} {supplier, KA} {supplier, KA, prepaymentTopUp}
//	                                          supplier n's credentials
//	{networkOperator, DS} {networkOperator, KA}
//	{accessControlBroker, DS} {accessControlBroker, KA}
//	{transitionalCoS, DS}                     the TCoS certificate
//
// (testpki has no WAN provider or recovery credentials, so those cells are
// left out.) The certificates are parsed once; share the returned anchors
// between devices rather than calling this per device.
func ESMEAnchors(p *testpki.PKI, supplier int) ([]Anchor, error) {
	if p == nil {
		return nil, fmt.Errorf("device: no PKI")
	}
	if supplier < 1 || supplier > len(p.Suppliers) {
		return nil, fmt.Errorf("device: supplier %d not in the PKI (1..%d)", supplier, len(p.Suppliers))
	}
	s := p.Suppliers[supplier-1]
	list := []struct {
		k    cellKey
		cred *testpki.Credential
	}{
		{cellRoot, p.Root},
		{cellSupplierDS, s.DS},
		{cellSupplierKA, s.KA},
		{cellSupplierKATopUp, s.KATopUp},
		{cellKey{role: gbcs.RoleNetworkOperator, key: gbcs.KeyUsageDigitalSignature}, p.NetworkOperator.DS},
		{cellKey{role: gbcs.RoleNetworkOperator, key: gbcs.KeyUsageKeyAgreement}, p.NetworkOperator.KA},
		{cellKey{role: gbcs.RoleAccessControlBroker, key: gbcs.KeyUsageDigitalSignature}, p.ACB.DS},
		{cellACBKA, p.ACB.KA},
		{cellTransCoSDS, p.TCoS},
	}
	out := make([]Anchor, 0, len(list))
	for _, e := range list {
		cert, err := smki.Parse(e.cred.Cert)
		if err != nil {
			return nil, fmt.Errorf("device: %s: %w", e.cred.Name, err)
		}
		out = append(out, Anchor{Cell: e.k.cell(), Cert: cert})
	}
	return out, nil
}

// withTCoS is anchors with cert in the transitionalCoS DS cell.
func withTCoS(anchors []Anchor, cert *smki.Certificate) []Anchor {
	out := make([]Anchor, 0, len(anchors)+1)
	for _, a := range anchors {
		if keyOf(a.Cell) != cellTransCoSDS {
			out = append(out, a)
		}
	}
	return append(out, Anchor{Cell: cellTransCoSDS.cell(), Cert: cert})
}

// ESMEConfig is the configuration of device n (1-based) of the PKI as a
// commissioned ESME trusting supplier 1 and the TCoS credential, with the
// device's own DS and KA keys from the PKI. Adjust the result (Faults,
// Rand, anchors) before New.
func ESMEConfig(p *testpki.PKI, n int, now func() time.Time) (Config, error) {
	if p == nil || n < 1 || n > len(p.Devices) {
		return Config{}, fmt.Errorf("device: device %d not in the PKI", n)
	}
	anchors, err := ESMEAnchors(p, 1)
	if err != nil {
		return Config{}, err
	}
	dev := p.Devices[n-1]
	ka, err := dev.KA.Key.ECDH()
	if err != nil {
		return Config{}, fmt.Errorf("device: %s: %w", dev.KA.Name, err)
	}
	return Config{EUI: dev.EUI, DSKey: dev.DS.Key, DSCert: dev.DS.Cert, KAKey: ka, Anchors: anchors, Now: now}, nil
}
