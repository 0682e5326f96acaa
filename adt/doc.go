// Package adt reads, checks, signs and verifies Anomaly Detection Threshold
// (ADT) files: the signed CSV in which a User tells the ECoS Party how many
// requests of each DUIS Service Reference Variant it may send in a window
// before a warning and before quarantine (product.md §4, domain.md §3).
//
// A file is handled in four steps, each its own function so that the
// caller decides the order and what it trusts: Parse reads the structure,
// Validate applies the threshold rules (Read does both and reports their
// problems together), Verify checks the signature line against a File
// Signing certificate chaining to the IKI File Signing CA, and
// CheckSequence refuses replays. Effective then gives the thresholds the
// file puts in force, with zero thresholds for critical SRVs it left out.
// Sign writes the signature line, for tools and tests.
//
// The Quarantined Communications Action File (ParseAction, VerifyAction),
// with which a User releases or deletes its held requests, shares the
// layout rules and the signature line; Sniff tells the two kinds apart.
// ParseRows reads bare threshold rows, the form of the operator's DCC-wide
// thresholds.
//
// Role: codec and rule checker. It keeps no state: the last accepted
// sequence number, the certificates and the trust anchors come from the
// caller, and so does the time.
//
// Trust level: parses untrusted bytes. Parse never panics, bounds the input
// at MaxSize, and on failure returns a nil File and a *Problems listing
// every problem found with its 1-based line number, so a rejected file
// changes nothing and its submitter can fix everything in one go. A parsed
// File is not trusted until Validate, Verify and CheckSequence have all
// accepted it.
package adt
