package smki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/ecos-cos/ecos/eui"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidExtensionRequest is PKCS#9's extensionRequest attribute (RFC 2985
// §5.4.2), the one way a PKCS#10 request asks for extensions.
var oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}

// Request is a decoded PKCS#10 certification request (RFC 2986) for an
// SMKI Organisation certificate. Parsing does not judge it: CheckSignature
// says whether its key signed it, CheckProfile whether the certificate it
// asks for would follow the SMKI Organisation profile.
type Request struct {
	Raw                     []byte // the whole DER request
	RawRequestInfo          []byte // the signed part
	RawSubjectPublicKeyInfo []byte

	Subject   Name
	PublicKey *ecdsa.PublicKey // nil unless an uncompressed P-256 point

	SignatureAlgorithm asn1.ObjectIdentifier
	Signature          []byte

	// Extensions are the ones the extensionRequest attribute asks for;
	// KeyUsage is decoded from them.
	Extensions []Extension
	KeyUsage   KeyUsage
	// Attributes lists the types of the request's attributes other than
	// extensionRequest (a challengePassword, say), which SMKI has no use for.
	Attributes []asn1.ObjectIdentifier

	// The identity the subject claims, derived as for a certificate.
	Role       RemotePartyRole
	EUI        eui.EUI
	CommonName string

	// c holds the fields a request shares with a certificate, so the
	// profile checker judges both with the same rules.
	c *Certificate
}

// ParseRequest decodes one DER PKCS#10 request; der must hold exactly one
// and nothing else. Every failure is a *ParseError; it never panics.
func ParseRequest(der []byte) (*Request, error) {
	c := &Certificate{Raw: bytes.Clone(der), MaxPathLen: -1, Role: RoleNone, Version: 3}
	r := &Request{Raw: c.Raw, c: c}
	in := cryptobyte.String(c.Raw)
	var req, info, sigAlg, algBody cryptobyte.String
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errorf("request: not a single DER SEQUENCE")
	}
	if !req.ReadASN1Element(&info, cbasn1.SEQUENCE) ||
		!req.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!req.ReadASN1BitStringAsBytes(&r.Signature) || !req.Empty() {
		return nil, errorf("request: malformed structure")
	}
	c.rawSignatureAlgorithm = sigAlg
	if !sigAlg.ReadASN1(&algBody, cbasn1.SEQUENCE) || !algBody.ReadASN1ObjectIdentifier(&r.SignatureAlgorithm) {
		return nil, errorf("request: malformed signature algorithm")
	}
	c.SignatureAlgorithm = r.SignatureAlgorithm
	r.RawRequestInfo = info
	if err := r.parseInfo(info); err != nil {
		return nil, err
	}
	c.Kind = Organisation
	c.deriveIdentity()
	r.Role, r.EUI, r.CommonName = c.Role, c.EUI, c.CommonName
	r.Subject, r.PublicKey, r.RawSubjectPublicKeyInfo = c.Subject, c.PublicKey, c.RawSubjectPublicKeyInfo
	r.Extensions, r.KeyUsage = c.Extensions, c.KeyUsage
	return r, nil
}

func (r *Request) parseInfo(info cryptobyte.String) error {
	c := r.c
	var body, subject, spki, attrs cryptobyte.String
	var version int64
	if !info.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1Integer(&version) {
		return errorf("request: malformed certificationRequestInfo")
	}
	if version != 0 {
		return errorf("request: version %d, want 0 (v1)", version)
	}
	if !body.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return errorf("request: malformed subject")
	}
	var err error
	if c.Subject, err = parseName(subject, "request subject"); err != nil {
		return err
	}
	if !body.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return errorf("request: malformed subjectPublicKeyInfo")
	}
	if err := c.parseSPKI(spki); err != nil {
		return err
	}
	if !body.ReadASN1(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) || !body.Empty() {
		return errorf("request: malformed attributes")
	}
	for !attrs.Empty() {
		var attr, values cryptobyte.String
		var typ asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&typ) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return errorf("request: malformed attribute")
		}
		if !typ.Equal(oidExtensionRequest) {
			r.Attributes = append(r.Attributes, typ)
			continue
		}
		// One extensionRequest with one value: two would leave it
		// ambiguous which extensions were asked for.
		var exts cryptobyte.String
		if c.Extensions != nil || !values.ReadASN1Element(&exts, cbasn1.SEQUENCE) || !values.Empty() {
			return errorf("request: extensionRequest is not exactly one list of extensions")
		}
		if err := c.parseExtensions(exts); err != nil {
			return err
		}
		if c.Extensions == nil {
			c.Extensions = []Extension{}
		}
	}
	return nil
}

// ParseRequestPEM decodes a request from one PEM "CERTIFICATE REQUEST"
// block (the form openssl writes; "NEW CERTIFICATE REQUEST" too), or from
// DER.
func ParseRequestPEM(data []byte) (*Request, error) {
	blk, rest := pem.Decode(data)
	if blk == nil {
		return ParseRequest(data)
	}
	if blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
		return nil, errorf("request: PEM block %q, want CERTIFICATE REQUEST", blk.Type)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errorf("request: data after the PEM block")
	}
	return ParseRequest(blk.Bytes)
}

// ErrRequestSignature is returned by CheckSignature for a request its own
// key did not sign.
var ErrRequestSignature = errors.New("smki: the request is not signed by the key it carries")

// CheckSignature checks that the request's own key signed it with
// ecdsa-with-SHA256: proof that whoever asks for the certificate holds
// the private key.
func (r *Request) CheckSignature() error {
	if !r.SignatureAlgorithm.Equal(oidSignatureECDSAWithSHA256) {
		return fmt.Errorf("smki: request signature algorithm %v, want ecdsa-with-SHA256", r.SignatureAlgorithm)
	}
	if r.PublicKey == nil {
		return fmt.Errorf("smki: the request's public key is not a P-256 point, so its signature cannot be checked")
	}
	h := sha256.Sum256(r.RawRequestInfo)
	if !ecdsa.VerifyASN1(r.PublicKey, h[:], r.Signature) {
		return ErrRequestSignature
	}
	return nil
}

// requestExtensions are the extensions a request may ask for: the key
// usage, and a subject key identifier the CA replaces with its own
// (method 2). Everything else an Organisation certificate carries is the
// CA's to set.
var requestExtensions = []asn1.ObjectIdentifier{oidExtKeyUsage, oidExtSubjectKeyID}

// CheckProfile reports every way the certificate r asks for would break
// the SMKI Organisation profile, as *ProfileError values joined with
// errors.Join, or nil: a P-256 key and ecdsa-with-SHA256; a subject of an
// optional CN, one OU with a known non-CA role and one
// x500UniqueIdentifier of 64 bits; a critical keyUsage of exactly
// digitalSignature or exactly keyAgreement; no other attribute and no
// extension a CA would have to refuse. It does not check the signature:
// that is CheckSignature's job.
func (r *Request) CheckProfile() error {
	p := &profileChecker{c: r.c}
	c := r.c
	p.signatureAlgorithm()
	p.publicKey()
	if ku := c.Extension(oidExtKeyUsage); ku == nil {
		p.fail(FieldKeyUsage, "not requested (want a critical digitalSignature or keyAgreement)")
	} else if !ku.Critical {
		p.fail(FieldKeyUsage, "requested not critical")
	}
	for _, e := range c.Extensions {
		allowed := false
		for _, id := range requestExtensions {
			allowed = allowed || e.ID.Equal(id)
		}
		if !allowed {
			p.fail(FieldExtensions, "requests extension %v, which an Organisation certificate request may not (only keyUsage)", e.ID)
		}
	}
	for _, a := range r.Attributes {
		p.fail("attributes", "attribute %v: only extensionRequest may be given", a)
	}
	p.organisation()
	return errors.Join(p.errs...)
}
