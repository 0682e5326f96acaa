package refdata

import (
	"io"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/store"
)

// Column sets, in the order docs/import.md lists them.
var (
	PartyColumns        = []string{"party_id", "name", "state", "user_eui", "role", "mpids"}
	DeviceColumns       = []string{"device_eui", "type", "smi_status", "credential"}
	RegistrationColumns = []string{"mpxn", "effective_from", "effective_to", "supplier_party_id", "mpid", "device_eui"}
)

// Each parser returns the records, and for each the line it starts on, so
// that a later failure (the store refusing a record) can name its line.

// Parties reads one line per (party, User ID). Lines of one party must
// agree on its name, state and MPIDs (separated by ';').
func Parties(name string, r io.Reader) ([]store.Party, []int, error) {
	t := &table{file: name}
	rows := t.read(r, PartyColumns)
	var out []store.Party
	var lines []int
	byID := map[string]int{}
	users := map[eui.EUI]int{}
	for _, rw := range rows {
		f := rw.fields
		id, user := f["party_id"], t.euiField(rw, "user_eui")
		if id == "" {
			t.addf(rw.line, "party_id is empty")
			continue
		}
		state := store.PartyState(strings.ToLower(f["state"]))
		if state != store.PartyActive && state != store.PartySuspended {
			t.addf(rw.line, "state %q: want active or suspended", f["state"])
		}
		role := store.Role(strings.ToLower(f["role"]))
		if !knownRole(role) {
			t.addf(rw.line, "role %q is not a DCC User role (import-supplier, gas-supplier, export-supplier, electricity-distributor, gas-transporter, registered-supplier-agent, other-user)", f["role"])
		}
		var mpids []string
		for _, m := range strings.Split(f["mpids"], ";") {
			if m = strings.TrimSpace(m); m != "" {
				mpids = append(mpids, m)
			}
		}
		if prev, dup := users[user]; dup && !user.IsZero() {
			t.addf(rw.line, "User %s already appears on line %d", user, prev)
		}
		users[user] = rw.line
		if i, seen := byID[id]; seen {
			p := &out[i]
			if p.Name != f["name"] || p.State != state || strings.Join(p.MPIDs, ";") != strings.Join(mpids, ";") {
				t.addf(rw.line, "party %s: name, state or MPIDs differ from its first line", id)
			}
			p.Users = append(p.Users, store.User{EUI: user, Role: role})
			continue
		}
		byID[id] = len(out)
		lines = append(lines, rw.line)
		out = append(out, store.Party{ID: id, Name: f["name"], State: state, MPIDs: mpids, Users: []store.User{{EUI: user, Role: role}}})
	}
	if err := t.err(); err != nil {
		return nil, nil, err
	}
	return out, lines, nil
}

// Devices reads one line per device.
func Devices(name string, r io.Reader) ([]store.Device, []int, error) {
	t := &table{file: name}
	rows := t.read(r, DeviceColumns)
	out := make([]store.Device, 0, len(rows))
	lines := make([]int, 0, len(rows))
	seen := map[eui.EUI]int{}
	for _, rw := range rows {
		f := rw.fields
		d := store.Device{
			EUI:        t.euiField(rw, "device_eui"),
			Type:       store.DeviceType(strings.ToUpper(f["type"])),
			SMIStatus:  store.SMIStatus(strings.ToLower(f["smi_status"])),
			Credential: store.Credential(strings.ToLower(f["credential"])),
		}
		if prev, dup := seen[d.EUI]; dup && !d.EUI.IsZero() {
			t.addf(rw.line, "device %s already appears on line %d", d.EUI, prev)
		}
		seen[d.EUI] = rw.line
		if d.Type != store.ESME && d.Type != store.GSME {
			t.addf(rw.line, "type %q: want ESME or GSME", f["type"])
		}
		if !knownSMI(d.SMIStatus) {
			t.addf(rw.line, "smi_status %q is not an SMI status", f["smi_status"])
		}
		if d.Credential != store.CredentialTCoS && d.Credential != store.CredentialECoS && d.Credential != store.CredentialUnknown {
			t.addf(rw.line, "credential %q: want tcos, ecos or unknown", f["credential"])
		}
		out, lines = append(out, d), append(lines, rw.line)
	}
	if err := t.err(); err != nil {
		return nil, nil, err
	}
	return out, lines, nil
}

// Registrations reads one line per registration period of an MPxN.
// effective_from is inclusive, effective_to exclusive and may be empty
// (open-ended); both are RFC 3339 date-times or dates (midnight UTC).
//
// A file with problems is refused (*Error), and the registrations come
// back with it only for what they reference: every line that names a
// supplier, with its device when that parsed, so the caller can list the
// lines whose party or device is not stored beside the file's own faults.
func Registrations(name string, r io.Reader) ([]store.Registration, []int, error) {
	t := &table{file: name}
	rows := t.read(r, RegistrationColumns)
	out := make([]store.Registration, 0, len(rows))
	lines := make([]int, 0, len(rows))
	for _, rw := range rows {
		f := rw.fields
		reg := store.Registration{MPxN: f["mpxn"], Supplier: f["supplier_party_id"], MPID: f["mpid"]}
		if _, err := mpxn.Parse(reg.MPxN); err != nil {
			t.addf(rw.line, "%v", err)
		}
		reg.From = t.timeField(rw, "effective_from", true)
		reg.To = t.timeField(rw, "effective_to", false)
		if !reg.To.IsZero() && !reg.To.After(reg.From) {
			t.addf(rw.line, "effective_to is not after effective_from")
		}
		if reg.Supplier == "" || reg.MPID == "" {
			t.addf(rw.line, "supplier_party_id and mpid are required")
		}
		if f["device_eui"] != "" {
			reg.Device = t.euiField(rw, "device_eui")
		}
		if reg.Supplier != "" {
			out, lines = append(out, reg), append(lines, rw.line)
		}
	}
	if err := t.err(); err != nil {
		return out, lines, err
	}
	return out, lines, nil
}

func (t *table) euiField(rw row, col string) eui.EUI {
	e, err := eui.Parse(rw.fields[col])
	if err != nil {
		t.addf(rw.line, "%s: %v", col, err)
	}
	return e
}

func (t *table) timeField(rw row, col string, required bool) time.Time {
	s := rw.fields[col]
	if s == "" {
		if required {
			t.addf(rw.line, "%s is required", col)
		}
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC()
		}
	}
	t.addf(rw.line, "%s %q: want an RFC 3339 date-time or YYYY-MM-DD", col, s)
	return time.Time{}
}

func knownRole(r store.Role) bool {
	switch r {
	case store.RoleImportSupplier, store.RoleExportSupplier, store.RoleGasSupplier, store.RoleElectricityDistributor,
		store.RoleGasTransporter, store.RoleRegisteredSupplierAgent, store.RoleOtherUser:
		return true
	}
	return false
}

func knownSMI(s store.SMIStatus) bool {
	switch s {
	case store.SMIPending, store.SMIWhitelisted, store.SMIInstalledNotCommissioned, store.SMICommissioned,
		store.SMIDecommissioned, store.SMIWithdrawn, store.SMISuspended, store.SMIRecovery, store.SMIRecovered:
		return true
	}
	return false
}
