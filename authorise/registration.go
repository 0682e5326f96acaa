package authorise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/store"
)

// registration is step 6. The MPxN must be valid, of the device's fuel,
// associated with the device, and registered to the requesting party at
// the execution date-time: now for an immediate request, the requested
// time for a future-dated one, which may lie no further ahead than the
// horizon. A cancellation (any request the device would execute as one)
// passes the same MPxN checks, then is checked against the future-dated
// requests pending on the device: only their sender may cancel them.
func (a *Authoriser) registration(ctx context.Context, body *duis.UpdateSecurityCredentialsCoS, rid duis.RequestID, dev store.Device, party store.Party, receivedAt time.Time) (*store.Registration, time.Time, error) {
	target := rid.Target
	id, err := mpxn.Parse(body.ImportMPxN)
	if err != nil {
		return nil, time.Time{}, ecoserr.New(ecoserr.InvalidMPxN, err, "%v", err)
	}
	if (id.Kind == mpxn.MPAN) != (dev.Type == store.ESME) {
		return nil, time.Time{}, ecoserr.New(ecoserr.DeviceTypeMismatch, nil, "%s %s does not fit %s %s", id.Kind, id, dev.Type, target)
	}
	if cosbuild.IsCancellation(body) {
		if err := a.associated(ctx, id, target, receivedAt); err != nil {
			return nil, time.Time{}, err
		}
		return nil, receivedAt, a.cancellation(ctx, store.RequestID(rid), party.ID)
	}
	at := receivedAt
	if body.ExecutionDateTime != nil && body.ExecutionDateTime.After(receivedAt) {
		at = *body.ExecutionDateTime
	}
	if limit := receivedAt.Add(a.cfg.Horizon); at.After(limit) {
		return nil, time.Time{}, ecoserr.New(ecoserr.BeyondHorizon, nil, "ExecutionDateTime %s is after %s, %s after receipt",
			at.Format(time.RFC3339), limit.Format(time.RFC3339), horizonText(a.cfg.Horizon))
	}
	reg, err := a.cfg.Reference.RegistrationAt(ctx, id.Value, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, time.Time{}, ecoserr.New(ecoserr.NotRegisteredSupplier, err, "MPxN %s has no registered supplier at %s", id, at.Format(time.RFC3339))
	case err != nil:
		return nil, time.Time{}, errInternal(err)
	case reg.Device != target:
		return nil, time.Time{}, ecoserr.New(ecoserr.MPxNNotAssociated, nil, "MPxN %s is not associated with device %s", id, target)
	case reg.Supplier != party.ID:
		return nil, time.Time{}, ecoserr.New(ecoserr.NotRegisteredSupplier, nil, "party %s is not the registered supplier for MPxN %s at %s", party.ID, id, at.Format(time.RFC3339))
	}
	return &reg, at, nil
}

// associated checks that MPxN id is associated with device target at at:
// the part of step 6 a cancellation passes like any request.
func (a *Authoriser) associated(ctx context.Context, id mpxn.ID, target eui.EUI, at time.Time) error {
	reg, err := a.cfg.Reference.RegistrationAt(ctx, id.Value, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ecoserr.New(ecoserr.MPxNNotAssociated, err, "MPxN %s is not associated with device %s", id, target)
	case err != nil:
		return errInternal(err)
	case reg.Device != target:
		return ecoserr.New(ecoserr.MPxNNotAssociated, nil, "MPxN %s is not associated with device %s", id, target)
	}
	return nil
}

// StillOwns asks the cancellation rule again for an authorised
// cancellation about to be signed. Authorising and recording are not one
// step: another supplier's future-dated change may have become pending on
// the device in between, and a cancellation signed now would drop it too.
// The pipeline asks under the device's lock, so nothing is signed for the
// device between this answer and the cancellation's own signature.
func (a *Authoriser) StillOwns(ctx context.Context, rid store.RequestID, partyID string) error {
	return a.cancellation(ctx, rid, partyID)
}

// cancellation lets party cancel only if every future-dated request
// pending on target is its own: the device drops all of them.
func (a *Authoriser) cancellation(ctx context.Context, rid store.RequestID, partyID string) error {
	target := rid.Target
	if a.cfg.Pending == nil {
		return ecoserr.New(ecoserr.CancelNotOwner, nil, "cancellations are not accepted by this service")
	}
	senders, err := a.cfg.Pending.PendingFutureDated(ctx, target, rid)
	if err != nil {
		return errInternal(err)
	}
	if len(senders) == 0 {
		return ecoserr.New(ecoserr.CancelNotOwner, nil, "device %s has no pending future-dated change of supplier to cancel", target)
	}
	for _, s := range senders {
		if s != partyID {
			return ecoserr.New(ecoserr.CancelNotOwner, nil, "a future-dated change of supplier pending on %s was sent by another party", target)
		}
	}
	return nil
}

// horizonText writes a horizon in days, as an operator sets it.
func horizonText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// Recheck asks again, just before signing and under the device's lease,
// which CoS key the device trusts: a migration may have moved it from TCoS
// to ECoS, or lost track of it, since the request was authorised. The
// approval is made to sign with the key the device trusts now.
func (a *Authoriser) Recheck(ctx context.Context, ap *Approved) error {
	dev, err := a.cfg.Reference.Device(ctx, ap.device)
	if err != nil {
		return errInternal(err)
	}
	if dev.Credential != store.CredentialTCoS && dev.Credential != store.CredentialECoS {
		return ecoserr.New(ecoserr.DeviceState, nil, "device %s's CoS credential is unknown until it is read back", ap.device)
	}
	if a.cfg.Credentials != nil && !slices.Contains(a.cfg.Credentials, dev.Credential) {
		return ecoserr.New(ecoserr.DeviceState, nil, "device %s trusts the %s key, which this service does not hold", ap.device, dev.Credential)
	}
	ap.credential = dev.Credential
	return nil
}
