// Package smki parses and checks the certificates of the GB Smart Metering
// Key Infrastructure: Organisation certificates (suppliers, the
// transitional CoS party, the DCC's XML signers, ...), Organisation CA
// certificates and Device certificates.
//
// It exists because crypto/x509 cannot parse SMKI Organisation
// certificates (the x500UniqueIdentifier in their subject is a BIT STRING,
// golang/go#69463), and because SMKI adds rules of its own on top of
// RFC 5280: the GBCS certificate profile, the remote-party role in the
// subject OU and the entity EUI-64 in the subject or the SAN.
//
// Trust level: Parse, ParsePEM, ParseName and ParseKeystore take untrusted
// bytes and never panic on them. A parsed Certificate is only decoded, not
// trusted: CheckProfile says whether it follows the SMKI profile and Verify
// says whether it chains to a configured trust anchor at a given time.
// Neither reads the clock, the network or any global state. The package
// never logs.
package smki
