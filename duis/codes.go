package duis

import (
	"slices"
	"strconv"
)

// ResponseCode is a DUIS response code (sr:ResponseCode): I0 for success,
// I99 for an acknowledgement, E… for an error, W… for a warning.
//
// Only the codes' spellings are public: their meanings are defined in DUIS
// (SEC Appendix AD), which no open repository carries, so this package
// names the two whose use the DCC Boxed responses show and leaves every
// other choice to the caller's mapping table (product.md §2).
type ResponseCode string

// The codes the ECoS party itself needs by name.
const (
	// ResponseSuccess reports a completed service request (DCC Boxed sends
	// it on device responses and DCC alerts).
	ResponseSuccess ResponseCode = "I0"
	// ResponseAcknowledged is the synchronous acknowledgement: the request
	// was accepted and its outcome follows asynchronously.
	ResponseAcknowledged ResponseCode = "I99"
)

// responseCodes is copied by hand from "DUIS Schema V5.4.xsd";
// TestResponseCodesMatchXSD keeps the copy honest.
var responseCodes = []ResponseCode{
	"I0", "I99", "E1", "E2", "E3", "E4", "E5", "E11", "E12", "E13", "E17", "E19", "E20", "E21", "E30",
	"E31", "E40", "E41", "E42", "E43", "E44", "E45", "E46", "E47", "E48", "E49", "E50", "E51", "E52",
	"E53", "E54", "E55", "E56", "E57", "E58", "E59", "E60", "E61", "E62", "E63", "E64", "E65", "E66",
	"E67", "E68", "E69", "E70", "E71", "E100", "E1000", "E1001", "E1003", "E1004", "E1006", "E1007",
	"E1008", "E1010", "E1011", "E010101", "E010102", "E010201", "E030301", "E030302", "E040101",
	"E041701", "E050101", "E050102", "E050103", "E050105", "E050107", "E050108", "E050109", "E050110",
	"E050111", "E050112", "E050201", "E050202", "W050201", "E050301", "E050302", "W050301", "E060501",
	"E060502", "E060701", "E060801", "E060802", "E060803", "E061301", "E061304", "E061305", "E061501",
	"E061504", "E061505", "E061506", "E061507", "E061508", "E061509", "E061801", "E061802", "E061803",
	"E062101", "E062102", "E062103", "E062105", "E062201", "E062202", "E062203", "E062301", "E062302",
	"E062303", "E062304", "E062305", "E062306", "E062401", "E062402", "E062403", "E062801", "E062802",
	"E062803", "E080201", "E080202", "E080301", "E080302", "E080405", "E080406", "E080407", "E080408",
	"E080409", "E080410", "E080411", "E080412", "E080413", "E080414", "E080415", "E080501", "E080502",
	"E080503", "E080601", "E080602", "E080604", "E080606", "E080607", "E080702", "E080721", "E080722",
	"E080723", "E080801", "E080821", "E080822", "E080901", "E080902", "E080903", "E081101", "E081102",
	"E081104", "E081105", "E081106", "E081107", "E081108", "E081109", "E081110", "E081111", "E081202",
	"E081204", "E081205", "E081221", "E081222", "E081223", "E081301", "E081302", "E081303", "E081401",
	"E081402", "E081405", "E081406", "W081401", "E110101", "E110102", "E110103", "E110105", "E110106",
	"W110101", "E110401", "E110402", "E110403", "E110405", "W110401", "E120101", "E120102", "E120103",
	"E120201", "E120203", "E120204", "E120207",
}

// Valid reports whether c is in the DUIS 5.4 enumeration.
func (c ResponseCode) Valid() bool { return slices.Contains(responseCodes, c) }

// DCCAlertCode is the code a DCC alert carries (sr:DCCAlertMessage/DCCAlertCode).
// Which code goes with which alert is defined in DUIS, not in any public
// schema, so callers choose it; the package only checks the spelling.
type DCCAlertCode string

// dccAlertCodes is built rather than listed because the enumeration is a
// plain run; TestDCCAlertCodesMatchXSD checks it against the schema.
var dccAlertCodes = func() []DCCAlertCode {
	codes := []DCCAlertCode{"AD1"}
	for n := 1; n <= 65; n++ {
		if n == 32 { // absent from the 5.4 enumeration
			continue
		}
		codes = append(codes, DCCAlertCode("N"+strconv.Itoa(n)))
	}
	return append(codes, "N999")
}()

// Valid reports whether c is in the DUIS 5.4 enumeration.
func (c DCCAlertCode) Valid() bool { return slices.Contains(dccAlertCodes, c) }
