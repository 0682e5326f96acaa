// Package store remembers: the party registry, registration data, the
// device inventory, which RequestIDs have been accepted, the requests and
// the responses owed to their Users, the requests anomaly detection holds
// and the ADT files it counts by, the CoS Party's originator counters and
// every command it intends to sign, has signed, sent and heard back about.
//
// Trust level: trusts its callers. It checks only what keeps the data
// consistent (keys, references, legal state transitions, replay and counter
// monotonicity); deciding whether a request is allowed is authz's job.
//
// Two backends sit behind one concrete [DB]: SQLite (pure Go, the default,
// one file in WAL mode) and PostgreSQL (pgx). Both run the same logical
// schema from versioned migrations embedded in the binary, and both pass
// one conformance suite (package storetest). Consumers declare the small
// interface they need over *DB (style.md C2); store exports no interfaces.
//
// Conventions every method follows:
//   - ctx comes first; the caller's deadline bounds the database call.
//   - Time is a parameter: store never reads the clock. Times are kept as
//     microseconds since the Unix epoch, UTC, so they compare the same in
//     both dialects and come back truncated to the microsecond, in UTC.
//   - A method that writes commits before it returns: a nil error means
//     the change is durable.
//   - Errors wrap the sentinels in errors.go (ErrNotFound, ErrReplay, …) so
//     callers test them with errors.Is.
package store
