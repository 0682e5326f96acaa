// Package xmldsig verifies and produces the enveloped XML signature that
// every DUIS message carries (DUIS 5.x, as the DCC Boxed signing tool and
// the DSP produce it), and nothing else.
//
// Role: codec for the DUIS signature profile, docs/dcc-formats.md §2.5:
//
//   - SignedInfo: exclusive C14N, ECDSA-SHA256, exactly one Reference
//     URI="" whose only Transform is enveloped-signature, SHA-256 digest;
//   - the digest covers the inclusive C14N 1.0 (no comments) of the whole
//     document with the ds:Signature element removed;
//   - SignatureValue is the 64-byte r‖s of ECDSA P-256;
//   - KeyInfo names the signer only by X509IssuerSerial, resolved against
//     the caller's certificate store (CertFinder).
//
// Verify is deliberately not a general XML-DSig implementation: anything
// outside that profile (other algorithms, Id references, extra transforms,
// Objects, Manifests, a second signature, a signature that is not the last
// child of the root) is refused before any cryptography runs, which is what
// shuts out signature-wrapping attacks. Sign produces exactly that profile,
// in the shape the Java reference signer emits, and changes no byte of the
// document outside the ds:Signature element but its indentation.
//
// White space is read as the DCC's Java signer and validator read it: they
// parse with the DUIS schema and drop white-space-only text in
// element-only content before signing and before validating. Sign drops it
// too (KeepWhitespace signs the bytes as given); Verify accepts a document
// whose signature holds once it is dropped (signed compact, indented
// afterwards) or as given. Text in an element without children is a value
// and is never touched.
//
// Two legal XML constructs are refused (ProfileViolation) because the
// canonical form computed here would differ from libxml2's and Java's, and
// a silent digest mismatch would be the worse answer: attributes from more
// than one namespace on one element (goxmldsig orders them by local name,
// not namespace URI) and a literal tab or line break inside an attribute
// value (encoding/xml does not normalise it to a space). DUIS uses
// neither. Everything else is compared byte for byte with xmllint's C14N
// in the tests, on the DCC vectors and on generated documents.
//
// Trust level: parses untrusted XML. Input is size- and depth-limited,
// DTDs and processing instructions are refused (so no entity expansion or
// external fetch can happen: encoding/xml also refuses unknown entities),
// and the namespace well-formedness rules encoding/xml skips are enforced
// before a DOM is built. The only bytes a caller may trust after Verify are
// Verified.Digested: the canonical form that was actually hashed. Decode
// those, never the original document, so nothing the canonicaliser drops
// (comments, character references, attribute order, redundant namespace declarations)
// can smuggle content past the signature.
//
// The package never logs, reads no clock and keeps no state; signing takes
// a crypto.Signer and an io.Reader.
package xmldsig
