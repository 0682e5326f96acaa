package main

// keysCommand is key custody: the KEK ceremony, moving a key into an HSM,
// the ECoS credential, and proving what a token holds (docs/keys.md).
// Each subcommand lives in its own keys_*.go file.
func keysCommand() *command {
	return &command{name: "keys", summary: "key custody: KEK ceremony, key transfer into an HSM, the ECoS credential, proofs", subs: []*command{
		keysKEKCommand(),
		keysExportCommand(),
		keysImportCommand(),
		keysListCommand(),
		keysProveCommand(),
		keysECoSCommand(),
	}}
}

// keysKEKCommand is `ecos keys kek`: the KEK's ceremonies.
func keysKEKCommand() *command {
	return &command{name: "kek", summary: "make a KEK as custodians' components, or load one into an HSM", subs: []*command{
		keysKEKNewCommand(),
		keysKEKLoadCommand(),
	}}
}
