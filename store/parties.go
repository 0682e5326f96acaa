package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ecos-cos/ecos/eui"
)

// PartyState is whether a SEC party may use DCC services.
type PartyState string

// Party states.
const (
	PartyActive    PartyState = "active"
	PartySuspended PartyState = "suspended"
)

// Role is a DCC User Role. A DCC User ID (EUI-64) acts in exactly one.
type Role string

// The DCC User Roles.
const (
	RoleImportSupplier          Role = "import-supplier"
	RoleExportSupplier          Role = "export-supplier"
	RoleGasSupplier             Role = "gas-supplier"
	RoleElectricityDistributor  Role = "electricity-distributor"
	RoleGasTransporter          Role = "gas-transporter"
	RoleRegisteredSupplierAgent Role = "registered-supplier-agent"
	RoleOtherUser               Role = "other-user"
)

var knownRoles = map[Role]bool{
	RoleImportSupplier: true, RoleExportSupplier: true, RoleGasSupplier: true,
	RoleElectricityDistributor: true, RoleGasTransporter: true,
	RoleRegisteredSupplierAgent: true, RoleOtherUser: true,
}

// Party is a SEC party: its registry entry, DCC User IDs and MPIDs.
type Party struct {
	ID    string // SEC Party ID
	Name  string // as printed in MPID reports
	State PartyState
	Users []User   // the party's DCC User IDs, each in one role
	MPIDs []string // Market Participant IDs it holds registrations under
}

// User is one DCC User ID of a party.
type User struct {
	EUI  eui.EUI
	Role Role
}

func (p *Party) validate() error {
	switch {
	case strings.TrimSpace(p.ID) == "":
		return invalidf("party ID is empty")
	case strings.TrimSpace(p.Name) == "":
		return invalidf("party %s: name is empty", p.ID)
	case p.State != PartyActive && p.State != PartySuspended:
		return invalidf("party %s: state %q is not %q or %q", p.ID, p.State, PartyActive, PartySuspended)
	}
	for _, u := range p.Users {
		if u.EUI.IsZero() {
			return invalidf("party %s: user EUI-64 is zero", p.ID)
		}
		if !knownRoles[u.Role] {
			return invalidf("party %s: user %s: unknown role %q", p.ID, u.EUI, u.Role)
		}
	}
	seen := map[string]bool{}
	for _, m := range p.MPIDs {
		if strings.TrimSpace(m) == "" {
			return invalidf("party %s: empty MPID", p.ID)
		}
		if seen[m] {
			return invalidf("party %s: MPID %s listed twice", p.ID, m)
		}
		seen[m] = true
	}
	return nil
}

// ImportParties writes parties in one transaction: all of them or, on any
// error, none. A party already present is updated, and its users and MPIDs
// become exactly those given. A failure is an *ImportError naming the index
// in parties of the offending party (a user EUI-64 another party holds, say).
func (db *DB) ImportParties(ctx context.Context, parties []Party) error {
	const name = "parties"
	ids := map[string]int{}
	users := map[eui.EUI]int{}
	for i := range parties {
		p := &parties[i]
		if err := p.validate(); err != nil {
			return &ImportError{Table: name, Row: i, Err: err}
		}
		if j, dup := ids[p.ID]; dup {
			return &ImportError{Table: name, Row: i, Err: fmt.Errorf("%w: party %s is also row %d", ErrDuplicate, p.ID, j)}
		}
		ids[p.ID] = i
		for _, u := range p.Users {
			if j, dup := users[u.EUI]; dup {
				return &ImportError{Table: name, Row: i, Err: fmt.Errorf("%w: user %s is also in row %d", ErrDuplicate, u.EUI, j)}
			}
			users[u.EUI] = i
		}
	}
	// Parties number in hundreds: their users and MPIDs are flattened up
	// front, each remembering its party's index for the error.
	type row struct {
		src  int
		vals []any
	}
	var userRows, mpidRows []row
	for i, p := range parties {
		for _, u := range p.Users {
			userRows = append(userRows, row{i, []any{euiArg(u.EUI), p.ID, string(u.Role)}})
		}
		for _, m := range p.MPIDs {
			mpidRows = append(mpidRows, row{i, []any{p.ID, m}})
		}
	}
	from := func(rows []row) func(int) (int, []any) {
		return func(i int) (int, []any) { return rows[i].src, rows[i].vals }
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.userOwners(ctx, tx, parties, ids); err != nil {
			return err
		}
		err := db.insert(ctx, tx, bulk{
			table:  "parties",
			cols:   []string{"party_id", "name", "state"},
			suffix: "ON CONFLICT (party_id) DO UPDATE SET name = excluded.name, state = excluded.state",
			name:   name,
		}, len(parties), func(i int) (int, []any) {
			p := &parties[i]
			return i, []any{p.ID, p.Name, string(p.State)}
		})
		if err != nil {
			return err
		}
		for i, p := range parties {
			for _, table := range []string{"party_users", "party_mpids"} {
				if _, err := tx.ExecContext(ctx, db.q("DELETE FROM "+table+" WHERE party_id = ?"), p.ID); err != nil {
					return &ImportError{Table: name, Row: i, Err: err}
				}
			}
		}
		err = db.insert(ctx, tx, bulk{
			table: "party_users",
			cols:  []string{"user_eui", "party_id", "role"},
			name:  name,
		}, len(userRows), from(userRows))
		if err != nil {
			return err
		}
		return db.insert(ctx, tx, bulk{
			table: "party_mpids",
			cols:  []string{"party_id", "mpid"},
			name:  name,
		}, len(mpidRows), from(mpidRows))
	})
}

// Party returns the party with SEC Party ID id, or ErrNotFound.
func (db *DB) Party(ctx context.Context, id string) (Party, error) {
	var p Party
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = db.loadParty(ctx, tx, id)
		return err
	})
	return p, err
}

// PartyByUser returns the party holding DCC User ID user and the role that
// User ID acts in, or ErrNotFound.
func (db *DB) PartyByUser(ctx context.Context, user eui.EUI) (Party, Role, error) {
	var p Party
	var role Role
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, db.q("SELECT party_id, role FROM party_users WHERE user_eui = ?"), euiArg(user)).Scan(&id, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: user %s", ErrNotFound, user)
		}
		if err != nil {
			return fmt.Errorf("store: user %s: %w", user, err)
		}
		p, err = db.loadParty(ctx, tx, id)
		return err
	})
	if err != nil {
		return Party{}, "", err
	}
	return p, role, nil
}

func (db *DB) loadParty(ctx context.Context, tx *sql.Tx, id string) (Party, error) {
	p := Party{ID: id}
	var state string
	err := tx.QueryRowContext(ctx, db.q("SELECT name, state FROM parties WHERE party_id = ?"), id).Scan(&p.Name, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return Party{}, fmt.Errorf("%w: party %s", ErrNotFound, id)
	}
	if err != nil {
		return Party{}, fmt.Errorf("store: party %s: %w", id, err)
	}
	p.State = PartyState(state)

	rows, err := tx.QueryContext(ctx, db.q("SELECT user_eui, role FROM party_users WHERE party_id = ? ORDER BY user_eui"), id)
	if err == nil {
		p.Users, err = scanAll(rows, func(r *sql.Rows) (User, error) {
			var b []byte
			var u User
			if err := r.Scan(&b, &u.Role); err != nil {
				return User{}, err
			}
			u.EUI, err = scanEUI(b)
			return u, err
		})
	}
	if err != nil {
		return Party{}, fmt.Errorf("store: party %s users: %w", id, err)
	}
	rows, err = tx.QueryContext(ctx, db.q("SELECT mpid FROM party_mpids WHERE party_id = ? ORDER BY mpid"), id)
	if err == nil {
		p.MPIDs, err = scanAll(rows, func(r *sql.Rows) (m string, err error) {
			err = r.Scan(&m)
			return m, err
		})
	}
	if err != nil {
		return Party{}, fmt.Errorf("store: party %s MPIDs: %w", id, err)
	}
	return p, nil
}

// userOwners names every party whose DCC User ID is stored under another
// party that this import leaves in place, rather than the first one the
// unique key would trip on. ids maps each imported party to its row.
func (db *DB) userOwners(ctx context.Context, tx *sql.Tx, parties []Party, ids map[string]int) error {
	owner := map[eui.EUI]string{}
	var euis []eui.EUI
	for _, p := range parties {
		for _, u := range p.Users {
			euis = append(euis, u.EUI)
		}
	}
	type pair struct {
		user  eui.EUI
		party string
	}
	err := queryIn(ctx, db, tx, "SELECT user_eui, party_id FROM party_users WHERE user_eui IN ", euis, func(e eui.EUI) any { return euiArg(e) },
		func(r *sql.Rows) (pair, error) {
			var b []byte
			var p pair
			err := r.Scan(&b, &p.party)
			if err == nil {
				p.user, err = scanEUI(b)
			}
			return p, err
		}, func(p pair) error {
			owner[p.user] = p.party
			return nil
		})
	if err != nil {
		return fmt.Errorf("store: import parties: %w", err)
	}
	var bad ImportErrors
	for i, p := range parties {
		for _, u := range p.Users {
			o, stored := owner[u.EUI]
			if _, reimported := ids[o]; stored && o != p.ID && !reimported {
				bad.add("parties", i, fmt.Errorf("%w: DCC User ID %s of party %s is stored under party %s", ErrDuplicate, u.EUI, p.ID, o))
			}
		}
	}
	return bad.err()
}
