// Package duis is the DCC User Interface Specification (DUIS 5.4) XML model
// for what the ECoS party reads and writes:
//
//   - requests: the sr:Request envelope, RequestIDs and the SR 6.23 body
//     (DecodeRequest; NewUpdateSecurityCredentialsCoS and Request.Encode
//     to build one);
//   - responses: the acknowledgement, the service response carrying the
//     device's GBCS payload, and the DCC alerts QuarantinedRequest,
//     ChangeOfSupplier, ECoSAlert and CoSCertificateAlert (Response.Encode,
//     DecodeResponse);
//   - the ResponseCode and DCCAlertCode enumerations.
//
// Encoders write deterministic bytes (no clock, no indentation, schema
// order) that validate against the DUIS 5.4 XSD, and every decoder
// gives back the value that was encoded; Validate methods report values the
// schema does not allow as *ValueError before anything is written.
//
// Trust level: parses untrusted XML. It refuses DTDs and unknown entities,
// insists on the schema's element order, refuses unknown elements and
// attributes, and never logs. It does not check signatures: package xmldsig
// does, and only what it verified may be decoded for a decision. Encoders
// write unsigned documents for xmldsig to sign.
package duis

// Namespaces of the DUIS 5.4 schemas.
const (
	NSRequest = "http://www.dccinterface.co.uk/ServiceUserGateway"
	NSDSig    = "http://www.w3.org/2000/09/xmldsig#"
)
