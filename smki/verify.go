package smki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Reason says why a certificate failed path validation. It is an error so
// callers can write errors.Is(err, smki.Expired).
type Reason int

const (
	_ Reason = iota
	Expired
	NotYetValid
	UnknownIssuer
	BadSignature
	NotCA
	PathLenExceeded
	UnsupportedAlgorithm
	UnhandledCriticalExtension
)

var reasonNames = map[Reason]string{
	Expired:                    "expired",
	NotYetValid:                "not yet valid",
	UnknownIssuer:              "unknown issuer",
	BadSignature:               "bad signature",
	NotCA:                      "issuer is not a CA",
	PathLenExceeded:            "path length constraint exceeded",
	UnsupportedAlgorithm:       "unsupported algorithm",
	UnhandledCriticalExtension: "unhandled critical extension",
}

func (r Reason) Error() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// VerifyError names the certificate at fault and why, like
// crypto/x509.CertificateInvalidError.
type VerifyError struct {
	Reason Reason
	Cert   *Certificate
	Detail string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("smki: certificate %v: %v: %s", e.Cert, e.Reason, e.Detail)
}

func (e *VerifyError) Unwrap() error { return e.Reason }

// ErrNoTime is returned when VerifyOptions.Now is zero and SkipTime is
// false: validating "now" must be a decision of the caller's clock, never
// an accident of this package reading one.
var ErrNoTime = errors.New("smki: VerifyOptions.Now is zero")

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Roots are the trust anchors. An anchor need not be self-signed: the
	// ZAZ1 issuing CA Z1 can anchor a chain on its own.
	Roots *Pool
	// Intermediates may be used to reach a root; they are not trusted.
	Intermediates *Pool
	// Now is the time every certificate of the chain must be valid at.
	Now time.Time
	// SkipTime disables the validity-period checks, for the GBCS cases
	// where certification path validation at a time is disapplied.
	SkipTime bool
	// Links, if set, remembers the certificate signatures already checked
	// so a chain seen before costs no ECDSA verify.
	Links *Links

	// checks counts the issuer signatures this Verify has tried.
	checks int
}

// maxSignatureChecks bounds the issuer signatures one Verify tries, as
// crypto/x509 bounds its own: the search is depth first over every
// candidate issuer, so intermediates an attacker supplies (a 6.23's
// CertificationPathCertificates) that share a name and a key would
// otherwise make it try every ordering of them, factorially many. A real
// SMKI chain needs two.
const maxSignatureChecks = 100

// maxChainLen bounds the search; SMKI chains are at most root, issuing CA,
// end entity.
const maxChainLen = 6

// Verify builds a chain from cert to one of opts.Roots and checks it:
// issuer name and AKI/SKI linkage, ECDSA P-256 SHA-256 signatures,
// basicConstraints cA and keyCertSign on every issuer, pathLenConstraint,
// validity at opts.Now (unless SkipTime) for every certificate including
// the anchor, and no unhandled critical extensions. It returns the chain,
// leaf first and anchor last. It does not apply CheckProfile.
func Verify(cert *Certificate, opts VerifyOptions) ([]*Certificate, error) {
	if cert == nil {
		return nil, errors.New("smki: Verify of a nil certificate")
	}
	if opts.Now.IsZero() && !opts.SkipTime {
		return nil, ErrNoTime
	}
	return opts.extend([]*Certificate{cert})
}

// extend checks the last certificate of chain and searches for its issuer
// depth first. When every candidate fails, the first failure is reported:
// candidates are ordered by how well they match, so it is the most telling.
func (o *VerifyOptions) extend(chain []*Certificate) ([]*Certificate, error) {
	c := chain[len(chain)-1]
	if err := o.checkAlone(c); err != nil {
		return nil, err
	}
	if o.Roots.Contains(c) {
		return chain, nil
	}
	if len(chain) >= maxChainLen {
		return nil, &VerifyError{UnknownIssuer, c, fmt.Sprintf("no trust anchor within %d certificates", maxChainLen)}
	}
	candidates := o.issuerCandidates(chain)
	if len(candidates) == 0 {
		return nil, &VerifyError{UnknownIssuer, c, fmt.Sprintf("no known CA %q with key identifier %X", c.Issuer.String(), c.AuthorityKeyID)}
	}
	var first error
	for _, parent := range candidates {
		if o.checks++; o.checks > maxSignatureChecks {
			return nil, &VerifyError{UnknownIssuer, c, fmt.Sprintf("too many candidate issuers: gave up after %d issuer signatures", maxSignatureChecks)}
		}
		err := o.checkIssued(chain, parent)
		if err == nil {
			var full []*Certificate
			if full, err = o.extend(append(chain[:len(chain):len(chain)], parent)); err == nil {
				return full, nil
			}
			if o.checks > maxSignatureChecks {
				return nil, err // the budget ran out below: stop here too
			}
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// checkAlone applies the checks that need no issuer.
func (o *VerifyOptions) checkAlone(c *Certificate) error {
	if !o.SkipTime {
		if o.Now.Before(c.NotBefore) {
			return &VerifyError{NotYetValid, c, fmt.Sprintf("at %s, notBefore %s", o.Now.UTC().Format(time.RFC3339), c.NotBefore.Format(time.RFC3339))}
		}
		if o.Now.After(c.NotAfter) {
			return &VerifyError{Expired, c, fmt.Sprintf("at %s, notAfter %s", o.Now.UTC().Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))}
		}
	}
	if ids := c.unhandledCritical(); len(ids) > 0 {
		return &VerifyError{UnhandledCriticalExtension, c, fmt.Sprintf("%v", ids)}
	}
	return nil
}

// issuerCandidates lists the roots, then the intermediates, whose subject
// matches the issuer name and whose SKI does not contradict the AKI.
// Certificates already in the chain are left out so loops cannot form.
func (o *VerifyOptions) issuerCandidates(chain []*Certificate) []*Certificate {
	c := chain[len(chain)-1]
	var out []*Certificate
	for _, p := range []*Pool{o.Roots, o.Intermediates} {
		for _, cand := range p.FindBySubject(c.Issuer) {
			if len(c.AuthorityKeyID) > 0 && len(cand.SubjectKeyID) > 0 && !bytes.Equal(c.AuthorityKeyID, cand.SubjectKeyID) {
				continue
			}
			if slices.ContainsFunc(chain, cand.Equal) || slices.ContainsFunc(out, cand.Equal) {
				continue
			}
			out = append(out, cand)
		}
	}
	return out
}

// checkIssued checks that parent may have issued the last certificate of
// chain and did.
func (o *VerifyOptions) checkIssued(chain []*Certificate, parent *Certificate) error {
	child := chain[len(chain)-1]
	if err := o.Links.CheckSignatureFrom(child, parent); err != nil {
		return err
	}
	// Every certificate below parent except the leaf is a CA it vouches
	// for; pathLenConstraint caps their number.
	if below := len(chain) - 1; parent.MaxPathLen >= 0 && below > parent.MaxPathLen {
		return &VerifyError{PathLenExceeded, parent, fmt.Sprintf("pathLenConstraint %d, %d CA certificates below it", parent.MaxPathLen, below)}
	}
	return nil
}

// CheckSignatureFrom checks that parent is a CA allowed to sign
// certificates and that its key signed c. Errors are *VerifyError.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	if parent == nil {
		return &VerifyError{UnknownIssuer, c, "no issuer certificate given"}
	}
	if !parent.BasicConstraintsValid || !parent.IsCA {
		return &VerifyError{NotCA, parent, "basicConstraints cA is not set"}
	}
	if parent.KeyUsage&KeyUsageCertSign == 0 {
		return &VerifyError{NotCA, parent, "keyUsage lacks keyCertSign"}
	}
	if parent.PublicKey == nil {
		return &VerifyError{UnsupportedAlgorithm, parent, "issuer key is not an uncompressed P-256 point"}
	}
	switch c.checkSignature(parent.PublicKey) {
	case UnsupportedAlgorithm:
		return &VerifyError{UnsupportedAlgorithm, c, fmt.Sprintf("signature algorithm %v, want ecdsa-with-SHA256", c.SignatureAlgorithm)}
	case BadSignature:
		return &VerifyError{BadSignature, c, fmt.Sprintf("not signed by the key of %v", parent)}
	}
	return nil
}

// checkSignature returns 0, UnsupportedAlgorithm or BadSignature.
func (c *Certificate) checkSignature(pub *ecdsa.PublicKey) Reason {
	if !c.SignatureAlgorithm.Equal(oidSignatureECDSAWithSHA256) {
		return UnsupportedAlgorithm
	}
	h := sha256.Sum256(c.RawTBSCertificate)
	if !ecdsa.VerifyASN1(pub, h[:], c.Signature) {
		return BadSignature
	}
	return 0
}

// IsSelfSigned reports whether c names itself as issuer and its own key
// verifies its signature.
func (c *Certificate) IsSelfSigned() bool {
	return c.Issuer.Equal(c.Subject) && c.PublicKey != nil && c.checkSignature(c.PublicKey) == 0
}
