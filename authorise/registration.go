package authorise

import (
	"context"
	"errors"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/store"
)

// registration is step 6. The MPxN must be valid, of the device's fuel,
// associated with the device, and registered to the requesting party at
// the execution date-time: now for an immediate request, the requested
// time for a future-dated one. A cancellation is instead checked against
// the future-dated request it cancels: only its sender may cancel it.
func (a *Authoriser) registration(ctx context.Context, body *duis.UpdateSecurityCredentialsCoS, target eui.EUI, dev store.Device, party store.Party, receivedAt time.Time) (*store.Registration, time.Time, error) {
	id, err := mpxn.Parse(body.ImportMPxN)
	if err != nil {
		return nil, time.Time{}, ecoserr.New(ecoserr.InvalidMPxN, err, "%v", err)
	}
	if (id.Kind == mpxn.MPAN) != (dev.Type == store.ESME) {
		return nil, time.Time{}, ecoserr.New(ecoserr.DeviceTypeMismatch, nil, "%s %s does not fit %s %s", id.Kind, id, dev.Type, target)
	}
	if body.IsCancellation() {
		return nil, receivedAt, a.cancellation(ctx, target, party)
	}
	at := receivedAt
	if body.ExecutionDateTime != nil && body.ExecutionDateTime.After(receivedAt) {
		at = *body.ExecutionDateTime
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

func (a *Authoriser) cancellation(ctx context.Context, target eui.EUI, party store.Party) error {
	if a.cfg.Pending == nil {
		return ecoserr.New(ecoserr.CancelNotOwner, nil, "cancellations are not accepted by this service")
	}
	sender, ok, err := a.cfg.Pending.FutureDatedSender(ctx, target)
	switch {
	case err != nil:
		return errInternal(err)
	case !ok:
		return ecoserr.New(ecoserr.CancelNotOwner, nil, "device %s has no future-dated change of supplier to cancel", target)
	case sender != party.ID:
		return ecoserr.New(ecoserr.CancelNotOwner, nil, "the future-dated change of supplier for %s was sent by another party", target)
	}
	return nil
}
