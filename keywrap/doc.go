// Package keywrap is AES Key Wrap with Padding (RFC 5649, NIST SP 800-38F
// KWP) on its RFC 3394 core, the format a private key
// travels in from the old TCoS service to the ECoS Party's HSM under a
// key-encryption key (product.md §7), and the key check values custodians
// compare during a KEK ceremony.
//
// It is written here because no fetchable Go module does RFC 5649
// correctly (dependencies.md). Unwrapping reveals nothing about why a
// blob was refused: every failure, whatever check it met, is ErrUnwrap,
// and the integrity checks compare in constant time.
//
// Trust level: pure functions of their inputs; no I/O, no state.
package keywrap
