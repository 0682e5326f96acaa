// Package duis is the DCC User Interface Specification (DUIS 5.4) XML model:
// the request envelope, RequestIDs and the SR 6.23 body, decoded strictly.
//
// Trust level: parses untrusted XML. It refuses DTDs and unknown entities,
// insists on the schema's element order and never logs. It does not check
// signatures: package xmldsig does, and only what it verified may be
// decoded for a decision.
package duis

// Namespaces of the DUIS 5.4 schemas.
const (
	NSRequest = "http://www.dccinterface.co.uk/ServiceUserGateway"
	NSDSig    = "http://www.w3.org/2000/09/xmldsig#"
)
