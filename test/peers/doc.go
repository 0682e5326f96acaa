// Package peers cross-checks what ecos emits against SmartDCC's own
// open-source tools: every GBCS frame type (the CS02b commands of modes 6
// and 7 the CoS Party signs, modes 2 and 3 as gbcs builds them, the CS02a
// read, and the simulated meters' CS02b and CS02a responses and 0x00CB
// future-dated alerts; every frame of the TCoS → ECoS migration, each
// failure status included) is decoded by SmartDCC's gbcs-parser, and every
// DUIS document type (the 6.23 request, the acknowledgement, the service
// response, the DCC alerts) is parsed by @smartdcc/duis-parser. The tests
// compare the peers' fields with ours, have gbcs-parser check our KRP
// signatures and ACB MACs, check that the signatures and MACs it makes
// verify here and are obeyed by the device model, and run the same
// comparisons on the RTDS frames and requests.
//
// The peers run in Node: setup (in this directory) builds them into a
// cache outside the repository and prints ECOS_GBCS_PARSER and
// ECOS_DUIS_PARSER; peers.js is the small script the tests drive them
// with. Without them the tests skip, except in CI (CI=true), where they
// fail. docs/conformance.md lists what is checked against which peer.
//
// Trust level: test code only; nothing here is part of the service.
package peers
