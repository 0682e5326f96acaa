package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/keywrap"
)

func keysKEKLoadCommand() *command {
	return &command{name: "load", summary: "check the custodians' components and put the KEK they make on the HSM as an unwrap-only key", run: runKeysKEKLoad}
}

func runKeysKEKLoad(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys kek load", "")
	file := ceremonyFlag(fs)
	var c custody.KEKLoadCeremony
	fs.StringVar(&c.Name, "name", "kek-load", "the ceremony's `NAME`")
	tf := addTokenFlags(fs)
	fs.StringVar(&c.KEKLabel, "kek-label", "", "the `LABEL` the KEK gets on the token (refused if taken)")
	fs.Var((*componentRefs)(&c.Components), "component", "a component file and the KCV its custodian read out, `FILE=KCV`; once per component")
	fs.StringVar(&c.KCV, "kcv", "", "the whole KEK's `KCV`, by --kcv-method, from the KEK ceremony")
	method := fs.String("kcv-method", string(keywrap.KCVCMAC), "the `METHOD` of the KCVs given, aes-cmac-zero or aes-ecb-zero")
	fs.StringVar(&c.Transcript, "transcript", "", "the transcript `FILE` (default kek-load-TIME.transcript in the current directory)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c.KCVMethod = keywrap.KCVMethod(*method)
	c.PKCS11 = tf.ceremony()
	if *file != "" {
		c = custody.KEKLoadCeremony{}
	}
	src, err := loadCeremony(fs, *file, &c)
	if err != nil {
		return err
	}
	open := func(p custody.PKCS11) (custody.KEKToken, error) { return openAdmin(p) }
	res, err := custody.LoadKEK(&c, src, custody.Env{Rand: rand.Reader, Now: time.Now, Out: std.out}, open)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "KEK %q on token %q, KCV %s, %s\ntranscript: %s\n", c.KEKLabel, res.Token, res.KCVs[0], res.KCVs[1], res.Transcript)
	return nil
}

// openAdmin opens a ceremony's session on the token p names.
func openAdmin(p custody.PKCS11) (*hsm.Admin, error) {
	return hsm.OpenAdmin(hsm.PKCS11{Module: p.Module, TokenLabel: p.TokenLabel, PINFile: p.PINFile})
}
