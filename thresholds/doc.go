// Package thresholds keeps every User's anomaly detection thresholds in
// force (product.md §4). It accepts a User's signed ADT file only if it
// parses, obeys the June 2023 rules, is signed by a File Signing
// certificate of that User chaining to the IKI File Signing CA, and
// carries a sequence number above the last accepted one; then, and only
// then, the file is stored and its thresholds replace the User's in the
// counter. At start it loads the newest file of every User and rebuilds the
// counts of the last day from the stored requests, so a restart neither
// forgets a threshold nor opens a fresh window. It applies signed
// Quarantined Communications Action Files, and reports each User's
// quarantined requests.
//
// Trust level: files arrive from Users over the network and are hostile
// until their signature and sequence are checked; nothing is changed
// before that.
package thresholds
