package intake

import (
	"errors"
	"strings"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/ecoserr"
)

// AcceptedCommandVariant is the one Command Variant this service takes for
// SR 6.23: a command the ECoS Party signs and sends itself, on demand or
// future-dated (CV 1, as in the RTDS and DCC Boxed 6.23 templates). The
// others ask for a command returned to the User, a signed pre-command or
// a DCC-only answer, none of which an ECoS Party gives.
const AcceptedCommandVariant = 1

// Admit is the rest of step 1 (product.md §2) for a request the decoder
// found schema-valid: what the schema allows but this service does not
// take, and what the CS02b the request would become cannot carry. It runs
// before the acknowledgement, so a request that is acknowledged I99 never
// fails later for a reason its bytes already gave. The error is an
// *ecoserr.Error.
func Admit(req *duis.Request) error {
	if cv := req.Header.CommandVariant; cv != AcceptedCommandVariant {
		return ecoserr.New(ecoserr.UnsupportedRequest, nil, "CommandVariant %d: SR 6.23 is accepted with Command Variant %d only", cv, AcceptedCommandVariant)
	}
	body := req.UpdateSecurityCredentialsCoS
	if body == nil {
		return ecoserr.New(ecoserr.UnsupportedRequest, nil, "")
	}
	// Build the command without a key or a counter: whatever would stop the
	// signer later stops the request now.
	err := cosbuild.Check(body, req.Header.RequestID.Target)
	switch {
	case errors.Is(err, cosbuild.ErrExecutionTime):
		return ecoserr.New(ecoserr.ExecutionTimeUnsupported, err, "%s", public(err))
	case err != nil:
		return ecoserr.New(ecoserr.Malformed, err, "the request cannot be carried by a CS02b: %s", public(err))
	}
	return nil
}

// public is err's message without the package prefixes meant for logs.
func public(err error) string {
	s := err.Error()
	for _, p := range []string{"cosbuild: ", "gbcs: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}
