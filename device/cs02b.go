package device

import (
	"time"

	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/smki"
)

// modeRule is what a CS02b replacement mode allows: which role's
// digital-signing cell authorises it and which cells it may replace.
type modeRule struct {
	auth   gbcs.Role
	target func(cellKey) bool
}

func roleCells(r gbcs.Role) func(cellKey) bool {
	return func(k cellKey) bool { return k.role == r && k.key != KeyUsageCertSign }
}

// modeRules covers the modes a KRP-signed command can use against a
// meter's own-role cells. The root modes (0, 1), ACB-by-ACB (4, MAC-only
// on meters) and the recovery/contingency modes (8, 9) are not modelled:
// the ECoS Party never sends them.
var modeRules = map[gbcs.Mode]modeRule{
	gbcs.ModeSupplierBySupplier:               {gbcs.RoleSupplier, roleCells(gbcs.RoleSupplier)},
	gbcs.ModeNetworkOperatorByNetworkOperator: {gbcs.RoleNetworkOperator, roleCells(gbcs.RoleNetworkOperator)},
	gbcs.ModeWanProviderByWanProvider:         {gbcs.RoleWanProvider, roleCells(gbcs.RoleWanProvider)},
	gbcs.ModeTransCoSByTransCoS:               {gbcs.RoleTransitionalCoS, func(k cellKey) bool { return k == cellTransCoSDS }},
	gbcs.ModeSupplierByTransCoS:               {gbcs.RoleTransitionalCoS, roleCells(gbcs.RoleSupplier)},
}

// handleCS02b authenticates a CS02b command and executes, holds or cancels
// it, filling res.
func (d *Device) handleCS02b(st *state, f *gbcs.Frame, now time.Time, res *Result) error {
	m := &f.Message
	mode, _ := m.Code.Mode()
	cmd, err := gbcs.ParseUpdateSecurityCredentials(m.Content)
	if err != nil {
		return reject(Malformed, err, "decoding CS02b payload")
	}
	if cmd.Control.Mode != mode {
		return reject(CodeMismatch, nil, "message code %v selects mode %v, payload says %v", m.Code, mode, cmd.Control.Mode)
	}
	rule, ok := modeRules[mode]
	if !ok {
		return reject(Unsupported, nil, "CS02b mode %v", mode)
	}
	authKey, err := d.authenticate(st, f, cmd.Control.AuthorisingCell, rule.auth)
	if err != nil {
		return err
	}
	if cmd.Control.SeqNumber != m.Counter {
		return reject(SeqNumberMismatch, nil, "authorisingRemotePartySeqNumber %d, originator counter %d", cmd.Control.SeqNumber, m.Counter)
	}

	// The command is authentic: from here on the device answers it.
	if res.Fault.Kind == FaultBusy {
		res.Outcome = busyOutcome(st.cells(d.env), cmd)
		return d.respondCS02b(m, now, res, func() {})
	}
	// The counter is consumed at receipt, whatever the execution time, so
	// a held command cannot be replayed while it waits.
	counters := st.seqs().with(seqKey{role: rule.auth}, m.Counter)
	at := cmd.ExecutionDateTime
	switch {
	case at == nil || !at.After(now):
		// Immediate, or a "future" date the device clock has already
		// passed: executing at once is the only way the command can still
		// have the effect its sender asked for.
		cur := st.cells(d.env)
		outcome, newCells, newSeqs := d.execute(cmd, authKey, rule, now, res.Fault, cur, counters)
		res.Outcome = outcome
		return d.respondCS02b(m, now, res, func() { st.commit(d.env, cur, newCells, newSeqs) })
	case at.Equal(gbcs.CancellationTime()):
		kept, n := withoutPending(st.pending(), m, authKey)
		res.Cancelled = n
		return d.respondCS02b(m, now, res, func() {
			st.setSeqs(counters)
			if st.more != nil {
				st.more.pending = kept
			}
		})
	default:
		p := newPending(st.arrivals(), m, cmd, authKey, rule, *at, res.Fault)
		res.Pending, res.ExecuteAt = true, *at
		return d.respondCS02b(m, now, res, func() {
			st.setSeqs(counters)
			x := st.extra()
			x.pending = append(x.pending[:len(x.pending):len(x.pending)], p)
			x.arrivals++
		})
	}
}

// respondCS02b answers with the outcome in res, or with a bare acceptance
// (30 02 05 00) for a held or cancelled command.
func (d *Device) respondCS02b(m *gbcs.Message, now time.Time, res *Result, commit func()) error {
	payload, err := (&gbcs.UpdateSecurityCredentialsResponse{Outcome: res.Outcome}).Bytes()
	if err != nil {
		return err
	}
	return d.respond(gbcs.NewResponse(m, now, payload), res, commit)
}

// execute runs a CS02b command against the state (cur, counters) at time now
// and returns the outcome and the new state, without touching the device:
// the caller commits both together once the response is signed.
func (d *Device) execute(cmd *gbcs.UpdateSecurityCredentials, authKey cellKey, rule modeRule, now time.Time, fault Fault, cur cells, counters seqs) (*gbcs.ExecutionOutcome, cells, seqs) {
	outcome := gbcs.OutcomeFor(cmd)
	root, _ := cur.get(cellRoot)
	path := newCertPath(d.parsePath(cmd.CertificationPath), root, d.env.links)
	cpv := cmd.Control.TimeBasedCPVChecks != gbcs.CPVDisapply
	repl := make(map[cellKey]*smki.Certificate, len(cmd.Replacements))
	seen := make(map[cellKey]bool, len(cmd.Replacements))
	dsReplaced := map[gbcs.Role]bool{}
	for i := range cmd.Replacements {
		r := &cmd.Replacements[i]
		k := keyOf(r.Target)
		existing, _ := cur.get(k)
		status, cert := gbcs.StatusOther, (*smki.Certificate)(nil)
		if !seen[k] { // a command names each cell once; a repeat is refused
			status, cert = d.checkReplacement(r.Certificate, k, rule, cur, path, now, cpv)
		}
		seen[k] = true
		if status == gbcs.StatusSuccess && fault.Kind == FaultPartial && keyOf(fault.Cell) == k {
			status, cert = fault.partialStatus(), nil
		}
		o := gbcs.ReplacementOutcome{Cell: k.cell(), Status: status}
		o.ExistingSubjectUniqueID, o.ExistingSubjectKeyID = identity(existing)
		o.ReplacingSubjectUniqueID, o.ReplacingSubjectKeyID = o.ExistingSubjectUniqueID, o.ExistingSubjectKeyID
		if status == gbcs.StatusSuccess {
			o.ReplacingSubjectUniqueID, o.ReplacingSubjectKeyID = identity(cert)
			repl[k] = cert
			if k.key == gbcs.KeyUsageDigitalSignature {
				dsReplaced[k.role] = true
			}
		}
		outcome.Outcomes = append(outcome.Outcomes, o)
	}
	if len(repl) > 0 {
		cur = cur.with(repl)
	}
	return outcome, cur, applyFloors(cmd, authKey.role, dsReplaced, counters)
}

// applyFloors applies the command's sequence-number changes: [4] and [5]
// for the authorising role, [6] for others. GBCS does not say (publicly)
// what a partly failed command does with them; the model applies a floor
// when it raises the counter, or when the command replaced that role's
// digital-signing cell, i.e. a new party now signs for the role and starts
// from the floor. Lowering the counter of a party still in its cell would
// let its old commands be replayed, so that is never done.
func applyFloors(cmd *gbcs.UpdateSecurityCredentials, authRole gbcs.Role, dsReplaced map[gbcs.Role]bool, s seqs) seqs {
	set := func(k seqKey, floor uint64) {
		if floor >= s.get(k) || dsReplaced[k.role] {
			s = s.with(k, floor)
		}
	}
	c := &cmd.Control
	if c.FloorSeqNumber != nil {
		set(seqKey{role: authRole}, *c.FloorSeqNumber)
	}
	for _, sp := range c.SpecialistFloorSeqNumbers {
		set(specialistKey(authRole, sp.Usage), sp.SeqNumber)
	}
	for _, ch := range c.OtherSeqNumberChanges {
		set(seqKey{role: ch.Role}, ch.FloorSeqNumber)
		for _, sp := range ch.SpecialistFloorSeqNumbers {
			set(specialistKey(ch.Role, sp.Usage), sp.SeqNumber)
		}
	}
	return s
}

// busyOutcome is what a device too busy to act reports: every cell
// resourcesBusy, unchanged, and no sequence-number change (none was made).
func busyOutcome(t cells, cmd *gbcs.UpdateSecurityCredentials) *gbcs.ExecutionOutcome {
	o := gbcs.OutcomeFor(cmd)
	o.SeqNumberChanges = []gbcs.SeqNumberChange{}
	for i := range cmd.Replacements {
		k := keyOf(cmd.Replacements[i].Target)
		existing, _ := t.get(k)
		id, ski := identity(existing)
		o.Outcomes = append(o.Outcomes, gbcs.ReplacementOutcome{Cell: k.cell(), Status: gbcs.StatusResourcesBusy,
			ExistingSubjectUniqueID: id, ExistingSubjectKeyID: ski, ReplacingSubjectUniqueID: id, ReplacingSubjectKeyID: ski})
	}
	return o
}

// parsePath parses the certification path; a certificate that does not
// parse is left out, so the replacements that needed it fail the issuer
// check rather than the whole command.
func (d *Device) parsePath(ders [][]byte) []*smki.Certificate {
	out := make([]*smki.Certificate, 0, len(ders))
	for _, der := range ders {
		if c, err := d.env.certs.parse(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// checkReplacement decides one cell. The status for each failed check is
// the model's choice where GBCS is not public:
//
//   - the mode may not replace this cell: other (127);
//   - the device has no such cell: trustAnchorNotFound (25);
//   - the certificate does not parse, breaks the SMKI profile, has the wrong
//     role or key usage for the cell, or is outside its validity period
//     (or a path certificate is) while time-based checks apply:
//     badCertificate (5);
//   - no certificate in the path issued it, or the path does not chain to
//     the device's root anchor: noTrustAnchor (10), which is what RTDS
//     6.15.1 shows for a cell the device could not validate.
func (d *Device) checkReplacement(der []byte, k cellKey, rule modeRule, cur cells, path *certPath, now time.Time, cpv bool) (gbcs.Status, *smki.Certificate) {
	if !rule.target(k) {
		return gbcs.StatusOther, nil
	}
	if cur.find(k) < 0 {
		return gbcs.StatusTrustAnchorNotFound, nil
	}
	cert, err := d.env.certs.parse(der)
	if err != nil || !fitsCell(cert, k) {
		return gbcs.StatusBadCertificate, nil
	}
	v := d.env.verdicts.check(cert, path)
	if !v.profileOK {
		return gbcs.StatusBadCertificate, nil
	}
	chain := v.chain
	if chain == nil {
		return gbcs.StatusNoTrustAnchor, nil
	}
	if cpv {
		for _, c := range chain {
			if now.Before(c.NotBefore) || now.After(c.NotAfter) {
				return gbcs.StatusBadCertificate, nil
			}
		}
	}
	return gbcs.StatusSuccess, cert
}

// fitsCell checks that cert is an Organisation certificate of the cell's
// role and exactly the cell's key usage, with what a cell must report.
func fitsCell(cert *smki.Certificate, k cellKey) bool {
	const usages = smki.KeyUsageDigitalSignature | smki.KeyUsageKeyAgreement
	return cert.Kind == smki.Organisation && cert.Role == k.role &&
		gbcs.KeyUsage(cert.KeyUsage&usages) == k.key && cert.PublicKey != nil &&
		len(cert.SubjectKeyID) == len(gbcs.KeyID{})
}
