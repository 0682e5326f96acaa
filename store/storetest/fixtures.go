package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// Reference data the tests share: two suppliers, devices and their
// registrations.

func supplier(n uint32) store.Party {
	return store.Party{
		ID:    fmt.Sprintf("SUP%d", n),
		Name:  fmt.Sprintf("Supplier %d Ltd", n),
		State: store.PartyActive,
		Users: []store.User{
			{EUI: eu(0x90, n<<8|1), Role: store.RoleImportSupplier},
			{EUI: eu(0x90, n<<8|2), Role: store.RoleGasSupplier},
		},
		MPIDs: []string{fmt.Sprintf("MP%02d", n), fmt.Sprintf("MQ%02d", n)},
	}
}

func device(n uint32) store.Device {
	return store.Device{
		EUI:           eu(0x00, n),
		Type:          store.ESME,
		SMIStatus:     store.SMICommissioned,
		Credential:    store.CredentialTCoS,
		CredentialSKI: []byte{0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, byte(n)},
	}
}

func devices(n int) []store.Device {
	ds := make([]store.Device, n)
	for i := range ds {
		ds[i] = device(uint32(i + 1))
	}
	return ds
}

func mpan(n int) string { return fmt.Sprintf("19%011d", n) }

// registrations gives MPxN i to device i+1 and supplier 1 from t0.
func registrations(n int) []store.Registration {
	rs := make([]store.Registration, n)
	for i := range rs {
		rs[i] = store.Registration{
			MPxN: mpan(i), From: t0, Supplier: "SUP1", MPID: "MP01", Device: eu(0x00, uint32(i+1)),
		}
	}
	return rs
}

// seed imports two suppliers, n devices and n registrations.
func seed(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := ctxOf(t)
	must(t, db.ImportParties(ctx, []store.Party{supplier(1), supplier(2)}))
	must(t, db.ImportDevices(ctx, devices(n)))
	must(t, db.ImportRegistrations(ctx, registrations(n)))
}

var hour = time.Hour
