package testpki

import (
	"encoding/asn1"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// testNow is a fixed start of validity; 25-year CAs then end in 2051, which
// exercises the GeneralizedTime rule.
var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func generate(t testing.TB, o Options) *PKI {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = testNow
	}
	if o.Rand == nil {
		o.Rand = seeded(1)
	}
	p, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// certParts is a certificate taken apart with cryptobyte, independently of
// the code under test, so tests can compare exact encodings.
type certParts struct {
	tbs        []byte
	version    int64
	serial     []byte // INTEGER content octets
	sigAlg     []byte // AlgorithmIdentifier element, inner
	issuer     []byte // Name element
	subject    []byte // Name element
	timeTags   [2]cbasn1.Tag
	times      [2]string
	spkiAlg    []byte // AlgorithmIdentifier element in the SPKI
	point      []byte // subjectPublicKey BIT STRING value
	exts       []certExt
	outerAlg   []byte
	signature  []byte
	extsByName map[string]certExt
}

type certExt struct {
	oid      string
	critical bool
	value    []byte
}

func parseParts(t testing.TB, der []byte) *certParts {
	t.Helper()
	p := &certParts{extsByName: map[string]certExt{}}
	in := cryptobyte.String(der)
	var cert, tbs, tbsBody, outerAlg, validity, spki, ver cryptobyte.String
	var sig asn1.BitString
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() ||
		!cert.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) ||
		!cert.ReadASN1BitString(&sig) || !cert.Empty() {
		t.Fatal("malformed Certificate")
	}
	p.tbs, p.outerAlg, p.signature = tbs, outerAlg, sig.Bytes
	var serial, sigAlg, issuer, subject, spkiAlg cryptobyte.String
	var point asn1.BitString
	if !tbs.ReadASN1(&tbsBody, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1(&ver, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ver.ReadASN1Int64WithTag(&p.version, cbasn1.INTEGER) ||
		!tbsBody.ReadASN1(&serial, cbasn1.INTEGER) ||
		!tbsBody.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1(&validity, cbasn1.SEQUENCE) {
		t.Fatal("malformed TBSCertificate head")
	}
	for i := range 2 {
		var v cryptobyte.String
		if !validity.ReadAnyASN1(&v, &p.timeTags[i]) {
			t.Fatal("malformed Validity")
		}
		p.times[i] = string(v)
	}
	var extsOuter, exts cryptobyte.String
	if !tbsBody.ReadASN1Element(&subject, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1(&spki, cbasn1.SEQUENCE) ||
		!spki.ReadASN1Element(&spkiAlg, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&point) ||
		!tbsBody.ReadASN1(&extsOuter, cbasn1.Tag(3).Constructed().ContextSpecific()) ||
		!extsOuter.ReadASN1(&exts, cbasn1.SEQUENCE) || !tbsBody.Empty() {
		t.Fatal("malformed TBSCertificate tail")
	}
	p.serial, p.sigAlg, p.issuer, p.subject, p.spkiAlg, p.point = serial, sigAlg, issuer, subject, spkiAlg, point.Bytes
	for !exts.Empty() {
		var e cryptobyte.String
		var oid asn1.ObjectIdentifier
		var x certExt
		if !exts.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&oid) ||
			(e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.ReadASN1Boolean(&x.critical)) ||
			!e.ReadASN1Bytes(&x.value, cbasn1.OCTET_STRING) || !e.Empty() {
			t.Fatal("malformed Extension")
		}
		x.oid = oid.String()
		p.exts = append(p.exts, x)
		p.extsByName[extNames[x.oid]] = x
	}
	return p
}

var extNames = map[string]string{
	"2.5.29.15": "keyUsage",
	"2.5.29.14": "ski",
	"2.5.29.17": "san",
	"2.5.29.19": "basicConstraints",
	"2.5.29.32": "policies",
	"2.5.29.35": "aki",
}

// extOrder lists extension names with a "!" for critical ones.
func (p *certParts) extOrder() []string {
	var out []string
	for _, e := range p.exts {
		n := extNames[e.oid]
		if n == "" {
			n = e.oid
		}
		if e.critical {
			n += "!"
		}
		out = append(out, n)
	}
	return out
}

// attrShape lists a Name's attribute types with their string tags.
func attrShape(t testing.TB, name []byte) []string {
	t.Helper()
	var out []string
	in := cryptobyte.String(name)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		t.Fatal("malformed Name")
	}
	for !seq.Empty() {
		var set, atv cryptobyte.String
		var oid asn1.ObjectIdentifier
		var tag cbasn1.Tag
		var v cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !set.Empty() ||
			!atv.ReadASN1ObjectIdentifier(&oid) || !atv.ReadAnyASN1(&v, &tag) {
			t.Fatal("malformed RDN")
		}
		out = append(out, oid.String()+"/"+tagName(tag))
	}
	return out
}

func tagName(tag cbasn1.Tag) string {
	switch tag {
	case cbasn1.PrintableString:
		return "PrintableString"
	case cbasn1.UTF8String:
		return "UTF8String"
	case cbasn1.BIT_STRING:
		return "BIT STRING"
	case cbasn1.UTCTime:
		return "UTCTime"
	case cbasn1.GeneralizedTime:
		return "GeneralizedTime"
	}
	return "?"
}
