package device

import (
	"time"

	"github.com/ecos-cos/ecos/gbcs"
)

// handleCS02a answers a CS02a Provide Security Credential Details command:
// for each requested role, the cells the device holds for it (key usage,
// cell usage, subject unique ID and key ID) and the role's current
// sequence number, or trustAnchorNotFound (25) when it holds none. This is
// how the ECoS Party reads back which transitionalCoS certificate a device
// trusts after a lost response (authorised by {5, DS}).
//
// Only signature-authorised CS02a is modelled: the ACB's MAC-only form
// (authorising cell {4, KA}) would need the device's KA key on both sides
// of the MAC and is refused as Unsupported.
func (d *Device) handleCS02a(st *state, f *gbcs.Frame, now time.Time, res *Result) error {
	m := &f.Message
	cmd, err := gbcs.ParseProvideSecurityCredentialDetails(m.Content)
	if err != nil {
		return reject(Malformed, err, "decoding CS02a payload")
	}
	ac := cmd.AuthorisingCell
	if ac.KeyUsage != gbcs.KeyUsageDigitalSignature {
		return reject(Unsupported, nil, "CS02a authorised by %v (MAC-only)", keyOf(ac))
	}
	if _, err := d.authenticate(st, f, &ac, ac.Role); err != nil {
		return err
	}
	busy := res.Fault.Kind == FaultBusy
	// The counter is consumed before the answer is built, so a role's
	// current sequence number includes this very command.
	counters := st.seqs().with(seqKey{role: ac.Role}, m.Counter)
	details := &gbcs.ProvideSecurityCredentialDetailsResponse{Parties: make([]gbcs.RemotePartyDetails, 0, len(cmd.Roles))}
	t := st.cells(d.env)
	for _, role := range cmd.Roles {
		details.Parties = append(details.Parties, roleDetails(t, role, busy, counters))
	}
	res.Details = details
	payload, err := details.Bytes()
	if err != nil {
		return err
	}
	resp := gbcs.NewResponse(m, now, payload)
	resp.DateTime = nil // the RTDS CS02a responses carry no date-time
	commit := func() { st.setSeqs(counters) }
	if busy {
		commit = func() {} // a busy device changes nothing, not even the counter
	}
	return d.respond(resp, res, commit)
}

// roleDetails reports one role's cells.
func roleDetails(t cells, role gbcs.Role, busy bool, counters seqs) gbcs.RemotePartyDetails {
	if busy {
		return gbcs.RemotePartyDetails{Role: role, Status: gbcs.StatusResourcesBusy}
	}
	var contents []gbcs.CellContents
	for _, c := range t {
		if c.key.role != role || c.cert == nil {
			continue
		}
		id, ski := identity(c.cert)
		contents = append(contents, gbcs.CellContents{KeyUsage: c.key.key, Usage: c.key.usage, SubjectUniqueID: id, SubjectKeyID: ski})
	}
	if contents == nil {
		return gbcs.RemotePartyDetails{Role: role, Status: gbcs.StatusTrustAnchorNotFound}
	}
	return gbcs.RemotePartyDetails{Role: role, Status: gbcs.StatusSuccess,
		Credentials: &gbcs.RemotePartyCredentials{SeqNumber: counters.get(seqKey{role: role}), Cells: contents}}
}
