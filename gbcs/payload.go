package gbcs

import "golang.org/x/crypto/cryptobyte"

// DecodePayload decodes m's content according to its message code and CRA
// flag. It returns (nil, nil) for a payload this package has no decoder for
// (other use cases, or content that is not ASN.1), so callers can still show
// the header and the raw bytes. Every value it returns marshals back to
// m.Content.
func DecodePayload(m *Message) (cryptobyte.MarshalingValue, error) {
	switch {
	case m.Code.IsCS02b() && m.CRA == CRACommand:
		return nilIfErr(ParseUpdateSecurityCredentials(m.Content))
	case m.Code.IsCS02b() && m.CRA == CRAResponse:
		return nilIfErr(ParseUpdateSecurityCredentialsResponse(m.Content))
	case m.Code == CodeFutureDatedAlert && m.CRA == CRAAlert:
		return nilIfErr(ParseUpdateSecurityCredentialsAlert(m.Content))
	case m.Code == CodeProvideSecurityCredentials && m.CRA == CRACommand:
		return nilIfErr(ParseProvideSecurityCredentialDetails(m.Content))
	case m.Code == CodeProvideSecurityCredentials && m.CRA == CRAResponse:
		return nilIfErr(ParseProvideSecurityCredentialDetailsResponse(m.Content))
	}
	return nil, nil
}

// nilIfErr keeps a typed nil pointer from turning into a non-nil interface
// on error.
func nilIfErr[T cryptobyte.MarshalingValue](v T, err error) (cryptobyte.MarshalingValue, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}
