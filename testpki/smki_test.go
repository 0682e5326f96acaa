package testpki

import (
	"testing"
	"time"

	"github.com/ecos-cos/ecos/smki"
)

// TestSMKIAcceptsEverything runs the project's own SMKI checker over the
// generated PKI: every certificate must parse, pass its profile check,
// carry the identity we meant, and chain to the root.
func TestSMKIAcceptsEverything(t *testing.T) {
	p := generate(t, Options{})
	parsed := map[string]*smki.Certificate{}
	for _, c := range p.Credentials() {
		sc, err := smki.Parse(c.Cert)
		if err != nil {
			t.Fatalf("%s: smki.Parse: %v", c.Name, err)
		}
		parsed[c.Name] = sc
	}
	var intermediates []*smki.Certificate
	for _, c := range []*Credential{p.OrgCA, p.DeviceCA, p.FileSigningCA} {
		intermediates = append(intermediates, parsed[c.Name])
	}
	opts := smki.VerifyOptions{
		Roots:         smki.NewPool(parsed[p.Root.Name]),
		Intermediates: smki.NewPool(intermediates...),
		Now:           testNow.Add(24 * time.Hour),
	}
	for _, c := range p.Credentials() {
		t.Run(c.Name, func(t *testing.T) {
			sc := parsed[c.Name]
			err := sc.CheckProfile()
			if err != nil {
				t.Errorf("CheckProfile: %v", err)
			}
			wantKind := map[Profile]smki.Kind{
				ProfileRootCA: smki.CA, ProfileIssuingCA: smki.CA, ProfileDeviceCA: smki.CA, ProfileFileSigningCA: smki.CA,
				ProfileOrganisation: smki.Organisation, ProfileFileSigning: smki.Organisation, ProfileDevice: smki.Device,
			}[c.Profile]
			if sc.Kind != wantKind {
				t.Errorf("Kind %v, want %v", sc.Kind, wantKind)
			}
			if !c.Profile.IsCA() && (uint8(sc.Role) != c.Role || sc.EUI != c.EUI) {
				t.Errorf("identity role %v EUI %v, want %02X %v", sc.Role, sc.EUI, c.Role, c.EUI)
			}
			if sc.Subject.String() != c.Subject || sc.Issuer.String() != c.Issuer {
				t.Errorf("smki renders subject %q issuer %q; we say %q, %q", sc.Subject, sc.Issuer, c.Subject, c.Issuer)
			}
			chain, err := smki.Verify(sc, opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := p.Chain(c)
			if len(chain) != len(want) {
				t.Fatalf("Verify chain has %d certificates, want %d", len(chain), len(want))
			}
			for i := range chain {
				if !chain[i].Equal(parsed[want[i].Name]) {
					t.Errorf("chain[%d] is %v, want %s", i, chain[i], want[i].Name)
				}
			}
		})
	}
}
