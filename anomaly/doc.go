// Package anomaly counts requests against anomaly detection thresholds
// (product.md §4): step 9 of the 6.23 pipeline asks a Counter whether a
// request is admitted, admitted with a warning, or quarantined.
//
// The rules below are the project's own: the public sources say what a
// threshold is, not how a sliding window is kept.
//
// Windows. Each threshold row of a User (and each DCC-wide row) has a
// window of Interval minutes over requests of its SRV, kept as S slices
// (Options.Slices, 60 by default) of Interval/S each. Slices are aligned to
// the Unix epoch and right-closed. A check at t counts every request in
// the slices that overlap (t − Interval, t]: exact when t is on a slice
// boundary and requests were made on boundaries, otherwise up to one slice
// more than the interval, never less. The error is toward quarantine. If
// the clock steps back (or concurrent checks arrive out of order), the
// request is counted at the newest instant any of its windows has seen, in
// their newest slices, so that it slides out no earlier than it would have
// without the step back.
//
// Decisions. A User's request is checked against every window of the User
// for its SRV (one per interval) and then every DCC-wide window for it;
// the CoS Party's own commands (CheckOwn) against the DCC-wide windows
// only. If one more request would take any window above its quarantine
// threshold (count+1 > Quarantine), the request is quarantined, in the
// scope of the first such window (the User's before the DCC's), and is
// counted nowhere: a held request takes no place in the window, and if it
// is released the service calls Count. Otherwise it is counted in every
// window, and it is a Warn if it is the request that takes some window
// from its warning threshold to one above it (count == Warning+1): one
// warning per crossing, not one per request above it. A threshold of zero
// quarantines every request, which is how the June 2023 rule holds
// critical SRVs without a valid row. An SRV with no window for the User
// or the DCC is admitted and not counted.
//
// Thresholds. SetUser and SetDCC replace a whole set at once; a window
// whose (SRV, interval) survives keeps its counts, others start empty.
// Options.DefaultUser, if set, applies to every User SetUser never named,
// and is materialised per User on its first request.
//
// Concurrency. Check is atomic: the decision and the counting happen under
// the locks of every window involved, so two checks can never both take the
// last place below a threshold. Users are spread over 256 shards, each
// with its own lock, and DCC-wide windows have a lock per SRV. Lock order:
// a User's shard, then one SRV's DCC lock; SetDCC takes every DCC lock in
// SRV order and no shard's. An SRV the DCC does not limit takes no DCC lock.
//
// Memory. Loading a row (SetUser, or a default User's first request) costs
// about 155 bytes per (User, SRV, interval), measured by BenchmarkMemory: a
// 72-byte window in its shard's arena, which grows by doubling, and its
// share of the (User, SRV) map. A window keeps the count of its newest
// slice itself; once requests fall in a second slice it gets a ring of
// slice counts, 4×(S+1) bytes (244 at the default S), cut from chunks of
// 64, and a row then costs about 420 bytes. Zero-threshold windows never
// count and never get a ring. 10,000 Users × 51 rows: about 75 MiB loaded,
// about 200 MiB with every ring in use. A check in steady state allocates
// nothing; the first request of a default User allocates its windows.
//
// Role: in-memory state of the pipeline; no I/O. Counts are lost on
// restart, and the service restores them with Count from stored requests.
// Time is a parameter: the Counter never reads a clock.
//
// Trust level: trusts its callers. Thresholds are expected to have passed
// adt's rules; rows that did not are dropped or clamped, never refused.
package anomaly
