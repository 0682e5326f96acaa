package main

import (
	"context"
	"crypto"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/prove"
)

func keysProveCommand() *command {
	return &command{name: "prove", summary: "sign a CS02b mode 7 and mode 6 with a CoS key, verify them with its certificate and send them to simulated meters trusting it, its certificate valid and expired", run: runKeysProve}
}

func runKeysProve(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys prove", "")
	tf := addTokenFlags(fs)
	keyLabel := fs.String("key-label", "", "the key pair's label (CKA_LABEL) on the token")
	keyFile := fs.String("key", "", "a software key `FILE` (PEM or DER) instead of a token key: the old side's proof before export")
	certPath := fs.String("cert", "", "the key's transitionalCoS digital-signing certificate (`CERT.pem`, PEM or DER): the meters' trust anchor")
	format := formatFlag(fs, "text", "json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	onToken := tf.set() || *keyLabel != ""
	switch {
	case *certPath == "":
		return usagef("--cert is required")
	case *keyFile != "" && onToken:
		return usagef("--key or the token's flags (--module, --token-label, --pin-file, --key-label), not both")
	case *keyFile == "" && !onToken:
		return usagef("the key: --module, --token-label, --pin-file and --key-label for a token key, or --key FILE")
	case onToken && *keyLabel == "":
		return usagef("--key-label: name the key on the token")
	}
	var tok hsm.PKCS11
	if onToken {
		var err error
		if tok, err = tf.config(); err != nil {
			return err
		}
	}
	cert, err := loadCert(*certPath)
	if err != nil {
		return malformed(err)
	}
	var signer crypto.Signer
	var name, label string
	if onToken {
		t, err := hsm.OpenToken(tok)
		if err != nil {
			return err
		}
		defer t.Close()
		if signer, err = t.Signer(*keyLabel, nil); err != nil {
			return err
		}
		name = fmt.Sprintf("key %q on token %q (%s)", *keyLabel, tok.TokenLabel, tok.Module)
		label = fmt.Sprintf("key %q", *keyLabel)
	} else {
		key, err := hsm.LoadFile(*keyFile)
		if err != nil {
			return malformed(err)
		}
		signer, name, label = key, "software key "+*keyFile, "the software key"
	}
	r, err := prove.Run(prove.Options{Signer: signer, Key: name, Label: label, Cert: cert.Raw, Now: time.Now})
	if err != nil {
		return invalid(fmt.Errorf("%s: %w", *certPath, err))
	}
	if format.value == "json" {
		if err := printJSON(std, r); err != nil {
			return err
		}
	} else {
		r.WriteText(std.out)
	}
	if !r.OK() {
		return invalid(fmt.Errorf("%d of %d checks failed", r.Failed, r.Failed+r.Passed))
	}
	return nil
}
