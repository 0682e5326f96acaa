package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/hsm"
)

func keysImportCommand() *command {
	return &command{name: "import", summary: "unwrap an exported key inside the HSM under the loaded KEK, as a sign-only key that never leaves it", run: runKeysImport}
}

func runKeysImport(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys import", "")
	file := ceremonyFlag(fs)
	var c custody.ImportCeremony
	fs.StringVar(&c.Name, "name", "import", "the ceremony's `NAME`")
	tf := addTokenFlags(fs)
	fs.StringVar(&c.KEKLabel, "kek-label", "", "the `LABEL` of the KEK on the token (ecos keys kek load)")
	fs.StringVar(&c.Wrapped, "wrapped", "", "the wrapped key `FILE` (ecos keys export)")
	fs.StringVar(&c.Manifest, "manifest", "", "its manifest `FILE` (default: --wrapped with .manifest.json appended)")
	fs.StringVar(&c.Cert, "cert", "", "the key's certificate `FILE`: its SKI must be the manifest's and its public key the unwrapped key's")
	fs.StringVar(&c.KeyLabel, "key-label", "", "the `LABEL` the key gets on the token (refused if taken)")
	fs.StringVar(&c.Mechanism, "mechanism", hsm.MechanismSoftHSM.Name, "the token's RFC 5649 unwrap `MECHANISM`: CKM_AES_KEY_WRAP_PAD (0x210A, SoftHSM2), CKM_AES_KEY_WRAP_KWP (0x210B, PKCS#11 3.0), luna-CKM_AES_KWP (0x80000171), or a number")
	fs.StringVar(&c.Transcript, "transcript", "", "the transcript `FILE` (default import-TIME.transcript in the current directory)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c.PKCS11 = tf.ceremony()
	if c.Manifest == "" && c.Wrapped != "" {
		c.Manifest = c.Wrapped + ".manifest.json"
	}
	if *file != "" {
		c = custody.ImportCeremony{}
	}
	src, err := loadCeremony(fs, *file, &c)
	if err != nil {
		return err
	}
	open := func(p custody.PKCS11) (custody.ImportToken, error) { return openAdmin(p) }
	res, err := custody.Import(&c, src, custody.Env{Rand: rand.Reader, Now: time.Now, Out: std.out}, open)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "key %q on token %q (certificate SKI %s)\ntranscript: %s\n", res.KeyLabel, res.Token, res.Manifest.CertificateSKI, res.Transcript)
	return nil
}
