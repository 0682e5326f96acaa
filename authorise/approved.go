package authorise

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// ErrRedeemed: an approval was presented for signing a second time.
var ErrRedeemed = errors.New("authorise: approval already redeemed")

// Approved is proof that a 6.23 request passed steps 4 to 8. Its fields are
// unexported: nothing outside this package can make one, so the signer,
// which takes only an *Approved, cannot be handed an unvetted request.
// It is good for one signature (Redeem); pass it by pointer, never copy it.
type Approved struct {
	requestID  duis.RequestID
	body       *duis.UpdateSecurityCredentialsCoS
	party      string
	device     eui.EUI
	credential store.Credential
	executeAt  time.Time
	decidedAt  time.Time
	mpid       MPIDResult
	checks     []string
	// redeemed is set by the first Redeem. The store's one live command
	// per request is the durable guard; this one stops a second signature
	// of the same decision before it spends a counter.
	redeemed atomic.Bool
}

// Redeem uses the approval up: the first call succeeds, every later one,
// from any goroutine, fails with ErrRedeemed. The signer redeems before
// it signs; a new signature for the same request needs a new decision.
func (a *Approved) Redeem() error {
	if !a.redeemed.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: request %s", ErrRedeemed, a.requestID)
	}
	return nil
}

// RequestID is the User's RequestID.
func (a *Approved) RequestID() duis.RequestID { return a.requestID }

// Body is the authorised 6.23 body.
func (a *Approved) Body() *duis.UpdateSecurityCredentialsCoS { return a.body }

// Party is the requesting party's SEC Party ID.
func (a *Approved) Party() string { return a.party }

// Device is the target device.
func (a *Approved) Device() eui.EUI { return a.device }

// Credential is the CoS credential the device trusts: the key to sign with.
func (a *Approved) Credential() store.Credential { return a.credential }

// ExecuteAt is when the change takes effect (the receipt time for an
// immediate request).
func (a *Approved) ExecuteAt() time.Time { return a.executeAt }

// DecidedAt is when the decision was made.
func (a *Approved) DecidedAt() time.Time { return a.decidedAt }

// MPID is the step 8 result.
func (a *Approved) MPID() MPIDResult { return a.mpid }

// Checks names the checks passed, for the audit record.
func (a *Approved) Checks() []string { return append([]string(nil), a.checks...) }
