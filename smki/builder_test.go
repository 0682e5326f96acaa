package smki

// A DER certificate builder for tests. It can emit anything the SMKI profile
// forbids (compressed points, NULL parameters, odd UID lengths, non-critical
// keyUsage...), which crypto/x509.CreateCertificate cannot, so every
// profile rule gets a certificate that breaks only that rule.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

type ext struct {
	id       asn1.ObjectIdentifier
	critical bool
	value    []byte
}

type certSpec struct {
	version             int // 0 means 3
	serial              *big.Int
	sigAlg              []byte // DER AlgorithmIdentifier; nil means ecdsa-with-SHA256
	outerSigAlg         []byte // nil means sigAlg
	issuer, subject     []byte // DER names
	notBefore, notAfter time.Time
	pub                 *ecdsa.PublicKey
	spki                []byte // overrides pub
	exts                []ext
	signer              *ecdsa.PrivateKey
}

var (
	t2015 = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	t2020 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	t2027 = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	t2035 = time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyID is an 8-byte key identifier, the SMKI size.
func keyID(pub *ecdsa.PublicKey) []byte {
	b, _ := pub.Bytes()
	h := sha256.Sum256(b)
	return h[:8]
}

func (s *certSpec) without(id asn1.ObjectIdentifier) {
	var out []ext
	for _, e := range s.exts {
		if !e.id.Equal(id) {
			out = append(out, e)
		}
	}
	s.exts = out
}

func (s *certSpec) replace(e ext) {
	s.without(e.id)
	s.exts = append(s.exts, e)
}

func (s certSpec) der(t testing.TB) []byte {
	t.Helper()
	sigAlg := s.sigAlg
	if sigAlg == nil {
		sigAlg = ecdsaWithSHA256DER
	}
	outer := s.outerSigAlg
	if outer == nil {
		outer = sigAlg
	}
	spki := s.spki
	if spki == nil {
		pt, err := s.pub.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		spki = spkiDER(oidCurveP256, pt)
	}
	version := s.version
	if version == 0 {
		version = 3
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if version != 1 {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(version - 1))
			})
		}
		b.AddASN1BigInt(s.serial)
		b.AddBytes(sigAlg)
		b.AddBytes(s.issuer)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, s.notBefore)
			addTime(b, s.notAfter)
		})
		b.AddBytes(s.subject)
		b.AddBytes(spki)
		if len(s.exts) > 0 {
			b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, e := range s.exts {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(e.id)
							if e.critical {
								b.AddASN1Boolean(true)
							}
							b.AddASN1OctetString(e.value)
						})
					}
				})
			})
		}
	})
	tbs, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, s.signer, h[:])
	if err != nil {
		t.Fatal(err)
	}
	var c cryptobyte.Builder
	c.AddASN1(cbasn1.SEQUENCE, func(c *cryptobyte.Builder) {
		c.AddBytes(tbs)
		c.AddBytes(outer)
		c.AddASN1BitString(sig)
	})
	return c.BytesOrPanic()
}

// cert builds and parses; the spec must be parseable.
func (s certSpec) cert(t testing.TB) *Certificate {
	t.Helper()
	c, err := Parse(s.der(t))
	if err != nil {
		t.Fatalf("Parse of a built certificate: %v", err)
	}
	return c
}

func addTime(b *cryptobyte.Builder, t time.Time) {
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

func spkiDER(curve asn1.ObjectIdentifier, point []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidPublicKeyEC)
			b.AddASN1ObjectIdentifier(curve)
		})
		b.AddASN1BitString(point)
	})
	return b.BytesOrPanic()
}

// nameDER encodes attributes one per RDN, with exactly the given tags.
func nameDER(attrs ...Attribute) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(a.Type)
					b.AddASN1(cbasn1.Tag(a.Tag), func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
				})
			})
		}
	})
	return b.BytesOrPanic()
}

func attrOU(s string) Attribute { return Attribute{oidAttrOrgUnit, TagUTF8String, []byte(s)} }
func attrCN(s string) Attribute { return Attribute{oidAttrCommonName, TagPrintableString, []byte(s)} }
func attrUID(e eui.EUI) Attribute {
	return Attribute{oidAttrUniqueIdentifier, TagBitString, append([]byte{0}, e[:]...)}
}

func extKU(critical bool, ku KeyUsage) ext {
	var bs asn1.BitString
	for i := 0; i < 9; i++ {
		if ku&(1<<i) != 0 {
			bs.BitLength = i + 1
		}
	}
	bs.Bytes = make([]byte, (bs.BitLength+7)/8)
	for i := 0; i < bs.BitLength; i++ {
		if ku&(1<<i) != 0 {
			bs.Bytes[i/8] |= 0x80 >> (i % 8)
		}
	}
	v, _ := asn1.Marshal(bs)
	return ext{oidExtKeyUsage, critical, v}
}

func extSKI(critical bool, id []byte) ext {
	v, _ := asn1.Marshal(id)
	return ext{oidExtSubjectKeyID, critical, v}
}

// extAKI builds keyIdentifier-only, or with authorityCertSerialNumber too.
func extAKI(critical bool, id []byte, withSerial bool) ext {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(id) })
		if withSerial {
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte{1}) })
		}
	})
	return ext{oidExtAuthorityKeyID, critical, b.BytesOrPanic()}
}

var (
	oidTestPolicy   = asn1.ObjectIdentifier{1, 2, 826, 0, 1, 8641679, 1, 2, 1, 4}
	oidDevicePolicy = asn1.ObjectIdentifier{1, 2, 826, 0, 1, 1800000, 1, 2, 1, 4}
	oidHWType       = asn1.ObjectIdentifier{1, 2, 826, 0, 1, 8641679, 1, 2, 2, 1}
)

func extPolicies(critical bool, oids ...asn1.ObjectIdentifier) ext {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, o := range oids {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(o) })
		}
	})
	return ext{oidExtCertPolicies, critical, b.BytesOrPanic()}
}

// extBC: pathLen < 0 omits pathLenConstraint.
func extBC(critical, ca bool, pathLen int) ext {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if ca {
			b.AddASN1Boolean(true)
		}
		if pathLen >= 0 {
			b.AddASN1Int64(int64(pathLen))
		}
	})
	return ext{oidExtBasicConstraints, critical, b.BytesOrPanic()}
}

func hwModuleGN(serial []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidOtherNameHWModule)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidHWType)
				b.AddASN1OctetString(serial)
			})
		})
	})
	return b.BytesOrPanic()
}

func dnsGN(name string) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
	return b.BytesOrPanic()
}

func extSAN(critical bool, names ...[]byte) ext {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, n := range names {
			b.AddBytes(n)
		}
	})
	return ext{oidExtSubjectAltName, critical, b.BytesOrPanic()}
}

// testPKI is a ZAZ1-shaped hierarchy: root ZA (OU 00) → issuing Z1 (OU 07).
type testPKI struct {
	rootKey, caKey *ecdsa.PrivateKey
	rootSpec       certSpec
	caSpec         certSpec
	root, ca       *Certificate
	serial         int64
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{rootKey: newKey(t), caKey: newKey(t), serial: 100}
	rootName := nameDER(Attribute{oidAttrOrgUnit, TagPrintableString, []byte("00")}, attrCN("ZA"))
	p.rootSpec = certSpec{
		serial: big.NewInt(1), issuer: rootName, subject: rootName,
		notBefore: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		pub: &p.rootKey.PublicKey, signer: p.rootKey,
		exts: []ext{
			extKU(true, KeyUsageCertSign|KeyUsageCRLSign),
			extBC(true, true, 1),
			extPolicies(true, oidTestPolicy),
			extSKI(false, keyID(&p.rootKey.PublicKey)),
		},
	}
	p.root = p.rootSpec.cert(t)
	p.caSpec = p.caSpecUnder(p.rootSpec, p.rootKey, "Z1", &p.caKey.PublicKey, 0)
	p.ca = p.caSpec.cert(t)
	return p
}

func (p *testPKI) nextSerial() *big.Int {
	p.serial++
	return big.NewInt(p.serial)
}

// caSpecUnder is an issuing CA (OU 07) named cn, signed by parent.
func (p *testPKI) caSpecUnder(parent certSpec, parentKey *ecdsa.PrivateKey, cn string, pub *ecdsa.PublicKey, pathLen int) certSpec {
	return certSpec{
		serial: p.nextSerial(), issuer: parent.subject,
		subject:   nameDER(Attribute{oidAttrOrgUnit, TagPrintableString, []byte("07")}, attrCN(cn)),
		notBefore: time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC),
		pub: pub, signer: parentKey,
		exts: []ext{
			extKU(true, KeyUsageCertSign|KeyUsageCRLSign),
			extBC(true, true, pathLen),
			extPolicies(true, oidTestPolicy),
			extSKI(false, keyID(pub)),
			extAKI(false, keyID(&parentKey.PublicKey), false),
		},
	}
}

// orgSpec is an Organisation end-entity certificate issued by the Z1 CA.
func (p *testPKI) orgSpec(t testing.TB, ou string, e eui.EUI, ku KeyUsage) certSpec {
	k := newKey(t)
	return certSpec{
		serial: p.nextSerial(), issuer: p.caSpec.subject,
		subject:   nameDER(attrOU(ou), attrUID(e)),
		notBefore: t2015, notAfter: t2035,
		pub: &k.PublicKey, signer: p.caKey,
		exts: []ext{
			extKU(true, ku),
			extSKI(false, keyID(&k.PublicKey)),
			extPolicies(true, oidTestPolicy),
			extAKI(false, keyID(&p.caKey.PublicKey), false),
		},
	}
}

// deviceSpec is a Device certificate issued by the Z1 CA (real device
// certificates come from a device CA; the profile does not care).
func (p *testPKI) deviceSpec(t testing.TB, e eui.EUI, ku KeyUsage) certSpec {
	k := newKey(t)
	return certSpec{
		serial: p.nextSerial(), issuer: p.caSpec.subject,
		subject:   nameDER(),
		notBefore: t2015, notAfter: deviceNotAfter,
		pub: &k.PublicKey, signer: p.caKey,
		exts: []ext{
			extKU(true, ku),
			extSKI(false, keyID(&k.PublicKey)),
			extSAN(true, hwModuleGN(e[:])),
			extPolicies(true, oidDevicePolicy),
			extAKI(false, keyID(&p.caKey.PublicKey), false),
		},
	}
}
