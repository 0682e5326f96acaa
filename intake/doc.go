// Package intake is the edge of the ECoS Party: what a DUIS request must be
// before anything else looks at it. This version holds the signer binding
// of product.md §2 step 2: the certificate that signed a request must be an
// XML-signing certificate of the requesting User, valid when the request
// arrived, issued under the Organisation CA.
//
// Trust level: handles untrusted requests; decides nothing about devices
// or registration (that is the authoriser's job).
package intake
