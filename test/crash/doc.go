// Package crash holds the crash-safety test of the ECoS Party: it runs the
// real `ecos serve` binary against an out-of-process `ecos devicesim`,
// kills the server with SIGKILL again and again under load, and checks
// after a last restart that every acknowledged request reached a final
// state, that no command frame reached a device twice and that no
// originator counter was used twice.
//
// Trust level: test code only. It builds and runs binaries, writes a
// throw-away demo PKI and database in a temporary directory and listens
// on loopback ports; nothing here is part of the service.
package crash
