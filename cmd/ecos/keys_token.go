package main

import (
	"flag"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/hsm"
)

// tokenFlags are the flags that name a PKCS#11 token and how to log in
// to it, the same on every command that opens one.
type tokenFlags struct {
	module, token, pinFile *string
}

func addTokenFlags(fs *flag.FlagSet) tokenFlags {
	return tokenFlags{
		module:  fs.String("module", "", "the HSM's PKCS#11 library `FILE` (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)"),
		token:   fs.String("token-label", "", "the token's `LABEL`"),
		pinFile: fs.String("pin-file", "", "a `FILE` holding the token user's PIN (never given on the command line)"),
	}
}

// set reports whether any of the flags was given.
func (f tokenFlags) set() bool { return *f.module != "" || *f.token != "" || *f.pinFile != "" }

// ceremony is the token as a ceremony names it (the ceremony checks it).
func (f tokenFlags) ceremony() custody.PKCS11 {
	return custody.PKCS11{Module: *f.module, TokenLabel: *f.token, PINFile: *f.pinFile}
}

// config is the token the flags name, each flag required.
func (f tokenFlags) config() (hsm.PKCS11, error) {
	switch {
	case *f.module == "":
		return hsm.PKCS11{}, usagef("--module: name the HSM's PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)")
	case *f.token == "":
		return hsm.PKCS11{}, usagef("--token-label: name the token")
	case *f.pinFile == "":
		return hsm.PKCS11{}, usagef("--pin-file: name the file holding the token user's PIN")
	}
	return hsm.PKCS11{Module: *f.module, TokenLabel: *f.token, PINFile: *f.pinFile}, nil
}
