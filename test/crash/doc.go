// Package crash holds the crash-safety test of the ECoS Party: it runs the
// real `ecos serve` binary against an out-of-process `ecos devicesim`,
// kills the server with SIGKILL again and again under load, and checks
// after a last restart that every acknowledged request reached a final
// state, that no command frame reached a device twice and that no
// originator counter was used twice. TestMigrationKill9MidWave does the
// same to a TCoS → ECoS migration wave over 5,000 meters, killing the
// server at each stage of a command (mode 6 in intent, mode 6 sent, a
// read-back sent) while devicesim loses a seeded 3% of responses, and
// resuming with `ecos migrate resume` after each restart: the wave must
// end with every meter trusting ECoS, each attempt one mode 6 command
// with its own counter, every unknown device read back, and devicesim
// having received no frame twice and refused no mode 6 (run it with
// `go test ./test/crash -run Migration`). Each test runs on SQLite and
// on PostgreSQL (a fresh database on ECOS_TEST_POSTGRES_DSN; without it
// the PostgreSQL run is skipped locally and fails in CI). The deterministic
// counterpart, a crash after each commit of a 6.23 through the store
// seam, is pipeline's TestRecoverEachCommit.
//
// Trust level: test code only. It builds and runs binaries, writes a
// throw-away demo PKI and database in a temporary directory and listens
// on loopback ports; nothing here is part of the service.
package crash
