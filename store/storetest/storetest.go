// Package storetest is the storage conformance suite: the behaviour every
// backend of package store must show, run against a real database. The
// SQLite run (store/sqlite_test.go) is always on; the PostgreSQL run
// (store/postgres_test.go) needs ECOS_TEST_POSTGRES_DSN and is required in
// CI.
//
// Trust level: test code; it trusts the database it is given to be empty
// and its own.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// Opener returns a fresh, empty, migrated database for one test, and
// arranges with t.Cleanup for it to be closed and dropped. A second handle
// on the same database comes from store.Open(ctx, db.Config()).
type Opener func(t *testing.T) *store.DB

// Run runs every conformance test against databases from open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"migrate/idempotent", testMigrateIdempotent},
		{"counters/sequence", testCounterSequence},
		{"counters/raise", testCounterRaise},
		{"counters/exhausted", testCounterExhausted},
		{"counters/concurrent", testCounterConcurrent},
		{"counters/two-handles", testCounterTwoHandles},
		{"replay/order", testReplayOrder},
		{"replay/concurrent", testReplayConcurrent},
		{"requests/receive", testRequestReceive},
		{"requests/transitions", testRequestTransitions},
		{"requests/record", testRequestRecord},
		{"requests/record-batch", testRequestRecordBatch},
		{"replay/highest", testHighestAcceptedCounter},
		{"requests/update-with-response", testRequestUpdateResponse},
		{"requests/count", testRequestCount},
		{"requests/pending-future-dated", testPendingFutureDated},
		{"responses/add", testResponsesAdd},
		{"responses/push", testResponsesPush},
		{"responses/push-by-user", testResponsesPushByUser},
		{"parties/roundtrip", testPartiesRoundTrip},
		{"parties/all-or-nothing", testPartiesAllOrNothing},
		{"devices/roundtrip", testDevicesRoundTrip},
		{"devices/all-or-nothing", testDevicesAllOrNothing},
		{"devices/supplier", testDevicesSupplier},
		{"registrations/boundary", testRegistrationBoundary},
		{"registrations/supersede", testRegistrationSupersede},
		{"registrations/all-or-nothing", testRegistrationsAllOrNothing},
		{"commands/lifecycle", testCommandLifecycle},
		{"commands/illegal", testCommandIllegal},
		{"commands/sign-once-concurrent", testCommandSignOnce},
		{"commands/duplicate-concurrent", testCommandDuplicateConcurrent},
		{"commands/pending-unsent", testCommandPendingUnsent},
		{"commands/lookup", testCommandLookup},
		{"commands/reserve-intent", testReserveIntent},
		{"commands/carry-request", testCommandCarriesRequest},
		{"commands/record-answer", testRecordAnswer},
		{"commands/sign-once-per-request", testSignOnceStates},
		{"commands/sign-once-per-request-concurrent", testSignOnceConcurrent},
		{"quarantine/record", testQuarantineRecord},
		{"quarantine/decide", testQuarantineDecide},
		{"quarantine/all-or-nothing", testQuarantineAllOrNothing},
		{"quarantine/expiry", testQuarantineExpiry},
		{"quarantine/holds", testQuarantineHolds},
		{"quarantine/admitted-since", testAdmittedSince},
		{"dashboard/counts", testDashboardCounts},
		{"adt/sequence", testADTSequence},
		{"adt/current", testADTCurrent},
		{"adt/concurrent", testADTConcurrent},
		{"inventory/roundtrip", testInventoryRoundTrip},
		{"inventory/all-or-nothing", testInventoryAllOrNothing},
		{"inventory/after-transition", testInventoryAfterTransition},
		{"migration/lifecycle", testMigrationLifecycle},
		{"migration/refusals", testMigrationRefusals},
		{"migration/property", testMigrationProperty},
		{"migration/concurrent", testMigrationConcurrent},
		{"migration/next-devices", testMigrationNextDevices},
		{"migration/batch", testMigrationBatch},
		{"migration-report/tables", testMigrationReport},
		{"migration-report/empty", testMigrationReportEmpty},
		{"migration-report/reasons", testMigrationReportReasons},
		{"mpid-report/figures", testMPIDReport},
		{"mpid-report/party", testMPIDReportParty},
		{"mpid-report/empty", testMPIDReportEmpty},
		{"mpid-report/states", testMPIDReportStates},
		{"waves/create", testWaveCreate},
		{"waves/states", testWaveStates},
		{"waves/filters", testWaveFilters},
		{"waves/take", testTakeForWave},
		{"waves/due", testWaveDue},
		{"own-commands/claim", testClaimCommands},
		{"own-commands/claim-concurrent", testClaimConcurrent},
		{"own-commands/settle", testOwnSettle},
		{"reopen/survives", testReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// t0 is the suite's clock: store takes time as a parameter, so tests pick it.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.UTC)

func ctxOf(t *testing.T) context.Context { return t.Context() }

// reopen opens a second handle on db's database, closed at cleanup.
func reopen(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	db2, err := store.Open(ctxOf(t), db.Config())
	if err != nil {
		t.Fatalf("second handle: %v", err)
	}
	t.Cleanup(func() { db2.Close() })
	return db2
}

// eu makes a distinct EUI-64 from n.
func eu(prefix byte, n uint32) eui.EUI {
	return eui.EUI{prefix, 0xB3, 0xD5, 0x1F, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one wrapping %v", err, target)
	}
}

// wantTransition checks err is a *store.TransitionError out of state from.
func wantTransition(t *testing.T, err error, from string) {
	t.Helper()
	wantIs(t, err, store.ErrTransition)
	te, ok := errors.AsType[*store.TransitionError](err)
	if !ok || te.From != from {
		t.Fatalf("got %v, want a TransitionError from %q", err, from)
	}
}

// wantImportRow checks err is a *store.ImportError naming row.
func wantImportRow(t *testing.T, err error, row int) {
	t.Helper()
	ie, ok := errors.AsType[*store.ImportError](err)
	if !ok {
		t.Fatalf("got %v, want an *store.ImportError", err)
	}
	if ie.Row != row {
		t.Fatalf("import error names row %d, want %d: %v", ie.Row, row, err)
	}
}
