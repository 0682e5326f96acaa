package peers

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/testpki"
)

// transCoSCell is the cell the migration replaces and the read-back reads.
var transCoSCell = gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}

// migrationFailures are the statuses the migration classifies as
// permanent (product.md §5): each must reach the ECoS Party as the device
// sent it, whoever decodes the response.
var migrationFailures = []gbcs.Status{
	gbcs.StatusBadCertificate, gbcs.StatusNoTrustAnchor, gbcs.StatusInsufficientMemory,
	gbcs.StatusTrustAnchorNotFound, gbcs.StatusOther,
}

// migWant is what one migration frame says, written down from the
// scenario rather than from our decoder: gbcs-parser's reading is held to
// it as well as to our decoding of the same bytes.
type migWant struct {
	cra      gbcs.CRA
	code     gbcs.MessageCode
	mac      bool
	counter  uint64
	from, to eui.EUI
	// status is the transitionalCoS cell's (CS02b response) or role's
	// (CS02a response).
	status gbcs.Status
	// before and after are whose certificate the cell held before the
	// command and holds after it (CS02b response), or holds (CS02a
	// response; none when busy). newCert is what a mode 6 command installs.
	before, after *testpki.Credential
	newCert       []byte
}

// migration drives the meter through every frame the TCoS → ECoS
// migration sends or receives, in the order an orchestrator meets them.
type migration struct {
	*scenario
	mwants  map[string]migWant
	counter uint64
}

func (m *migration) next() uint64 { m.counter++; return m.counter }

func (m *migration) add(name string, b []byte, w migWant) {
	m.tb.Helper()
	m.job.frame(m.tb, name, b)
	m.frames[name], m.mwants[name] = b, w
	m.order = append(m.order, name)
}

// mode6 is the migration command installing the ECoS certificate, signed
// with the TCoS key; wrap adds the ACB's MAC, as it travels to the meter.
func (m *migration) mode6(counter uint64, wrap bool) []byte {
	p := m.w.pki
	payload := m.cs02b(cosbuild.TransCoSByTransCoS(cosbuild.Migration{NewCertificate: p.ECoS.Cert, CertificationPath: [][]byte{p.OrgCA.Cert}}, counter))
	return m.signed(m.command(p.TCoS, payload), p.TCoS.Key, wrap)
}

// readBack is the CS02a read-back signed by signer, bare as RTDS sends a
// signature-authorised CS02a.
func (m *migration) readBack(signer *testpki.Credential, counter uint64) []byte {
	msg, err := cosbuild.ReadBack(signer.EUI, m.w.meter.EUI(), counter)
	if err != nil {
		m.tb.Fatal(err)
	}
	return m.signed(msg, signer.Key, false)
}

// sendMode6 sends a mode 6 command and records it and the meter's response.
func (m *migration) sendMode6(name string, wrap bool, faults device.Faults, status gbcs.Status, after *testpki.Credential) {
	m.tb.Helper()
	p, meter := m.w.pki, m.w.meter
	n := m.next()
	f := m.mode6(n, wrap)
	code := gbcs.CodeTransCoSByTransCoS
	m.add("command/"+name, f, migWant{cra: gbcs.CRACommand, code: code, mac: wrap, counter: n, from: p.TCoS.EUI, to: meter.EUI(), newCert: p.ECoS.Cert})
	m.add("response/"+name, m.send(f, faults).Response, migWant{cra: gbcs.CRAResponse, code: code, counter: n, from: meter.EUI(), to: p.TCoS.EUI,
		status: status, before: p.TCoS, after: after})
}

// sendReadBack sends a read-back and records it and the meter's response.
func (m *migration) sendReadBack(name string, signer *testpki.Credential, faults device.Faults, status gbcs.Status, holder *testpki.Credential) {
	m.tb.Helper()
	meter := m.w.meter
	n := m.next()
	f := m.readBack(signer, n)
	code := gbcs.CodeProvideSecurityCredentials
	m.add("command/"+name, f, migWant{cra: gbcs.CRACommand, code: code, counter: n, from: signer.EUI, to: meter.EUI()})
	m.add("response/"+name, m.send(f, faults).Response, migWant{cra: gbcs.CRAResponse, code: code, counter: n, from: meter.EUI(), to: signer.EUI,
		status: status, after: holder})
}

// runMigration: a read-back before (TCoS), a busy read-back, a busy mode 6,
// mode 6 failing with each permanent status (one sent bare, as the CoS
// Party emits it before the ACB wraps it), the mode 6 that succeeds, and
// read-backs after: the TCoS-signed one the meter now refuses, and the
// ECoS-signed one it answers.
func (m *migration) run() {
	p := m.w.pki
	busy := device.Faults{Fixed: device.Fault{Kind: device.FaultBusy}}
	m.sendReadBack("cs02a-before", p.TCoS, device.Faults{}, gbcs.StatusSuccess, p.TCoS)
	m.sendReadBack("cs02a-busy", p.TCoS, busy, gbcs.StatusResourcesBusy, nil)
	m.sendMode6("mode6-busy", true, busy, gbcs.StatusResourcesBusy, p.TCoS)
	for i, s := range migrationFailures {
		partial := device.Faults{Fixed: device.Fault{Kind: device.FaultPartial, Cell: transCoSCell, Status: s}}
		m.sendMode6(fmt.Sprintf("mode6-%s", s), i > 0, partial, s, p.TCoS)
	}
	m.sendMode6("mode6-success", true, device.Faults{}, gbcs.StatusSuccess, p.ECoS)

	var re *device.RejectError
	if _, err := m.w.meter.Handle(m.readBack(p.TCoS, m.next())); !errors.As(err, &re) || re.Reason != device.BadSignature {
		m.tb.Fatalf("a TCoS-signed read-back after the migration: %v, want refused (BadSignature)", err)
	}
	m.sendReadBack("cs02a-after", p.ECoS, device.Faults{}, gbcs.StatusSuccess, p.ECoS)
}

// TestGBCSPeerDecodesMigration: every frame the migration sends or
// receives — CS02b mode 6 commands (wrapped and bare), CS02a read-backs
// signed by TCoS and by ECoS, the meter's responses to both: success,
// resourcesBusy, each permanent failure status, the cell before and after
// — is decoded by SmartDCC's gbcs-parser, which verifies every signature
// and MAC; every field it reads equals ours (checkers in check_test.go),
// and equals what the scenario made: counters, originator and recipient,
// message codes, mode and cells, status codes (and their names), the SKIs
// and subject IDs of the cell before and after, sequence numbers. It runs
// with small counters and with the largest ecos hands out (2⁶³−1, docs/
// storage.md), whose 8-octet INTEGERs a JavaScript number cannot hold.
func TestGBCSPeerDecodesMigration(t *testing.T) {
	peersAvailable(t)
	for _, tc := range []struct {
		name  string
		start uint64
	}{{"small-counters", 0}, {"largest-counters", 1<<63 - 1 - 16}} {
		t.Run(tc.name, func(t *testing.T) {
			m := &migration{scenario: newScenario(t), mwants: map[string]migWant{}, counter: tc.start}
			m.run()
			if len(m.order) != 2*(3+len(migrationFailures)+2) {
				t.Fatalf("%d frames, want a command and a response for each of %d steps", len(m.order), 3+len(migrationFailures)+2)
			}
			if m.counter > 1<<63-1 {
				t.Fatalf("the scenario used counter %d, beyond what ecos hands out", m.counter)
			}
			checkMigration(t, m, run(t, m.job))
		})
	}
}

func checkMigration(t *testing.T, m *migration, r *result) {
	t.Helper()
	for _, name := range m.order {
		c := newChecker(t, name, r.GBCS[name])
		if c == nil {
			continue
		}
		f, err := gbcs.ParseFrame(m.frames[name])
		if err != nil {
			t.Fatalf("%s: our decoder: %v", name, err)
		}
		w := m.mwants[name]
		msg := &f.Message
		if msg.CRA != w.cra || msg.Code != w.code || (f.Ciphering != nil) != w.mac || msg.Sig != gbcs.SigPresent {
			t.Fatalf("%s: the scenario made %v %v wrapped %v signature %v; want %v %v %v present", name, msg.CRA, msg.Code, f.Ciphering != nil, msg.Sig, w.cra, w.code, w.mac)
		}
		c.scenario(w)
		c.description(gbcs.DescribeFrame(f))
		c.frame(f)
		c.payload(msg)
	}
}

// scenario holds gbcs-parser's reading of a migration frame to what the
// scenario made (w), field by field.
func (c *checker) scenario(w migWant) {
	c.tb.Helper()
	g := "Grouping Header/"
	c.expect(byScenario, g+"Originator Counter", fmt.Sprint(w.counter), notesOf)
	c.expect(byScenario, g+"Originator System Title", spaced(append([]byte{8}, w.from[:]...)), hexOf)
	c.expect(byScenario, g+"Recipient System Title", spaced(append([]byte{8}, w.to[:]...)), hexOf)
	c.expect(byScenario, g+"Other Information Length/Message Code", spaced([]byte{byte(w.code >> 8), byte(w.code)}), hexOf)
	tcos := []string{"Transitional Change of Supplier", "Digital Signature"}
	switch {
	case w.code == gbcs.CodeTransCoSByTransCoS && w.cra == gbcs.CRACommand:
		p := "Payload/Update Security Credentials Command/"
		ctl := p + "Authorising Remote Party Control/"
		c.expect(byScenario, ctl+"Credentials Replacement Mode", "TransCoS by TransCoS", notesOf)
		c.expect(byScenario, ctl+"Authorising Remote Party Seq Number", fmt.Sprint(w.counter), intOf)
		c.expectCell(byScenario, ctl+"Authorising Remote Party TA Cell Identifier", tcos)
		q := p + "Replacements/[0] Trust Anchor Replacement/"
		c.expect(byScenario, q, spaced(w.newCert), hexOf)
		c.expectCell(byScenario, q+"Target Trust Anchor Cell", tcos)
	case w.code == gbcs.CodeTransCoSByTransCoS:
		p := "Payload/Update Security Credentials Response/Execution Outcome/"
		c.expect(byScenario, p+"Credentials Replacement Mode", "TransCoS by TransCoS", notesOf)
		c.expect(byScenario, p+"Authorising Remote Party Seq Number", fmt.Sprint(w.counter), intOf)
		q := p + "Replacement Outcomes/[0] Replacement Outcome/"
		c.expectCell(byScenario, q+"Affected Trust Anchor Cell", tcos)
		c.expect(byScenario, q+"Status Code", fmt.Sprint(uint8(w.status)), intOf)
		c.expect(byScenario, q+"Status Code", peerStatusNames[w.status], notesOf)
		c.expect(byScenario, q+"Existing Subject Unique ID", spaced(w.before.EUI[:]), valueOf)
		c.expect(byScenario, q+"Existing Subject Key ID", spaced(w.before.SKI), valueOf)
		c.expect(byScenario, q+"Replacing Subject Unique ID", spaced(w.after.EUI[:]), valueOf)
		c.expect(byScenario, q+"Replacing Subject Key ID", spaced(w.after.SKI), valueOf)
	case w.cra == gbcs.CRACommand:
		p := "Payload/Provide Security Credential Details Command/"
		c.expectCell(byScenario, p+"Authorising Remote Party TA Cell Identifier", tcos)
		c.expect(byScenario, p+"Remote Party Roles Credentials Required/[0] Remote Party Role", tcos[0], notesOf)
	default:
		q := "Payload/Provide Security Credential Details Response/[0] Remote Party Details/"
		c.expect(byScenario, q+"Remote Party Role", tcos[0], notesOf)
		c.expect(byScenario, q+"Status Code", peerStatusNames[w.status], notesOf)
		if w.after == nil {
			c.absent(q + "Current Seq Number")
			return
		}
		// The read-back's own counter is the role's current one.
		c.expect(byScenario, q+"Current Seq Number", fmt.Sprint(w.counter), intOf)
		s := q + "Trust Anchor Cell Details/[0] Trust Anchor Cell Contents/"
		c.expect(byScenario, s+"Key Usage", tcos[1], notesOf)
		c.expect(byScenario, s+"Subject Unique ID", spaced(w.after.EUI[:]), valueOf)
		c.expect(byScenario, s+"Subject Key Identifier", spaced(w.after.SKI), valueOf)
	}
}

// description holds gbcs-parser's reading to what an operator sees of the
// frame (`ecos gbcs decode`, gbcs.Describe): the header, and per cell or
// role the status and, for CS02b, the subject IDs and SKIs before and
// after; neither shows a cell or role the other does not.
func (c *checker) description(d *gbcs.Description) {
	c.tb.Helper()
	g := "Grouping Header/"
	c.expect(byDecode, g+"Originator Counter", fmt.Sprint(d.Counter), notesOf)
	c.expect(byDecode, g+"Originator System Title", spaced(append([]byte{8}, d.Originator[:]...)), hexOf)
	c.expect(byDecode, g+"Recipient System Title", spaced(append([]byte{8}, d.Recipient[:]...)), hexOf)
	c.expect(byDecode, g+"Other Information Length/Message Code", spaced(mustUnhex(c.tb, strings.TrimPrefix(d.MessageCode, "0x"))), hexOf)
	c.expect(byDecode, g+"CRA Flag", strings.ToUpper(d.CRA[:1])+d.CRA[1:], notesOf)
	list := map[string]string{
		"ProvideSecurityCredentialDetailsResponse": "Payload/Provide Security Credential Details Response/[%d] Remote Party Details",
		"UpdateSecurityCredentialsResponse":        "Payload/Update Security Credentials Response/Execution Outcome/Replacement Outcomes/[%d] Replacement Outcome",
	}[d.PayloadType]
	if list == "" {
		if len(d.Outcomes) > 0 {
			c.errorf("outcomes", "decode shows %d outcomes in a %s", len(d.Outcomes), d.PayloadType)
		}
		return
	}
	c.absent(fmt.Sprintf(list, len(d.Outcomes)))
	for i, o := range d.Outcomes {
		if o.Status != gbcs.Status(o.StatusCode).String() {
			c.errorf("outcomes", "decode shows status %q for code %d", o.Status, o.StatusCode)
		}
		q := fmt.Sprintf(list, i) + "/"
		if o.ExistingSubjectKeyID == nil { // a CS02a role
			c.expect(byDecode, q+"Status Code", fmt.Sprint(o.StatusCode), intOf)
			continue
		}
		c.expect(byDecode, q+"Status Code", fmt.Sprint(o.StatusCode), intOf)
		c.expect(byDecode, q+"Existing Subject Unique ID", spaced(o.ExistingSubjectUniqueID[:]), valueOf)
		c.expect(byDecode, q+"Existing Subject Key ID", spaced(o.ExistingSubjectKeyID[:]), valueOf)
		c.expect(byDecode, q+"Replacing Subject Unique ID", spaced(o.ReplacingSubjectUniqueID[:]), valueOf)
		c.expect(byDecode, q+"Replacing Subject Key ID", spaced(o.ReplacingSubjectKeyID[:]), valueOf)
	}
}

func mustUnhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func (c *checker) expectCell(src, p string, roleAndUsage []string) {
	c.tb.Helper()
	c.expect(src, p+"/Remote Party Role", roleAndUsage[0], notesOf)
	c.expect(src, p+"/Key Usage", roleAndUsage[1], notesOf)
}

// Where an expected value comes from, for the failure message.
const (
	byScenario = "the scenario made"
	byDecode   = "ecos gbcs decode shows"
)

// expect: read(gbcs-parser's field at path) is want, which src gave.
func (c *checker) expect(src, path, want string, read func(item) string) {
	c.tb.Helper()
	if it, ok := c.item(path); ok {
		if got := read(it); got != want {
			c.errorf(path, "gbcs-parser reads %q, %s %q", got, src, want)
		}
	}
}

func notesOf(it item) string { return it.Notes }
func hexOf(it item) string   { return it.Hex }

// intOf is an INTEGER / ENUMERATED field's value in decimal.
func intOf(it item) string {
	n, err := tlvInt(it.Hex)
	if err != nil {
		return err.Error()
	}
	return n.String()
}

// valueOf is an OCTET STRING field's value, spaced.
func valueOf(it item) string {
	v, err := tlvValue(it.Hex)
	if err != nil {
		return err.Error()
	}
	return spaced(v)
}
