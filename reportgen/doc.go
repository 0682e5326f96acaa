// Package reportgen makes a realistic month of 6.23 traffic, for demos of
// the MPID usage report (product.md §3) and for its benchmarks: SEC
// parties, their MPIDs and XML-signing certificates, their meters and
// registrations, and the month's requests with their MPID outcomes, spread
// over the days and hours as suppliers send them. Everything is recorded
// through the calls the pipeline and the reference-data import use, so the
// report reads what it would read in service.
//
// The same Options (seed included) make the same month.
package reportgen
