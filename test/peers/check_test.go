package peers

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/gbcs"
)

// checker compares one frame's flattened gbcs-parser tree with what our
// decoder made of the same bytes. Paths are gbcs-parser's names.
type checker struct {
	tb   testing.TB
	name string
	got  map[string]item
	used map[string]bool
	// mac is how gbcs-parser must judge the MAC: "valid", or "unknown"
	// when the test cannot give it a key-agreement key it needs.
	mac string
}

func newChecker(tb testing.TB, name string, r gbcsResult) *checker {
	tb.Helper()
	if r.Error != "" {
		tb.Errorf("%s: gbcs-parser refused the frame: %s", name, r.Error)
		return nil
	}
	if r.Tree == nil {
		tb.Errorf("%s: gbcs-parser gave nothing", name)
		return nil
	}
	return &checker{tb: tb, name: name, got: flatten(r.Tree), used: map[string]bool{}, mac: "valid"}
}

func (c *checker) errorf(path, format string, a ...any) {
	c.tb.Helper()
	c.tb.Errorf("%s: %s: %s", c.name, path, fmt.Sprintf(format, a...))
}

func (c *checker) item(path string) (item, bool) {
	c.tb.Helper()
	it, ok := c.got[path]
	if !ok {
		c.errorf(path, "missing from gbcs-parser's output")
	}
	c.used[path] = true
	return it, ok
}

// notes: gbcs-parser's reading of the field is want.
func (c *checker) notes(path, want string) {
	c.tb.Helper()
	if it, ok := c.item(path); ok && it.Notes != want {
		c.errorf(path, "gbcs-parser reads %q, we read %q", it.Notes, want)
	}
}

// hex: the field's octets (as gbcs-parser delimits them) are want.
func (c *checker) hex(path string, want []byte) {
	c.tb.Helper()
	if it, ok := c.item(path); ok && it.Hex != spaced(want) {
		c.errorf(path, "gbcs-parser has %s, we have %s", it.Hex, spaced(want))
	}
}

// int: the INTEGER / ENUMERATED field's value is want.
func (c *checker) int(path string, want uint64) {
	c.tb.Helper()
	it, ok := c.item(path)
	if !ok {
		return
	}
	n, err := tlvInt(it.Hex)
	if err != nil {
		c.errorf(path, "%v", err)
		return
	}
	if !n.IsUint64() || n.Uint64() != want {
		c.errorf(path, "gbcs-parser reads %s, we read %d", n, want)
	}
}

// octets: the OCTET STRING field's value is want.
func (c *checker) octets(path string, want []byte) {
	c.tb.Helper()
	it, ok := c.item(path)
	if !ok {
		return
	}
	v, err := tlvValue(it.Hex)
	if err != nil {
		c.errorf(path, "%v", err)
		return
	}
	if !bytes.Equal(v, want) {
		c.errorf(path, "gbcs-parser reads %X, we read %X", v, want)
	}
}

// absent: gbcs-parser found no such field (a list has no more entries).
func (c *checker) absent(path string) {
	c.tb.Helper()
	if _, ok := c.got[path]; ok {
		c.errorf(path, "gbcs-parser found a field we did not")
	}
}

// done reports payload fields gbcs-parser found that no check looked at:
// a field the peer sees and we do not is a disagreement too.
func (c *checker) done() {
	c.tb.Helper()
	var extra []string
	for p := range c.got {
		if strings.HasPrefix(p, "Payload/") && !c.used[p] && !c.covered(p) {
			extra = append(extra, p)
		}
	}
	slices.Sort(extra)
	c.tb.Logf("%s: %d fields compared", c.name, len(c.used))
	for _, p := range extra {
		c.errorf(p, "gbcs-parser found a field no check compared (%s)", c.got[p].Hex)
	}
}

// covered: p is a container whose children were checked.
func (c *checker) covered(p string) bool {
	for u := range c.used {
		if strings.HasPrefix(u, p+"/") {
			return true
		}
	}
	return false
}

var craNames = map[gbcs.CRA]string{gbcs.CRACommand: "Command", gbcs.CRAResponse: "Response", gbcs.CRAAlert: "Alert"}

// frame checks the General Ciphering wrapper (MAC) and the grouping header
// and signature of f, and that gbcs-parser verified both.
func (c *checker) frame(f *gbcs.Frame) {
	c.tb.Helper()
	m := &f.Message
	if f.Ciphering != nil {
		c.hex("MAC/MAC", f.Ciphering.MAC[:])
		c.notes("MAC/MAC", c.mac)
	} else {
		c.absent("MAC/MAC")
	}
	g := "Grouping Header/"
	c.notes(g+"CRA Flag", craNames[m.CRA])
	c.notes(g+"Originator Counter", fmt.Sprint(m.Counter))
	c.hex(g+"Originator System Title", append([]byte{8}, m.Originator[:]...))
	c.hex(g+"Recipient System Title", append([]byte{8}, m.Recipient[:]...))
	if m.DateTime == nil {
		c.hex(g+"Date Time", []byte{0})
	} else {
		c.hex(g+"Date Time", append([]byte{12}, m.DateTime[:]...))
	}
	c.hex(g+"Other Information Length/Message Code", []byte{byte(m.Code >> 8), byte(m.Code)})
	c.absent(g + "Other Information Length/Supplementary Remote Party ID")
	switch m.Sig {
	case gbcs.SigPresent:
		c.notes("Signature/Signature Length", "64")
		c.hex("Signature/Signature", m.Signature[:])
		c.notes("Signature/Valid", "true")
	case gbcs.SigNull:
		c.notes("Signature/Signature Length", "0")
	default:
		c.absent("Signature/Signature Length")
	}
}

// payload checks the CS02 payload of m against our decoding of it.
func (c *checker) payload(m *gbcs.Message) {
	c.tb.Helper()
	var err error
	switch {
	case m.Code == gbcs.CodeProvideSecurityCredentials && m.CRA == gbcs.CRACommand:
		var p *gbcs.ProvideSecurityCredentialDetails
		if p, err = gbcs.ParseProvideSecurityCredentialDetails(m.Content); err == nil {
			c.cs02aCommand(p)
		}
	case m.Code == gbcs.CodeProvideSecurityCredentials:
		var p *gbcs.ProvideSecurityCredentialDetailsResponse
		if p, err = gbcs.ParseProvideSecurityCredentialDetailsResponse(m.Content); err == nil {
			c.cs02aResponse(p)
		}
	case m.Code == gbcs.CodeFutureDatedAlert:
		var a *gbcs.UpdateSecurityCredentialsAlert
		if a, err = gbcs.ParseUpdateSecurityCredentialsAlert(m.Content); err == nil {
			c.alert(a)
		}
	case m.Code.IsCS02b() && m.CRA == gbcs.CRACommand:
		var u *gbcs.UpdateSecurityCredentials
		if u, err = gbcs.ParseUpdateSecurityCredentials(m.Content); err == nil {
			c.cs02bCommand(u)
		}
	case m.Code.IsCS02b():
		var r *gbcs.UpdateSecurityCredentialsResponse
		if r, err = gbcs.ParseUpdateSecurityCredentialsResponse(m.Content); err == nil {
			c.cs02bResponse(r)
		}
	default:
		c.tb.Fatalf("%s: no check for message code %v", c.name, m.Code)
	}
	if err != nil {
		c.tb.Fatalf("%s: our decoder: %v", c.name, err)
	}
	c.done()
}

// The names gbcs-parser gives the GBCS enumerations (asn1.ts); a value it
// has no name for it shows as a decimal number.
var (
	peerStatusNames = map[gbcs.Status]string{
		gbcs.StatusSuccess: "Success", gbcs.StatusBadCertificate: "Bad Certificate",
		gbcs.StatusNoTrustAnchor: "No Trust Anchor", gbcs.StatusInsufficientMemory: "Insufficient Memory",
		gbcs.StatusTrustAnchorNotFound: "Trust Anchor Not Found", gbcs.StatusResourcesBusy: "Resources Busy",
		gbcs.StatusOther: "Other",
	}
	peerRoleNames = map[gbcs.Role]string{
		gbcs.RoleRoot: "Root", gbcs.RoleRecovery: "Recovery", gbcs.RoleSupplier: "Supplier",
		gbcs.RoleNetworkOperator: "Network Operator", gbcs.RoleAccessControlBroker: "Access Control Broker",
		gbcs.RoleTransitionalCoS: "Transitional Change of Supplier", gbcs.RoleWanProvider: "WAN Provider",
		gbcs.RoleIssuingAuthority: "Issuing Authority", gbcs.RoleOther: "Other",
	}
	peerModeNames = map[gbcs.Mode]string{
		gbcs.ModeSupplierBySupplier: "Supplier by Supplier", gbcs.ModeNetworkOperatorByNetworkOperator: "Network Operator by Network Operator",
		gbcs.ModeACBByACB: "ACB by ACB", gbcs.ModeWanProviderByWanProvider: "WAN Provider by WAN Provider",
		gbcs.ModeTransCoSByTransCoS: "TransCoS by TransCoS", gbcs.ModeSupplierByTransCoS: "Supplier by TransCoS",
		gbcs.ModeAnyExceptAbnormalRootByRecovery: "Any Except Abnormal Root by Recovery", gbcs.ModeAnyByContingency: "Any by Contingency",
	}
)

// named: the INTEGER / ENUMERATED field's value is v, and gbcs-parser
// names it as names does (a number when it has no name for it).
func named[K ~uint8](c *checker, path string, v K, names map[K]string) {
	c.tb.Helper()
	c.int(path, uint64(v))
	want, ok := names[v]
	if !ok {
		want = fmt.Sprint(uint8(v))
	}
	c.notes(path, want)
}

func (c *checker) status(path string, s gbcs.Status) {
	c.tb.Helper()
	named(c, path, s, peerStatusNames)
}
func (c *checker) role(path string, r gbcs.Role) { c.tb.Helper(); named(c, path, r, peerRoleNames) }
func (c *checker) mode(path string, m gbcs.Mode) { c.tb.Helper(); named(c, path, m, peerModeNames) }

var keyUsageNames = map[gbcs.KeyUsage]string{
	gbcs.KeyUsageDigitalSignature: "Digital Signature",
	gbcs.KeyUsageKeyAgreement:     "Key Agreement",
	1 << 5:                        "Key Cert Sign", // the root cell
}

func (c *checker) cell(p string, cell gbcs.Cell) {
	c.tb.Helper()
	c.role(p+"/Remote Party Role", cell.Role)
	c.keyUsage(p, cell.KeyUsage)
	c.cellUsage(p, cell.Usage, cell.ExplicitUsage)
}

func (c *checker) keyUsage(p string, u gbcs.KeyUsage) {
	c.tb.Helper()
	name, ok := keyUsageNames[u]
	if !ok {
		c.tb.Fatalf("%s: no peer name for key usage %v", c.name, u)
	}
	c.notes(p+"/Key Usage", name)
}

func (c *checker) cellUsage(p string, u gbcs.CellUsage, explicit bool) {
	c.tb.Helper()
	switch {
	case u == gbcs.CellPrepaymentTopUp:
		c.notes(p+"/Cell Usage", "Prepayment Top Up")
	case explicit:
		c.notes(p+"/Cell Usage", "Management")
	default:
		c.notes(p+"/Cell Usage", "Management (DEFAULT)")
	}
}

// generalizedTime is how gbcs-parser shows a GeneralizedTime.
func generalizedTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " Z" }

func (c *checker) specialists(p string, list []gbcs.SpecialistSeqNumber) {
	c.tb.Helper()
	for i, s := range list {
		q := fmt.Sprintf("%s/[%d] Specialist Seq Number", p, i)
		c.int(q+"/Seq Number Usage", uint64(s.Usage))
		c.int(q+"/Seq Number", s.SeqNumber)
	}
	c.absent(fmt.Sprintf("%s/[%d] Specialist Seq Number", p, len(list)))
}

func (c *checker) seqChanges(p string, list []gbcs.SeqNumberChange) {
	c.tb.Helper()
	for i, ch := range list {
		q := fmt.Sprintf("%s/[%d] Remote Party Seq Number Change", p, i)
		c.int(q+"/Remote Party Role", uint64(ch.Role))
		c.int(q+"/Floor Seq Number", ch.FloorSeqNumber)
		if ch.SpecialistFloorSeqNumbers != nil {
			c.specialists(q+"/Specialist Floor Seq Number", ch.SpecialistFloorSeqNumbers)
		} else {
			c.absent(q + "/Specialist Floor Seq Number")
		}
	}
	c.absent(fmt.Sprintf("%s/[%d] Remote Party Seq Number Change", p, len(list)))
}

func (c *checker) cs02bCommand(u *gbcs.UpdateSecurityCredentials) {
	c.tb.Helper()
	p := "Payload/Update Security Credentials Command"
	ctl := p + "/Authorising Remote Party Control"
	k := u.Control
	c.mode(ctl+"/Credentials Replacement Mode", k.Mode)
	if k.PlainTextSymmetricKey != nil {
		c.octets(ctl+"/Plaintext Symmetric Key", k.PlainTextSymmetricKey)
	}
	switch k.TimeBasedCPVChecks {
	case gbcs.CPVApply:
		c.notes(ctl+"/Apply Time Based CPV Checks", "Apply")
	case gbcs.CPVDisapply:
		c.notes(ctl+"/Apply Time Based CPV Checks", "Disapply")
	default:
		c.absent(ctl + "/Apply Time Based CPV Checks")
	}
	if k.AuthorisingCell != nil {
		c.cell(ctl+"/Authorising Remote Party TA Cell Identifier", *k.AuthorisingCell)
	}
	c.int(ctl+"/Authorising Remote Party Seq Number", k.SeqNumber)
	if k.FloorSeqNumber != nil {
		c.int(ctl+"/New Remote Party Floor Seq Number", *k.FloorSeqNumber)
	}
	if k.SpecialistFloorSeqNumbers != nil {
		c.specialists(ctl+"/New Remote Party Specialist Floor Seq Number", k.SpecialistFloorSeqNumbers)
	}
	if k.OtherSeqNumberChanges != nil {
		c.seqChanges(ctl+"/Other Remote Party Seq Number Changes", k.OtherSeqNumberChanges)
	} else {
		c.absent(ctl + "/Other Remote Party Seq Number Changes")
	}
	for i, r := range u.Replacements {
		q := fmt.Sprintf("%s/Replacements/[%d] Trust Anchor Replacement", p, i)
		c.hex(q+"/", r.Certificate)
		c.cell(q+"/Target Trust Anchor Cell", r.Target)
	}
	c.absent(fmt.Sprintf("%s/Replacements/[%d] Trust Anchor Replacement", p, len(u.Replacements)))
	for i, cert := range u.CertificationPath {
		c.hex(fmt.Sprintf("%s/Certification Path Certificates/[%d] ", p, i), cert)
	}
	c.absent(fmt.Sprintf("%s/Certification Path Certificates/[%d] ", p, len(u.CertificationPath)))
	if u.ExecutionDateTime != nil {
		c.notes(p+"/Execution Date Time", generalizedTime(*u.ExecutionDateTime))
	} else {
		c.absent(p + "/Execution Date Time")
	}
}

func (c *checker) outcome(p string, o *gbcs.ExecutionOutcome) {
	c.tb.Helper()
	c.int(p+"/Authorising Remote Party Seq Number", o.SeqNumber)
	c.mode(p+"/Credentials Replacement Mode", o.Mode)
	// Both lists are always there, empty or not.
	c.item(p + "/Remote Party Seq Number Changes")
	c.item(p + "/Replacement Outcomes")
	c.seqChanges(p+"/Remote Party Seq Number Changes", o.SeqNumberChanges)
	for i, r := range o.Outcomes {
		q := fmt.Sprintf("%s/Replacement Outcomes/[%d] Replacement Outcome", p, i)
		c.cell(q+"/Affected Trust Anchor Cell", r.Cell)
		c.status(q+"/Status Code", r.Status)
		c.octets(q+"/Existing Subject Unique ID", r.ExistingSubjectUniqueID[:])
		c.octets(q+"/Existing Subject Key ID", r.ExistingSubjectKeyID[:])
		c.octets(q+"/Replacing Subject Unique ID", r.ReplacingSubjectUniqueID[:])
		c.octets(q+"/Replacing Subject Key ID", r.ReplacingSubjectKeyID[:])
	}
	c.absent(fmt.Sprintf("%s/Replacement Outcomes/[%d] Replacement Outcome", p, len(o.Outcomes)))
}

func (c *checker) cs02bResponse(r *gbcs.UpdateSecurityCredentialsResponse) {
	c.tb.Helper()
	p := "Payload/Update Security Credentials Response"
	c.hex(p+"/Command Accepted", []byte{0x05, 0x00})
	if r.Outcome != nil {
		c.outcome(p+"/Execution Outcome", r.Outcome)
	} else {
		c.absent(p + "/Execution Outcome")
	}
}

func (c *checker) alert(a *gbcs.UpdateSecurityCredentialsAlert) {
	c.tb.Helper()
	p := "Payload/Update Security Credentials Alert"
	c.int(p+"/Alert Code", uint64(a.AlertCode))
	c.notes(p+"/Execution Date Time", generalizedTime(a.ExecutionDateTime))
	c.outcome(p+"/Execution Outcome", &a.Outcome)
}

func (c *checker) cs02aCommand(cmd *gbcs.ProvideSecurityCredentialDetails) {
	c.tb.Helper()
	p := "Payload/Provide Security Credential Details Command"
	c.cell(p+"/Authorising Remote Party TA Cell Identifier", cmd.AuthorisingCell)
	for i, r := range cmd.Roles {
		c.role(fmt.Sprintf("%s/Remote Party Roles Credentials Required/[%d] Remote Party Role", p, i), r)
	}
	c.absent(fmt.Sprintf("%s/Remote Party Roles Credentials Required/[%d] Remote Party Role", p, len(cmd.Roles)))
}

func (c *checker) cs02aResponse(r *gbcs.ProvideSecurityCredentialDetailsResponse) {
	c.tb.Helper()
	p := "Payload/Provide Security Credential Details Response"
	for i, d := range r.Parties {
		q := fmt.Sprintf("%s/[%d] Remote Party Details", p, i)
		c.role(q+"/Remote Party Role", d.Role)
		c.status(q+"/Status Code", d.Status)
		if d.Credentials == nil {
			c.absent(q + "/Current Seq Number")
			continue
		}
		c.int(q+"/Current Seq Number", d.Credentials.SeqNumber)
		for j, cell := range d.Credentials.Cells {
			s := fmt.Sprintf("%s/Trust Anchor Cell Details/[%d] Trust Anchor Cell Contents", q, j)
			c.keyUsage(s, cell.KeyUsage)
			c.cellUsage(s, cell.Usage, cell.ExplicitUsage)
			c.octets(s+"/Subject Unique ID", cell.SubjectUniqueID[:])
			c.octets(s+"/Subject Key Identifier", cell.SubjectKeyID[:])
		}
		c.absent(fmt.Sprintf("%s/Trust Anchor Cell Details/[%d] Trust Anchor Cell Contents", q, len(d.Credentials.Cells)))
	}
	c.absent(fmt.Sprintf("%s/[%d] Remote Party Details", p, len(r.Parties)))
}
