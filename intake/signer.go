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
// at receivedAt. The order of checks puts the cheap identity checks first
// and names the most specific fault.
func BindSigner(cert *smki.Certificate, originator eui.EUI, receivedAt time.Time, p SignerPolicy) error {
	if cert == nil {
		return &SignerError{Reason: ErrSignerRole, Detail: "no certificate"}
	}
	role := p.Role
	if role == 0 {
		role = smki.RoleXMLSign
	}
	if cert.Kind != smki.Organisation || cert.Role != role {
		return &SignerError{Reason: ErrSignerRole, Detail: fmt.Sprintf("serial %X is a %s %s certificate, want role %s (OU %02X)", cert.SerialNumber, cert.Kind, cert.Role, role, uint8(role))}
	}
	if cert.KeyUsage&smki.KeyUsageDigitalSignature == 0 {
		return &SignerError{Reason: ErrSignerRole, Detail: fmt.Sprintf("serial %X has key usage %s, want digitalSignature", cert.SerialNumber, cert.KeyUsage)}
	}
	if cert.EUI != originator {
		return &SignerError{Reason: ErrSignerNotUser, Detail: fmt.Sprintf("certificate serial %X belongs to %s but the RequestID originator is %s", cert.SerialNumber, cert.EUI, originator)}
	}
	if p.OrganisationCAs == nil || p.OrganisationCAs.Len() == 0 {
		return &SignerError{Reason: ErrSignerNotTrusted, Detail: "no Organisation CA configured"}
	}
	_, err := smki.Verify(cert, smki.VerifyOptions{Roots: p.OrganisationCAs, Intermediates: p.Intermediates, Now: receivedAt})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, smki.Expired), errors.Is(err, smki.NotYetValid):
		return &SignerError{Reason: ErrSignerExpired, Detail: err.Error()}
	default:
		return &SignerError{Reason: ErrSignerNotTrusted, Detail: err.Error()}
	}
}
