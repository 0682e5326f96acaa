package adt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/ecdsars"
	"github.com/ecos-cos/ecos/smki"
)

// maxSigLen is the longest DER ECDSA-Sig-Value for P-256: SEQUENCE of two
// INTEGERs of up to 33 octets each.
const maxSigLen = 72

// CertFinder looks up the certificate a signature line names. *smki.Pool
// implements it.
type CertFinder interface {
	FindByIssuerSerial(issuer smki.Name, serial *big.Int) *smki.Certificate
}

var _ CertFinder = (*smki.Pool)(nil)

// VerifyOptions says what the signing certificate must chain to, and when.
type VerifyOptions struct {
	// IKI holds the IKI File Signing CA certificate(s) that file-signing
	// certificates must chain to. Only these anchor the chain: a
	// certificate from the Organisation CA, however valid, does not sign
	// ADT files.
	IKI *smki.Pool
	// Intermediates may help reach IKI; they are not trusted.
	Intermediates *smki.Pool
	// Now is the time the certificate chain must be valid at. Required.
	Now time.Time
	// Links, if set, caches certificate signature checks.
	Links *smki.Links
}

// Verify checks that f was signed by a File Signing certificate of the
// User f names, chaining to o.IKI and valid at o.Now, over exactly the bytes
// f.Signed. It returns the signing certificate, or a *Problems naming the
// signature line.
func Verify(f *File, certs CertFinder, o VerifyOptions) (*smki.Certificate, error) {
	return verifySeal(f.User, &f.Seal, certs, o)
}

// VerifyAction is Verify for a Quarantined Communications Action File: the
// same signature line, held to the same certificate rules.
func VerifyAction(f *ActionFile, certs CertFinder, o VerifyOptions) (*smki.Certificate, error) {
	return verifySeal(f.User, &f.Seal, certs, o)
}

// verifySeal checks s for user, whichever kind of file carries it.
func verifySeal(user eui.EUI, s *Seal, certs CertFinder, o VerifyOptions) (*smki.Certificate, error) {
	fail := func(kind error, format string, args ...any) (*smki.Certificate, error) {
		var ps Problems
		ps.add(s.SignatureLine, kind, format, args...)
		return nil, ps.err()
	}
	if o.Now.IsZero() {
		return nil, errors.New("adt: VerifyOptions.Now is zero")
	}
	if s.Signer.Serial == nil || len(s.Signature) == 0 {
		return fail(ErrSignature, "file has no signature")
	}
	cert := certs.FindByIssuerSerial(s.Signer.Issuer, s.Signer.Serial)
	if cert == nil {
		return fail(ErrSigner, "no known certificate with issuer %q and serial %s", s.Signer.Issuer, s.Signer.Serial)
	}
	// A CertFinder is the caller's code: do not trust it to have matched.
	if !cert.Issuer.Equal(s.Signer.Issuer) || cert.SerialNumber.Cmp(s.Signer.Serial) != 0 {
		return fail(ErrSigner, "certificate found for issuer %q serial %s is %s", s.Signer.Issuer, s.Signer.Serial, cert)
	}
	switch {
	case cert.Kind != smki.Organisation:
		return fail(ErrSigner, "certificate %s is a %s certificate, not a File Signing certificate", cert, cert.Kind)
	case cert.Role == smki.RoleXMLSign || cert.Role == smki.RoleDSPXMLSign:
		return fail(ErrSigner, "certificate %s is an XML signing certificate, not a File Signing certificate", cert)
	case cert.KeyUsage != smki.KeyUsageDigitalSignature:
		return fail(ErrSigner, "certificate %s has key usage %s; want digitalSignature", cert, cert.KeyUsage)
	case cert.EUI != user:
		return fail(ErrSigner, "certificate %s belongs to %s, not to the file's User %s", cert, cert.EUI, user)
	case cert.PublicKey == nil:
		return fail(ErrSigner, "certificate %s has no P-256 public key", cert)
	}
	if _, err := smki.Verify(cert, smki.VerifyOptions{
		Roots: o.IKI, Intermediates: o.Intermediates, Now: o.Now, Links: o.Links,
	}); err != nil {
		return fail(ErrSigner, "certificate %s does not chain to the IKI File Signing CA at %s: %v",
			cert, o.Now.UTC().Format(time.RFC3339), err)
	}
	if !verifySignature(cert.PublicKey, s.Signed, s.Signature) {
		return fail(ErrSignature, "signature does not verify under certificate %s over the %d bytes before the signature line", cert, len(s.Signed))
	}
	return cert, nil
}

// verifySignature accepts r‖s (the format's own encoding) or DER.
func verifySignature(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	digest := sha256.Sum256(msg)
	if len(sig) == 64 {
		sig = ecdsars.ToDER(sig)
	}
	return ecdsa.VerifyASN1(pub, digest[:], sig)
}

// Sign appends the signature line to body and returns the whole file. body
// is the header and rows of an ADT file or of an action file, which share
// the signature line, every line terminated; the signature line ends in
// the same line ending as body's last line. The signature is ECDSA P-256
// over SHA-256 of body, written as 64-byte r‖s. cert must be the signer's
// certificate: its issuer and serial name it in the file.
func Sign(body []byte, signer crypto.Signer, cert *smki.Certificate, rnd io.Reader) ([]byte, error) {
	if !bytes.HasSuffix(body, []byte("\n")) {
		return nil, errors.New("adt: sign: body must end with a line ending")
	}
	pub, ok := signer.Public().(*ecdsa.PublicKey)
	if !ok || cert.PublicKey == nil || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("adt: sign: key does not match certificate %s", cert)
	}
	digest := sha256.Sum256(body)
	der, err := signer.Sign(rnd, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("adt: sign: %w", err)
	}
	rs, err := derToRS(der)
	if err != nil {
		return nil, fmt.Errorf("adt: sign: signer returned %w", err)
	}
	eol := "\n"
	if bytes.HasSuffix(body, []byte("\r\n")) {
		eol = "\r\n"
	}
	out := make([]byte, 0, len(body)+200)
	out = append(out, body...)
	out = append(out, sigTag+","+encodeIssuer(cert.Issuer)+","+cert.SerialNumber.String()+","+
		base64.StdEncoding.EncodeToString(rs)+eol...)
	return out, nil
}

// derToRS converts a DER ECDSA-Sig-Value to the fixed 64-byte r‖s form.
func derToRS(der []byte) ([]byte, error) {
	rs, ok := ecdsars.FromDER(der)
	if !ok {
		return nil, errors.New("a malformed P-256 ECDSA signature")
	}
	return rs[:], nil
}

// encodeIssuer writes the issuer DN as the ADT signature line carries it:
// RFC 2253 with ", " between RDNs, form-encoded. product.md §4 shows
// "CN%3DIKI+File+Signing+CA%2C+OU%3DissuingAuthority%2C+O%3DDCC", the
// Java X500Principal.toString() spacing; smki.ParseName reads either spacing.
func encodeIssuer(n smki.Name) string {
	s := n.String()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		switch s[i] {
		case '\\':
			// An escaped character, such as "\,", is part of a value.
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case ',':
			b.WriteByte(' ')
		}
	}
	return url.QueryEscape(b.String())
}
