package authorise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/store"
)

// Reference is the reference data the authoriser reads; *store.DB
// satisfies it. Lookups report store.ErrNotFound for what is not there.
type Reference interface {
	PartyByUser(ctx context.Context, user eui.EUI) (store.Party, store.Role, error)
	Device(ctx context.Context, id eui.EUI) (store.Device, error)
	RegistrationAt(ctx context.Context, mpxn string, at time.Time) (store.Registration, error)
}

// PendingFutureDated says which parties sent the future-dated 6.23s still
// pending on a device (not executed, cancelled, failed or rejected), so
// that only their sender may cancel them.
type PendingFutureDated interface {
	// asker is the cancellation asking: it does not count as cancelling
	// them (recovery asks again for a cancellation already recorded).
	PendingFutureDated(ctx context.Context, device eui.EUI, asker store.RequestID) (partyIDs []string, err error)
}

// Config is fixed for the life of an Authoriser.
type Config struct {
	Reference Reference
	// Pending is required to accept cancellations; without it every
	// cancellation is refused, never waved through.
	Pending PendingFutureDated
	// OrganisationCAs anchor replacement certificates' paths.
	OrganisationCAs *smki.Pool
	MPID            MPIDConfig
	// AllowForeignReplacements accepts replacement certificates that belong
	// to a party other than the requester. The RTDS 6.23 templates need it
	// (sent by supplier 1, carrying supplier 2's certificates); production
	// must leave it off.
	AllowForeignReplacements bool
	// Links, if set, remembers replacement certificate chains already
	// verified: a supplier sends the same three with every request.
	Links *smki.Links
	// Credentials are the CoS credentials the service holds a signing key
	// for; a device that trusts another is refused here rather than
	// acknowledged and then failed by the signer. Nil means both.
	Credentials []store.Credential
	// Horizon is how far beyond receipt an ExecutionDateTime may lie;
	// later ones are refused (beyond-horizon). Zero means DefaultHorizon.
	Horizon time.Duration
}

// DefaultHorizon is ten years: the RTDS future-dated template, dated 2030,
// passes, while a date no device will live to see is refused.
const DefaultHorizon = 10 * 365 * 24 * time.Hour

// Authoriser applies Config to requests.
type Authoriser struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Authoriser, error) {
	if cfg.Reference == nil {
		return nil, errors.New("authorise: no reference data")
	}
	if cfg.OrganisationCAs == nil || cfg.OrganisationCAs.Len() == 0 {
		return nil, errors.New("authorise: no Organisation CA to check replacement certificates against")
	}
	if err := cfg.MPID.validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Horizon == 0:
		cfg.Horizon = DefaultHorizon
	case cfg.Horizon < 0:
		return nil, fmt.Errorf("authorise: future-dated horizon %s is negative", cfg.Horizon)
	}
	return &Authoriser{cfg: cfg}, nil
}

// Verified is what intake hands on: the request decoded from the bytes its
// signature covers, the certificate that signed it, and when it arrived.
type Verified struct {
	Request    *duis.Request
	Signer     *smki.Certificate
	ReceivedAt time.Time
}

// Authorise runs steps 4 to 8. On success the *Approved carries everything
// the signer needs; on refusal the error is an *ecoserr.Error whose Reason
// is the step that failed. The MPID result is returned in both cases once
// step 8 was reached, because it is reported even when policy is "report".
func (a *Authoriser) Authorise(ctx context.Context, v Verified) (*Approved, *MPIDResult, error) {
	req := v.Request
	if req == nil || req.UpdateSecurityCredentialsCoS == nil {
		return nil, nil, ecoserr.New(ecoserr.UnsupportedRequest, nil, "")
	}
	body := req.UpdateSecurityCredentialsCoS
	id := req.Header.RequestID

	party, role, err := a.user(ctx, id.Originator)
	if err != nil {
		return nil, nil, err
	}
	dev, err := a.device(ctx, id.Target, role)
	if err != nil {
		return nil, nil, err
	}
	reg, execAt, err := a.registration(ctx, body, id, dev, party, v.ReceivedAt)
	if err != nil {
		return nil, nil, err
	}
	checks := []string{"user", "device", "registration"}
	if err := a.replacements(body, party, v.ReceivedAt); err != nil {
		return nil, nil, err
	}
	checks = append(checks, "replacement-certificates")
	mpid := a.cfg.MPID.outcome(v.Signer, reg, party)
	if err := a.cfg.MPID.enforce(mpid); err != nil {
		return nil, mpid, err
	}
	checks = append(checks, "mpid")
	return &Approved{
		requestID:  id,
		body:       body,
		party:      party.ID,
		device:     dev.EUI,
		credential: dev.Credential,
		executeAt:  execAt,
		decidedAt:  v.ReceivedAt,
		mpid:       *mpid,
		checks:     checks,
	}, mpid, nil
}

// user is step 4: a known User of an active party, in a role that may send
// SR 6.23.
func (a *Authoriser) user(ctx context.Context, originator eui.EUI) (store.Party, store.Role, error) {
	party, role, err := a.cfg.Reference.PartyByUser(ctx, originator)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Party{}, "", ecoserr.New(ecoserr.UnknownUser, err, "User %s is not known", originator)
	case err != nil:
		return store.Party{}, "", ecoserr.New(ecoserr.Internal, err, "")
	case role != store.RoleImportSupplier && role != store.RoleGasSupplier:
		return store.Party{}, "", ecoserr.New(ecoserr.RoleNotPermitted, nil, "User %s acts as %s; SR 6.23 is for Import and Gas Suppliers", originator, role)
	case party.State != store.PartyActive:
		return store.Party{}, "", ecoserr.New(ecoserr.UserNotActive, nil, "party %s is %s", party.ID, party.State)
	}
	return party, role, nil
}

// device is step 5: a known device in a state that allows a change of
// supplier, of the fuel the User's role supplies, whose CoS credential is
// known (no command is signed with a guessed key).
func (a *Authoriser) device(ctx context.Context, id eui.EUI, role store.Role) (store.Device, error) {
	dev, err := a.cfg.Reference.Device(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Device{}, ecoserr.New(ecoserr.UnknownDevice, err, "device %s does not exist", id)
	case err != nil:
		return store.Device{}, ecoserr.New(ecoserr.Internal, err, "")
	}
	switch dev.SMIStatus {
	case store.SMICommissioned, store.SMIInstalledNotCommissioned:
	default:
		return store.Device{}, ecoserr.New(ecoserr.DeviceState, nil, "device %s is %s", id, dev.SMIStatus)
	}
	want := store.ESME
	if role == store.RoleGasSupplier {
		want = store.GSME
	}
	if dev.Type != want {
		return store.Device{}, ecoserr.New(ecoserr.RoleNotPermitted, nil, "a %s may not change the supplier of %s %s", role, dev.Type, id)
	}
	if dev.Credential != store.CredentialTCoS && dev.Credential != store.CredentialECoS {
		return store.Device{}, ecoserr.New(ecoserr.DeviceState, nil, "device %s's CoS credential is unknown until it is read back", id)
	}
	if a.cfg.Credentials != nil && !slices.Contains(a.cfg.Credentials, dev.Credential) {
		return store.Device{}, ecoserr.New(ecoserr.DeviceState, nil, "device %s trusts the %s key, which this service does not hold", id, dev.Credential)
	}
	return dev, nil
}

// errInternal wraps an unexpected failure without leaking it.
func errInternal(err error) error { return ecoserr.New(ecoserr.Internal, err, "") }
