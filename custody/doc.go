// Package custody is the software side of the key ceremonies: the KEK's
// components (made, written for their custodians, read back, checked by
// their key check values and combined by XOR), the export of a private key
// as a PKCS#8 blob wrapped under the KEK (RFC 5649) with its manifest, the
// ceremony files (strictly decoded), the transcript every ceremony
// writes, and the ceremonies' steps, including the ECoS credential's (its
// key made on a token through package enrol, and its certificate
// request). It holds no PKCS#11 code: what happens inside an HSM is package
// hsm's.
//
// Secrets (components, the combined KEK, a clear private key) live only in
// process memory here and are cleared after use. That is best effort in
// Go: the garbage collector may have moved a slice before it was cleared,
// leaving a copy behind, and an ecdsa.PrivateKey's scalar lives inside
// crypto/ecdsa where it cannot be cleared at all; so the ceremony machine
// itself must be trusted, as in any key ceremony.
//
// Trust level: handles clear key material on the ceremony machine; only
// the ceremony commands import it, never the service.
package custody
