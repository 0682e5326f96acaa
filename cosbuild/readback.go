package cosbuild

import (
	"fmt"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// ReadBack builds the unsigned CS02a command that asks device what its
// transitionalCoS cell holds (product.md §5, read-back), authorised by that
// cell: sign it with the key of the certificate the party believes is in
// it. Its response names the SKI in the cell and the cell's counter.
func ReadBack(originator, device eui.EUI, counter uint64) (*gbcs.Message, error) {
	payload, err := (&gbcs.ProvideSecurityCredentialDetails{
		AuthorisingCell: authorisingCell,
		Roles:           []gbcs.Role{gbcs.RoleTransitionalCoS},
	}).Bytes()
	if err != nil {
		return nil, fmt.Errorf("cosbuild: read-back: %w", err)
	}
	return gbcs.NewCommand(originator, device, counter, gbcs.CodeProvideSecurityCredentials, payload), nil
}
