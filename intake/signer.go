package intake

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// SignerPolicy is what a request signer is checked against.
type SignerPolicy struct {
	// OrganisationCAs anchor the signer's chain (the SMKI Organisation root
	// or issuing CA). Required: a signer that chains nowhere is refused.
	OrganisationCAs *smki.Pool
	// Intermediates may complete the chain; they are not trusted.
	Intermediates *smki.Pool
	// Role is the role the certificate must carry: XML signing (OU 87) for
	// Users' requests. Zero means smki.RoleXMLSign.
	Role smki.RemotePartyRole
	// Links, if set, remembers chains already verified: a User signs every
	// request with the same certificate.
	Links *smki.Links
}

// SignerError says why a request's signer is not acceptable. Reason is one
// of the Err* values, for errors.Is.
type SignerError struct {
	Reason error
	Detail string
}

func (e *SignerError) Error() string { return e.Reason.Error() + ": " + e.Detail }
func (e *SignerError) Unwrap() error { return e.Reason }

// Reasons a signer is refused.
var (
	ErrSignerRole       = errors.New("signer is not an XML-signing certificate")
	ErrSignerNotUser    = errors.New("signer is not the requesting User")
	ErrSignerNotTrusted = errors.New("signer does not chain to the Organisation CA")
	ErrSignerExpired    = errors.New("signer certificate not valid at receipt")
)

// BindSigner checks that cert may sign a request from originator received
// at receivedAt: BindIdentity, then the chain to the Organisation CA at
// that time.
func BindSigner(cert *smki.Certificate, originator eui.EUI, receivedAt time.Time, p SignerPolicy) error {
	if err := BindIdentity(cert, originator, p.Role); err != nil {
		return err
	}
	if p.OrganisationCAs == nil || p.OrganisationCAs.Len() == 0 {
		return &SignerError{Reason: ErrSignerNotTrusted, Detail: "no Organisation CA configured"}
	}
	_, err := smki.Verify(cert, smki.VerifyOptions{Roots: p.OrganisationCAs, Intermediates: p.Intermediates, Now: receivedAt, Links: p.Links})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, smki.Expired), errors.Is(err, smki.NotYetValid):
		return &SignerError{Reason: ErrSignerExpired, Detail: err.Error()}
	default:
		return &SignerError{Reason: ErrSignerNotTrusted, Detail: err.Error()}
	}
}

// BindIdentity is the part of BindSigner that needs no trust anchor: cert
// is an organisation certificate of role r (zero: XML signing, OU 87) with
// a digital-signing key, belonging to originator. Tools that hold no CA
// can still check it.
func BindIdentity(cert *smki.Certificate, originator eui.EUI, r smki.RemotePartyRole) error {
	if cert == nil {
		return &SignerError{Reason: ErrSignerRole, Detail: "no certificate"}
	}
	if r == 0 {
		r = smki.RoleXMLSign
	}
	if cert.Kind != smki.Organisation || cert.Role != r {
		return &SignerError{Reason: ErrSignerRole, Detail: fmt.Sprintf("serial %X is a %s %s certificate, want role %s (OU %02X)", cert.SerialNumber, cert.Kind, cert.Role, r, uint8(r))}
	}
	if cert.KeyUsage&smki.KeyUsageDigitalSignature == 0 {
		return &SignerError{Reason: ErrSignerRole, Detail: fmt.Sprintf("serial %X has key usage %s, want digitalSignature", cert.SerialNumber, cert.KeyUsage)}
	}
	if cert.EUI != originator {
		return &SignerError{Reason: ErrSignerNotUser, Detail: fmt.Sprintf("certificate serial %X belongs to %s but the RequestID originator is %s", cert.SerialNumber, cert.EUI, originator)}
	}
	return nil
}
