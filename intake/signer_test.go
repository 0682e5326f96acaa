package intake

import (
	"errors"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func parse(t *testing.T, c *testpki.Credential) *smki.Certificate {
	t.Helper()
	sc, err := smki.Parse(c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestBindSigner(t *testing.T) {
	p, err := testpki.Generate(testpki.Options{Now: t0, Suppliers: 2, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	other, err := testpki.Generate(testpki.Options{Now: t0, Suppliers: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	policy := SignerPolicy{OrganisationCAs: smki.NewPool(parse(t, p.Root)), Intermediates: smki.NewPool(parse(t, p.OrgCA))}
	s1 := p.Suppliers[0]
	xml1 := parse(t, s1.XMLSign)
	at := t0.Add(24 * time.Hour)

	cases := []struct {
		name       string
		cert       *smki.Certificate
		originator eui.EUI
		at         time.Time
		policy     SignerPolicy
		want       error
	}{
		{"ok/xml-sign", xml1, s1.EUI, at, policy, nil},
		{"fail/supplier-ds-cert", parse(t, s1.DS), s1.EUI, at, policy, ErrSignerRole},
		{"fail/dsp-cert", parse(t, p.DSPXMLSign), p.DSPXMLSign.EUI, at, policy, ErrSignerRole},
		{"fail/other-users-cert", parse(t, p.Suppliers[1].XMLSign), s1.EUI, at, policy, ErrSignerNotUser},
		{"fail/not-yet-valid", xml1, s1.EUI, t0.Add(-48 * time.Hour), policy, ErrSignerExpired},
		{"fail/expired", xml1, s1.EUI, xml1.NotAfter.Add(time.Second), policy, ErrSignerExpired},
		{"fail/other-pki", parse(t, other.Suppliers[0].XMLSign), other.Suppliers[0].EUI, at, policy, ErrSignerNotTrusted},
		{"fail/no-ca-configured", xml1, s1.EUI, at, SignerPolicy{}, ErrSignerNotTrusted},
		{"fail/nil-cert", nil, s1.EUI, at, policy, ErrSignerRole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := BindSigner(tc.cert, tc.originator, tc.at, tc.policy)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if se, ok := errors.AsType[*SignerError](err); !ok || se.Detail == "" {
				t.Errorf("not a detailed *SignerError: %v", err)
			}
		})
	}
}
