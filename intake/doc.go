// Package intake is the edge of the ECoS Party: what a DUIS request must be
// before anything else looks at it. It holds the end of step 1 of
// product.md §2 (Admit: Command Variant 1 only, and nothing the CS02b
// cannot carry, found before the request is acknowledged) and the signer
// binding of step 2: the certificate that signed a request must be an
// XML-signing certificate of the requesting User, valid when the request
// arrived, issued under the Organisation CA.
//
// Trust level: handles untrusted requests; decides nothing about devices
// or registration (that is the authoriser's job).
package intake
