// Package authorise is the authoriser of the 6.23 pipeline (product.md §2
// steps 4 to 8): it decides whether a verified request may become a CS02b
// command. It checks the User and its role, the device, the registration
// of the MPxN at the execution date-time, the replacement certificates and
// the MPID the request was signed under. Its only way to say yes is an
// *Approved, which only this package can make, and which the signer
// requires.
//
// Trust level: trusts its inputs to have passed intake (signature verified,
// signer bound to the User); trusts nothing in the request body.
package authorise
