package xmldsig

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/ecos-cos/ecos/smki"
)

// Verified is the result of a successful Verify.
type Verified struct {
	// Signer is the certificate X509IssuerSerial named, as returned by the
	// CertFinder. Verify checks only that its key made the signature:
	// whether that signer may send this message (role, validity, chain) is
	// the caller's decision.
	Signer *smki.Certificate

	// Digested is exactly the inclusive-C14N byte string whose SHA-256 is
	// the signed DigestValue: the document without its signature, comments
	// or DTD, as canonical XML. Callers must decode these bytes, never the
	// original document: only these are covered by the signature.
	Digested []byte

	// SignedInfo is the exclusive-C14N ds:SignedInfo the signature covers,
	// and SignatureValue the 64-byte r‖s; both are kept for audit records.
	SignedInfo     []byte
	SignatureValue []byte
}

// Verify checks the DUIS enveloped signature of doc against the signer
// certificate certs resolves. Every failure is an *Error whose Reason says
// whether the input was malformed or the signature invalid.
//
// White space is read as the DCC's validator reads it: a document is
// valid if its signature verifies once the white-space-only text between
// elements is removed (a compact-signed document indented afterwards), or
// else as given (a signer that digested its indentation). White space
// inside a value is never touched.
//
// The order is fixed: screening and parsing, the signature's position and
// profile, the signer, the signature over SignedInfo, and last the digest.
// The signature is checked before the digest so that the DigestValue used
// in the comparison is already authenticated.
func Verify(doc []byte, certs CertFinder, opts ...Option) (*Verified, error) {
	return verify(doc, certs, newLimits(opts), checkECDSA)
}

// valueCheck decides whether value is a signature by signer over the
// canonical signedInfo.
type valueCheck func(signer *smki.Certificate, signedInfo, value []byte) bool

func checkECDSA(signer *smki.Certificate, signedInfo, value []byte) bool {
	h := sha256.Sum256(signedInfo)
	return ecdsa.VerifyASN1(signer.PublicKey, h[:], rsToDER(value))
}

func verify(doc []byte, certs CertFinder, lim limits, check valueCheck) (*Verified, error) {
	d, err := parse(doc, lim)
	if err != nil {
		return nil, err
	}
	compact := d.compact()
	if compact == nil {
		return verifyDocument(d, certs, check)
	}
	// First as the DCC's validator reads it, without the white space
	// between elements: a document the DCC signed compact and someone
	// indented afterwards still verifies. Then as given, for a document
	// whose signer digested that white space (xmlsec1, sign
	// --keep-whitespace). Either way Digested is exactly what was hashed.
	c, err := parse(compact, lim)
	if err != nil {
		return nil, err
	}
	v, err := verifyDocument(c, certs, check)
	if err == nil {
		return v, nil
	}
	if v, asGiven := verifyDocument(d, certs, check); asGiven == nil {
		return v, nil
	}
	return nil, err
}

func verifyDocument(d *document, certs CertFinder, check valueCheck) (*Verified, error) {
	sigEl, err := findSignature(d.root)
	if err != nil {
		return nil, err
	}
	sig, err := checkSignature(sigEl)
	if err != nil {
		return nil, err
	}
	if err := checkCanonicalisable(d.root); err != nil {
		return nil, err
	}
	is, err := parseKeyInfo(sig.keyInfo)
	if err != nil {
		return nil, err
	}
	signer, err := findSigner(certs, is)
	if err != nil {
		return nil, err
	}

	signedInfo, err := canonicalSignedInfo(sig.signedInfo)
	if err != nil {
		return nil, errorf(ProfileViolation, "canonicalising ds:SignedInfo: %v", err)
	}
	if !check(signer, signedInfo, sig.value) {
		return nil, errorf(BadSignature, "ds:SignatureValue does not verify with the key of certificate %q serial %s",
			excerpt(is.text), is.serial)
	}

	// The enveloped-signature transform: the document minus the Signature
	// element. Surrounding whitespace stays, as the transform requires.
	d.root.RemoveChild(sigEl)
	digested, err := canonicalDocument(d.root)
	if err != nil {
		return nil, errorf(Malformed, "canonicalising the document: %v", err)
	}
	sum := sha256.Sum256(digested)
	if subtle.ConstantTimeCompare(sum[:], sig.digest) != 1 {
		return nil, errorf(DigestMismatch, "the document does not match the signed ds:DigestValue: it was changed after signing")
	}
	return &Verified{
		Signer:         signer,
		Digested:       digested,
		SignedInfo:     signedInfo,
		SignatureValue: sig.value,
	}, nil
}
