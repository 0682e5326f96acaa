package smki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// wantVerifyError asserts err is a *VerifyError for reason about cert.
func wantVerifyError(t *testing.T, chain []*Certificate, err error, reason Reason, cert *Certificate) {
	t.Helper()
	if chain != nil {
		t.Errorf("chain %v returned with an error", chain)
	}
	if !errors.Is(err, reason) {
		t.Fatalf("error %v, want reason %q", err, reason)
	}
	ve, ok := errors.AsType[*VerifyError](err)
	if !ok {
		t.Fatalf("error %T is not *VerifyError", err)
	}
	if !ve.Cert.Equal(cert) {
		t.Errorf("error names %v, want %v", ve.Cert, cert)
	}
}

func wantChain(t *testing.T, got []*Certificate, err error, want ...*Certificate) {
	t.Helper()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !slices.EqualFunc(got, want, (*Certificate).Equal) {
		t.Fatalf("chain %v, want %v", got, want)
	}
}

func TestVerifyVectorsZ1Anchor(t *testing.T) {
	z1 := vectorZ1(t)
	roots := NewPool(z1)
	for _, el := range []string{"DigitalSigningCertificate", "KeyAgreementCertificate", "KeyAgreementTopUpCertificate"} {
		leaf := duisCert(t, el)
		t.Run("ok/"+el+" at 2020", func(t *testing.T) {
			chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: t2020})
			wantChain(t, chain, err, leaf, z1)
		})
		t.Run("fail/"+el+" at 2027", func(t *testing.T) {
			chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: t2027})
			wantVerifyError(t, chain, err, Expired, leaf)
		})
		t.Run("ok/"+el+" at 2027 with SkipTime", func(t *testing.T) {
			chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: t2027, SkipTime: true})
			wantChain(t, chain, err, leaf, z1)
		})
		t.Run("fail/"+el+" in 2014", func(t *testing.T) {
			chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)})
			wantVerifyError(t, chain, err, NotYetValid, leaf)
		})
	}
	t.Run("ok/TransCoS certificates", func(t *testing.T) {
		for _, name := range []string{"Z1-transitionalCoS-ds.pem", "Z1b-transitionalCoS-ds.pem"} {
			leaf := vectorCert(t, name)
			chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: time.Date(2016, 6, 1, 0, 0, 0, 0, time.UTC)})
			wantChain(t, chain, err, leaf, z1)
		}
	})
	t.Run("fail/XML signing certificate from the stand-in Z1", func(t *testing.T) {
		// Same issuer name (in UTF8String), no AKI, different key.
		leaf := vectorCert(t, "xml-sign-90B3D51F30010000-ds.pem")
		chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: t2020})
		wantVerifyError(t, chain, err, BadSignature, leaf)
	})
	t.Run("fail/device certificate from E357", func(t *testing.T) {
		leaf := vectorCert(t, "00db1234567890a0-ds.pem")
		chain, err := Verify(leaf, VerifyOptions{Roots: roots, Now: t2020})
		wantVerifyError(t, chain, err, UnknownIssuer, leaf)
	})
	t.Run("fail/Z1 is no CA for its own leaf's name twin", func(t *testing.T) {
		// A supplier certificate as anchor does not make Z1's leaves
		// verify: it is not Z1.
		leaf := duisCert(t, "DigitalSigningCertificate")
		chain, err := Verify(leaf, VerifyOptions{Roots: NewPool(duisCert(t, "KeyAgreementCertificate")), Now: t2020})
		wantVerifyError(t, chain, err, UnknownIssuer, leaf)
	})
	t.Run("ok/anchor verifies itself", func(t *testing.T) {
		chain, err := Verify(z1, VerifyOptions{Roots: roots, Now: t2020})
		wantChain(t, chain, err, z1)
	})
}

func TestVerifyOptions(t *testing.T) {
	p := newTestPKI(t)
	leaf := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature).cert(t)
	roots := NewPool(p.root)
	inter := NewPool(p.ca)
	if _, err := Verify(leaf, VerifyOptions{Roots: roots, Intermediates: inter}); !errors.Is(err, ErrNoTime) {
		t.Errorf("zero Now: error %v, want ErrNoTime", err)
	}
	if _, err := Verify(leaf, VerifyOptions{Roots: roots, Intermediates: inter, SkipTime: true}); err != nil {
		t.Errorf("zero Now with SkipTime: %v", err)
	}
	if _, err := Verify(nil, VerifyOptions{Roots: roots, Now: t2020}); err == nil {
		t.Error("Verify(nil) succeeded")
	}
	chain, err := Verify(leaf, VerifyOptions{Now: t2020})
	wantVerifyError(t, chain, err, UnknownIssuer, leaf)
}

func TestVerifyGenerated(t *testing.T) {
	p := newTestPKI(t)
	e := eui.MustParse("90B3D51F30010000")
	leafSpec := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
	leaf := leafSpec.cert(t)
	rootsOnly := NewPool(p.root)
	opts := VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(p.ca), Now: t2020}

	t.Run("ok/root, issuing CA, leaf", func(t *testing.T) {
		chain, err := Verify(leaf, opts)
		wantChain(t, chain, err, leaf, p.ca, p.root)
	})
	t.Run("ok/issuing CA as the anchor", func(t *testing.T) {
		chain, err := Verify(leaf, VerifyOptions{Roots: NewPool(p.ca), Now: t2020})
		wantChain(t, chain, err, leaf, p.ca)
	})
	t.Run("ok/device", func(t *testing.T) {
		dev := p.deviceSpec(t, eui.MustParse("00DB1234567890A0"), KeyUsageKeyAgreement).cert(t)
		chain, err := Verify(dev, opts)
		wantChain(t, chain, err, dev, p.ca, p.root)
	})
	t.Run("fail/intermediate missing", func(t *testing.T) {
		chain, err := Verify(leaf, VerifyOptions{Roots: rootsOnly, Now: t2020})
		wantVerifyError(t, chain, err, UnknownIssuer, leaf)
	})
	t.Run("fail/AKI names a key no CA has", func(t *testing.T) {
		// The name matches Z1 but the AKI does not: no candidate at all,
		// so the error is UnknownIssuer, not a misleading BadSignature.
		s := leafSpec
		s.replace(extAKI(false, mustHex("0102030405060708"), false))
		c := s.cert(t)
		chain, err := Verify(c, opts)
		wantVerifyError(t, chain, err, UnknownIssuer, c)
		if !strings.Contains(err.Error(), "0102030405060708") {
			t.Errorf("error %q does not name the AKI", err)
		}
	})
	t.Run("fail/signed by a different key", func(t *testing.T) {
		s := leafSpec
		s.signer = newKey(t) // same issuer name and AKI, wrong key
		forged := s.cert(t)
		chain, err := Verify(forged, opts)
		wantVerifyError(t, chain, err, BadSignature, forged)
	})
	t.Run("fail/tampered TBS", func(t *testing.T) {
		der := leafSpec.der(t)
		c, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		c.RawTBSCertificate[len(c.RawTBSCertificate)-1] ^= 1
		chain, err := Verify(c, opts)
		wantVerifyError(t, chain, err, BadSignature, c)
	})
	t.Run("fail/issuer is an end entity", func(t *testing.T) {
		eeKey := newKey(t)
		eeSpec := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
		eeSpec.pub = &eeKey.PublicKey
		eeSpec.replace(extSKI(false, keyID(&eeKey.PublicKey)))
		ee := eeSpec.cert(t)
		child := certSpec{
			serial: big.NewInt(9), issuer: eeSpec.subject, subject: nameDER(attrOU("02"), attrUID(e)),
			notBefore: t2015, notAfter: t2035, pub: &newKey(t).PublicKey, signer: eeKey,
			exts: []ext{extAKI(false, keyID(&eeKey.PublicKey), false)},
		}
		c := child.cert(t)
		chain, err := Verify(c, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(p.ca, ee), Now: t2020})
		wantVerifyError(t, chain, err, NotCA, ee)
	})
	t.Run("fail/CA without keyCertSign", func(t *testing.T) {
		s := p.caSpecUnder(p.rootSpec, p.rootKey, "Z1", &p.caKey.PublicKey, 0)
		s.replace(extKU(true, KeyUsageCRLSign))
		weak := s.cert(t)
		chain, err := Verify(leaf, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(weak), Now: t2020})
		wantVerifyError(t, chain, err, NotCA, weak)
	})
	t.Run("fail/path length", func(t *testing.T) {
		// Root pathLen 0 may not have the issuing CA below it.
		s := p.rootSpec
		s.replace(extBC(true, true, 0))
		strictRoot := s.cert(t)
		chain, err := Verify(leaf, VerifyOptions{Roots: NewPool(strictRoot), Intermediates: NewPool(p.ca), Now: t2020})
		wantVerifyError(t, chain, err, PathLenExceeded, strictRoot)
	})
	t.Run("fail/issuing CA pathLen 0 below a second CA", func(t *testing.T) {
		subKey := newKey(t)
		sub := p.caSpecUnder(p.caSpec, p.caKey, "Z1sub", &subKey.PublicKey, -1).cert(t)
		ls := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
		ls.issuer, ls.signer = sub.Subject.Raw, subKey
		ls.replace(extAKI(false, keyID(&subKey.PublicKey), false))
		l := ls.cert(t)
		chain, err := Verify(l, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(p.ca, sub), Now: t2020})
		wantVerifyError(t, chain, err, PathLenExceeded, p.ca)
	})
	t.Run("fail/expired intermediate", func(t *testing.T) {
		s := p.caSpecUnder(p.rootSpec, p.rootKey, "Z1", &p.caKey.PublicKey, 0)
		s.notAfter = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
		old := s.cert(t)
		chain, err := Verify(leaf, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(old), Now: t2020})
		wantVerifyError(t, chain, err, Expired, old)
	})
	t.Run("fail/expired anchor", func(t *testing.T) {
		chain, err := Verify(leaf, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(p.ca), Now: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)})
		wantVerifyError(t, chain, err, Expired, leaf) // the leaf (2035) expires first
		long := leafSpec
		long.notAfter = time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
		l := long.cert(t)
		chain, err = Verify(l, VerifyOptions{Roots: NewPool(p.ca), Now: time.Date(2039, 1, 1, 0, 0, 0, 0, time.UTC)})
		wantVerifyError(t, chain, err, Expired, p.ca)
	})
	t.Run("fail/unhandled critical extension", func(t *testing.T) {
		s := leafSpec
		s.exts = append(slices.Clone(s.exts), ext{asn1.ObjectIdentifier{1, 2, 3}, true, []byte{5, 0}})
		c := s.cert(t)
		chain, err := Verify(c, opts)
		wantVerifyError(t, chain, err, UnhandledCriticalExtension, c)
	})
	t.Run("fail/unsupported signature algorithm", func(t *testing.T) {
		s := leafSpec
		s.sigAlg = mustHex("300a06082a8648ce3d040303")
		c := s.cert(t)
		chain, err := Verify(c, opts)
		wantVerifyError(t, chain, err, UnsupportedAlgorithm, c)
	})
	t.Run("ok/AKI picks the right CA among name twins", func(t *testing.T) {
		twinKey := newKey(t)
		twin := p.caSpecUnder(p.rootSpec, p.rootKey, "Z1", &twinKey.PublicKey, 0).cert(t)
		chain, err := Verify(leaf, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(twin, p.ca), Now: t2020})
		wantChain(t, chain, err, leaf, p.ca, p.root)
	})
	t.Run("ok/without AKI the search backtracks past a name twin", func(t *testing.T) {
		twinKey := newKey(t)
		twin := p.caSpecUnder(p.rootSpec, p.rootKey, "Z1", &twinKey.PublicKey, 0).cert(t)
		s := leafSpec
		s.without(oidExtAuthorityKeyID)
		l := s.cert(t)
		chain, err := Verify(l, VerifyOptions{Roots: rootsOnly, Intermediates: NewPool(twin, p.ca), Now: t2020})
		wantChain(t, chain, err, l, p.ca, p.root)
	})
	t.Run("fail/cross-signed loop terminates", func(t *testing.T) {
		aKey, bKey := newKey(t), newKey(t)
		aSpec := p.caSpecUnder(p.rootSpec, p.rootKey, "A", &aKey.PublicKey, -1)
		bSpec := p.caSpecUnder(aSpec, aKey, "B", &bKey.PublicKey, -1)
		aSpec2 := p.caSpecUnder(bSpec, bKey, "A", &aKey.PublicKey, -1)
		ls := p.orgSpec(t, "02", e, KeyUsageDigitalSignature)
		ls.issuer, ls.signer = aSpec.subject, aKey
		ls.replace(extAKI(false, keyID(&aKey.PublicKey), false))
		l := ls.cert(t)
		a2, b := aSpec2.cert(t), bSpec.cert(t)
		otherRoot := newTestPKI(t).root
		// l → A (signed by B) → B (signed by A) → A again is refused, so
		// B is left without an issuer.
		chain, err := Verify(l, VerifyOptions{Roots: NewPool(otherRoot), Intermediates: NewPool(a2, b), Now: t2020})
		wantVerifyError(t, chain, err, UnknownIssuer, b)
	})
}

// TestVerifyStdlibChain checks certificates made by an independent
// encoder, crypto/x509.CreateCertificate, as the brief for test PKIs
// suggests (x500UniqueIdentifier via ExtraNames with an asn1.BitString).
func TestVerifyStdlibChain(t *testing.T) {
	e := eui.MustParse("90B3D51F30000004")
	policies := pkix.Extension{Id: asn1.ObjectIdentifier(oidExtCertPolicies), Critical: true, Value: extPolicies(true, oidTestPolicy).value}
	mk := func(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *Certificate {
		t.Helper()
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, policies)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckProfile(); err != nil {
			t.Errorf("%v: %v", c, err)
		}
		return c
	}
	rootKey, caKey := newKey(t), newKey(t)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{OrganizationalUnit: []string{"00"}, CommonName: "ZA"},
		NotBefore: t2015, NotAfter: t2035, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1, SubjectKeyId: keyID(&rootKey.PublicKey),
	}
	root := mk(rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{OrganizationalUnit: []string{"07"}, CommonName: "Z1"},
		NotBefore: t2015, NotAfter: t2035, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true, SubjectKeyId: keyID(&caKey.PublicKey),
	}
	ca := mk(caTmpl, rootTmpl, &caKey.PublicKey, rootKey)
	leafKey, devKey := newKey(t), newKey(t)
	leaf := mk(&x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject: pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier(oidAttrOrgUnit), Value: "05"},
			{Type: asn1.ObjectIdentifier(oidAttrUniqueIdentifier), Value: asn1.BitString{Bytes: e[:], BitLength: 64}},
		}},
		NotBefore: t2015, NotAfter: t2027, KeyUsage: x509.KeyUsageDigitalSignature, SubjectKeyId: keyID(&leafKey.PublicKey),
	}, caTmpl, &leafKey.PublicKey, caKey)
	san := extSAN(true, hwModuleGN(mustHex("00DB1234567890A0")))
	dev := mk(&x509.Certificate{
		SerialNumber: big.NewInt(4), NotBefore: t2015, NotAfter: deviceNotAfter,
		KeyUsage: x509.KeyUsageKeyAgreement, SubjectKeyId: keyID(&devKey.PublicKey),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier(oidExtSubjectAltName), Critical: true, Value: san.value}},
	}, caTmpl, &devKey.PublicKey, caKey)

	if leaf.Kind != Organisation || leaf.Role != RoleTransitionalCoS || leaf.EUI != e {
		t.Errorf("leaf: kind %v role %v EUI %s", leaf.Kind, leaf.Role, leaf.EUI)
	}
	if dev.Kind != Device || dev.EUI != eui.MustParse("00DB1234567890A0") {
		t.Errorf("device: kind %v EUI %s", dev.Kind, dev.EUI)
	}
	if root.Kind != CA || root.Role != RoleRoot || !root.IsSelfSigned() || ca.IsSelfSigned() {
		t.Errorf("root: kind %v role %v self-signed %v; ca self-signed %v", root.Kind, root.Role, root.IsSelfSigned(), ca.IsSelfSigned())
	}
	opts := VerifyOptions{Roots: NewPool(root), Intermediates: NewPool(ca), Now: t2020}
	for _, c := range []*Certificate{leaf, dev} {
		chain, err := Verify(c, opts)
		wantChain(t, chain, err, c, ca, root)
	}
	chain, err := Verify(leaf, VerifyOptions{Roots: NewPool(root), Intermediates: NewPool(ca), Now: t2027.Add(time.Second)})
	wantVerifyError(t, chain, err, Expired, leaf)
}

func TestCheckSignatureFrom(t *testing.T) {
	z1 := vectorZ1(t)
	tcos := vectorCert(t, "Z1-transitionalCoS-ds.pem")
	if err := tcos.CheckSignatureFrom(z1); err != nil {
		t.Errorf("TCoS from Z1: %v", err)
	}
	err := z1.CheckSignatureFrom(tcos)
	wantVerifyError(t, nil, err, NotCA, tcos)
	wantVerifyError(t, nil, tcos.CheckSignatureFrom(nil), UnknownIssuer, tcos)
	if z1.IsSelfSigned() || tcos.IsSelfSigned() {
		t.Error("IsSelfSigned true for a CA-issued certificate")
	}
}

func TestCheckSignatureFromP384Issuer(t *testing.T) {
	p := newTestPKI(t)
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	s := p.caSpecUnder(p.rootSpec, p.rootKey, "Z1", &p.caKey.PublicKey, 0)
	pt, _ := k384.PublicKey.Bytes()
	s.spki = spkiDER(asn1.ObjectIdentifier{1, 3, 132, 0, 34}, pt)
	ca384 := s.cert(t)
	leaf := p.orgSpec(t, "02", eui.MustParse("90B3D51F30010000"), KeyUsageDigitalSignature).cert(t)
	err := leaf.CheckSignatureFrom(ca384)
	wantVerifyError(t, nil, err, UnsupportedAlgorithm, ca384)
}

func TestReasonAndVerifyErrorStrings(t *testing.T) {
	for r := Expired; r <= UnhandledCriticalExtension; r++ {
		if _, ok := reasonNames[r]; !ok {
			t.Errorf("Reason %d has no name", r)
		}
	}
	if got := Reason(99).Error(); got != "Reason(99)" {
		t.Errorf("Reason(99).Error() = %q", got)
	}
	p := newTestPKI(t)
	err := &VerifyError{Expired, p.ca, "detail"}
	if got, want := err.Error(), `smki: certificate serial 65 (subject "CN=Z1,OU=07"): expired: detail`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestVerifyBoundedSearch: intermediates that share a name and a key can
// each have issued the others, so a depth-first search tries every
// ordering of them. Nine of them (as a 6.23's CertificationPathCertificates
// can carry, made with the sender's own key) cost some 19 000 ECDSA
// verifies; the search gives up after a fixed budget instead.
func TestVerifyBoundedSearch(t *testing.T) {
	p := newTestPKI(t)
	k := newKey(t)
	evil := nameDER(Attribute{oidAttrOrgUnit, TagPrintableString, []byte("07")}, attrCN("EVIL"))
	var fakes []*Certificate
	for range 9 {
		fakes = append(fakes, certSpec{
			serial: p.nextSerial(), issuer: evil, subject: evil, notBefore: t2015, notAfter: t2035,
			pub: &k.PublicKey, signer: k,
			exts: []ext{
				extKU(true, KeyUsageCertSign),
				extBC(true, true, -1),
				extSKI(false, keyID(&k.PublicKey)),
				extAKI(false, keyID(&k.PublicKey), false),
			},
		}.cert(t))
	}
	leafKey := newKey(t)
	leaf := certSpec{
		serial: p.nextSerial(), issuer: evil, subject: nameDER(attrOU("02"), attrUID(eui.MustParse("90B3D51F30010000"))),
		notBefore: t2015, notAfter: t2035, pub: &leafKey.PublicKey, signer: k,
		exts: []ext{
			extKU(true, KeyUsageDigitalSignature),
			extSKI(false, keyID(&leafKey.PublicKey)),
			extAKI(false, keyID(&k.PublicKey), false),
		},
	}.cert(t)
	chain, err := Verify(leaf, VerifyOptions{Roots: NewPool(p.root), Intermediates: NewPool(fakes...), Now: t2020})
	if chain != nil || !errors.Is(err, UnknownIssuer) || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("got %v, %v; want the search given up", chain, err)
	}
}
