// Package gbcs reads and writes the GBCS (Great Britain Companion
// Specification) frames the ECoS Party exchanges with smart-metering
// devices: the General Signing APDU (DF…) that carries a command, response or
// alert, the General Ciphering wrapper (DD…) the Access Control Broker adds
// with its GMAC, and the ASN.1 payloads of the CS02 family (CS02a
// "Provide Security Credentials Details", CS02b "Update Security
// Credentials" and its future-dated alert).
//
// Role: codec. It builds the frames the service signs and decodes the frames
// devices send back. It holds no keys and keeps no state: signing takes a
// crypto.Signer, MAC computation takes the key-agreement keys, and the caller
// decides what to trust.
//
// Trust level: parses untrusted bytes. Every parser is written on top of
// golang.org/x/crypto/cryptobyte, never panics on malformed input, returns a
// *ParseError (and nil values) on failure, and records enough of what it read
// (length forms, optional-field presence) that marshalling a parsed value
// gives back exactly the bytes it came from. That exactness matters because
// signatures and MACs cover the encoded bytes, not the decoded values.
//
// The wire formats follow the RTDS 4.5.0 reference frames; see
// docs/dcc-formats.md §3 in the shared documentation.
package gbcs
