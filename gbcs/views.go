package gbcs

// JSON-friendly views of the payload types, for Describe. They are separate
// from the codec types so that the CLI's output (names, hex, RFC 3339) can
// stay stable while the codec types keep what exact re-encoding needs.

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/ecos-cos/ecos/eui"
)

type cellView struct {
	Role      string `json:"remotePartyRole"`
	KeyUsage  string `json:"keyUsage"`
	CellUsage string `json:"cellUsage"`
}

func viewCell(c *Cell) *cellView {
	if c == nil {
		return nil
	}
	return &cellView{Role: c.Role.String(), KeyUsage: c.KeyUsage.String(), CellUsage: c.Usage.String()}
}

type certView struct {
	Length int    `json:"length"`
	SHA256 string `json:"sha256"`
	DER    string `json:"der"`
}

func viewCert(der []byte) certView {
	sum := sha256.Sum256(der)
	return certView{Length: len(der), SHA256: hex.EncodeToString(sum[:]), DER: hex.EncodeToString(der)}
}

type specialistView struct {
	Usage     string `json:"seqNumberUsage"`
	SeqNumber uint64 `json:"seqNumber"`
}

func viewSpecialists(in []SpecialistSeqNumber) []specialistView {
	if in == nil {
		return nil
	}
	out := make([]specialistView, len(in))
	for i, v := range in {
		out[i] = specialistView{Usage: v.Usage.String(), SeqNumber: v.SeqNumber}
	}
	return out
}

type seqChangeView struct {
	Role                      string           `json:"remotePartyRole"`
	FloorSeqNumber            uint64           `json:"floorSeqNumber"`
	SpecialistFloorSeqNumbers []specialistView `json:"specialistFloorSeqNumbers,omitempty"`
}

func viewSeqChanges(in []SeqNumberChange) []seqChangeView {
	if in == nil {
		return nil
	}
	out := make([]seqChangeView, len(in))
	for i, v := range in {
		out[i] = seqChangeView{Role: v.Role.String(), FloorSeqNumber: v.FloorSeqNumber,
			SpecialistFloorSeqNumbers: viewSpecialists(v.SpecialistFloorSeqNumbers)}
	}
	return out
}

type controlView struct {
	Mode                  string           `json:"credentialsReplacementMode"`
	ModeNumber            uint8            `json:"credentialsReplacementModeNumber"`
	PlainTextSymmetricKey *string          `json:"plainTextSymmetricKey,omitempty"`
	TimeBasedCPVChecks    string           `json:"applyTimeBasedCPVChecks"`
	AuthorisingCell       *cellView        `json:"authorisingRemotePartyTACellIdentifier,omitempty"`
	SeqNumber             uint64           `json:"authorisingRemotePartySeqNumber"`
	FloorSeqNumber        *uint64          `json:"newRemotePartyFloorSeqNumber,omitempty"`
	SpecialistFloors      []specialistView `json:"newRemotePartySpecialistFloorSeqNumber,omitempty"`
	OtherSeqNumberChanges []seqChangeView  `json:"otherRemotePartySeqNumberChanges,omitempty"`
}

type replacementView struct {
	Certificate certView `json:"replacementCertificate"`
	Target      cellView `json:"targetTrustAnchorCell"`
}

type commandView struct {
	Control           controlView       `json:"authorisingRemotePartyControl"`
	Replacements      []replacementView `json:"replacements"`
	CertificationPath []certView        `json:"certificationPathCertificates"`
	Execution         string            `json:"execution"`
	ExecutionDateTime *string           `json:"executionDateTime"`
}

func viewCommand(u *UpdateSecurityCredentials) *commandView {
	c := &u.Control
	v := &commandView{
		Control: controlView{
			Mode:                  c.Mode.String(),
			ModeNumber:            uint8(c.Mode),
			TimeBasedCPVChecks:    c.TimeBasedCPVChecks.String(),
			AuthorisingCell:       viewCell(c.AuthorisingCell),
			SeqNumber:             c.SeqNumber,
			FloorSeqNumber:        c.FloorSeqNumber,
			SpecialistFloors:      viewSpecialists(c.SpecialistFloorSeqNumbers),
			OtherSeqNumberChanges: viewSeqChanges(c.OtherSeqNumberChanges),
		},
		Replacements:      []replacementView{},
		CertificationPath: []certView{},
		Execution:         "immediate",
	}
	if c.PlainTextSymmetricKey != nil {
		k := hex.EncodeToString(c.PlainTextSymmetricKey)
		v.Control.PlainTextSymmetricKey = &k
	}
	for i := range u.Replacements {
		r := &u.Replacements[i]
		v.Replacements = append(v.Replacements, replacementView{Certificate: viewCert(r.Certificate), Target: *viewCell(&r.Target)})
	}
	for _, c := range u.CertificationPath {
		v.CertificationPath = append(v.CertificationPath, viewCert(c))
	}
	if t := u.ExecutionDateTime; t != nil {
		s := t.UTC().Format(time.RFC3339)
		v.ExecutionDateTime = &s
		v.Execution = "future-dated"
		if t.Equal(CancellationTime()) {
			v.Execution = "cancellation"
		}
	}
	return v
}

// OutcomeView is one per-cell (CS02b) or per-role (CS02a) result, flattened
// for the CLI and reports.
type OutcomeView struct {
	Role                     string   `json:"remotePartyRole"`
	KeyUsage                 string   `json:"keyUsage,omitempty"`
	CellUsage                string   `json:"cellUsage,omitempty"`
	Status                   string   `json:"status"`
	StatusCode               uint8    `json:"statusCode"`
	ExistingSubjectUniqueID  *eui.EUI `json:"existingSubjectUniqueID,omitempty"`
	ExistingSubjectKeyID     *KeyID   `json:"existingSubjectKeyID,omitempty"`
	ReplacingSubjectUniqueID *eui.EUI `json:"replacingSubjectUniqueID,omitempty"`
	ReplacingSubjectKeyID    *KeyID   `json:"replacingSubjectKeyID,omitempty"`
}

func viewOutcomes(in []ReplacementOutcome) []OutcomeView {
	out := make([]OutcomeView, len(in))
	for i := range in {
		o := &in[i]
		out[i] = OutcomeView{
			Role: o.Cell.Role.String(), KeyUsage: o.Cell.KeyUsage.String(), CellUsage: o.Cell.Usage.String(),
			Status: o.Status.String(), StatusCode: uint8(o.Status),
			ExistingSubjectUniqueID: &o.ExistingSubjectUniqueID, ExistingSubjectKeyID: &o.ExistingSubjectKeyID,
			ReplacingSubjectUniqueID: &o.ReplacingSubjectUniqueID, ReplacingSubjectKeyID: &o.ReplacingSubjectKeyID,
		}
	}
	return out
}

type executionOutcomeView struct {
	SeqNumber           uint64          `json:"authorisingRemotePartySeqNumber"`
	Mode                string          `json:"credentialsReplacementMode"`
	SeqNumberChanges    []seqChangeView `json:"remotePartySeqNumberChanges"`
	ReplacementOutcomes []OutcomeView   `json:"replacementOutcomes"`
}

func viewExecutionOutcome(o *ExecutionOutcome) *executionOutcomeView {
	if o == nil {
		return nil
	}
	changes := viewSeqChanges(o.SeqNumberChanges)
	if changes == nil {
		changes = []seqChangeView{}
	}
	return &executionOutcomeView{SeqNumber: o.SeqNumber, Mode: o.Mode.String(),
		SeqNumberChanges: changes, ReplacementOutcomes: viewOutcomes(o.Outcomes)}
}

type responseView struct {
	CommandAccepted  bool                  `json:"commandAccepted"`
	ExecutionOutcome *executionOutcomeView `json:"executionOutcome"`
}

type alertView struct {
	AlertCode         string                `json:"alertCode"`
	AlertName         string                `json:"alertName"`
	ExecutionDateTime string                `json:"executionDateTime"`
	ExecutionOutcome  *executionOutcomeView `json:"executionOutcome"`
}

type cs02aCommandView struct {
	AuthorisingCell *cellView `json:"authorisingRemotePartyTACellIdentifier"`
	Roles           []string  `json:"remotePartyRolesCredentialsRequired"`
}

type cellContentsView struct {
	KeyUsage        string  `json:"keyUsage"`
	CellUsage       string  `json:"cellUsage"`
	SubjectUniqueID eui.EUI `json:"subjectUniqueID"`
	SubjectKeyID    KeyID   `json:"subjectKeyIdentifier"`
}

type partyView struct {
	Role             string             `json:"remotePartyRole"`
	Status           string             `json:"status"`
	StatusCode       uint8              `json:"statusCode"`
	CurrentSeqNumber *uint64            `json:"currentSeqNumber,omitempty"`
	Cells            []cellContentsView `json:"trustAnchorCellDetails,omitempty"`
}

type cs02aResponseView struct {
	Parties []partyView `json:"remotePartyDetails"`
}

// viewPayload returns the view of a decoded payload, its type name, and the
// per-cell or per-role outcomes it reports.
func viewPayload(p any) (view any, typ string, outcomes []OutcomeView) {
	switch p := p.(type) {
	case *UpdateSecurityCredentials:
		return viewCommand(p), "UpdateSecurityCredentials", nil
	case *UpdateSecurityCredentialsResponse:
		v := &responseView{CommandAccepted: true, ExecutionOutcome: viewExecutionOutcome(p.Outcome)}
		if p.Outcome != nil {
			outcomes = v.ExecutionOutcome.ReplacementOutcomes
		}
		return v, "UpdateSecurityCredentialsResponse", outcomes
	case *UpdateSecurityCredentialsAlert:
		v := &alertView{AlertCode: p.AlertCode.String(), AlertName: p.AlertCode.Name(),
			ExecutionDateTime: p.ExecutionDateTime.UTC().Format(time.RFC3339),
			ExecutionOutcome:  viewExecutionOutcome(&p.Outcome)}
		return v, "UpdateSecurityCredentialsAlert", v.ExecutionOutcome.ReplacementOutcomes
	case *ProvideSecurityCredentialDetails:
		v := &cs02aCommandView{AuthorisingCell: viewCell(&p.AuthorisingCell), Roles: []string{}}
		for _, r := range p.Roles {
			v.Roles = append(v.Roles, r.String())
		}
		return v, "ProvideSecurityCredentialDetails", nil
	case *ProvideSecurityCredentialDetailsResponse:
		v := &cs02aResponseView{Parties: []partyView{}}
		outcomes = []OutcomeView{}
		for i := range p.Parties {
			d := &p.Parties[i]
			pv := partyView{Role: d.Role.String(), Status: d.Status.String(), StatusCode: uint8(d.Status)}
			if c := d.Credentials; c != nil {
				seq := c.SeqNumber
				pv.CurrentSeqNumber = &seq
				pv.Cells = []cellContentsView{}
				for _, cc := range c.Cells {
					pv.Cells = append(pv.Cells, cellContentsView{KeyUsage: cc.KeyUsage.String(),
						CellUsage: cc.Usage.String(), SubjectUniqueID: cc.SubjectUniqueID, SubjectKeyID: cc.SubjectKeyID})
				}
			}
			v.Parties = append(v.Parties, pv)
			outcomes = append(outcomes, OutcomeView{Role: pv.Role, Status: pv.Status, StatusCode: pv.StatusCode})
		}
		return v, "ProvideSecurityCredentialDetailsResponse", outcomes
	}
	return nil, "", nil
}
