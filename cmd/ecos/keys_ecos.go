package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/enrol"
)

func keysECoSCommand() *command {
	return &command{name: "ecos", summary: "the ECoS credential: its key made in the HSM with a certificate request, then the issued certificate installed", subs: []*command{
		{name: "new", summary: "generate the ECoS key pair inside the HSM and write a PKCS#10 request for its SMKI Organisation certificate", run: runKeysECoSNew},
		{name: "install", summary: "check the issued ECoS certificate (SMKI profile, trust anchors, the key) and write it where the configuration's keys.ecos.cert names", run: runKeysECoSInstall},
	}}
}

func runKeysECoSNew(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys ecos new", "")
	file := ceremonyFlag(fs)
	var c custody.ECoSNewCeremony
	fs.StringVar(&c.Name, "name", "ecos-new", "the ceremony's `NAME`")
	tf := addTokenFlags(fs)
	fs.StringVar(&c.KeyLabel, "key-label", "", "the new key's `LABEL` on the token (refused if anything there has it)")
	fs.StringVar(&c.EUI, "eui", "", "the ECoS Party's `EUI-64`, the certificate's entity identifier")
	fs.StringVar(&c.Organisation, "organisation", "", "the organisation `NAME` for the certificate's CN (optional)")
	fs.StringVar(&c.CSR, "csr", "", "the `FILE` the certificate request is written to, PEM (never overwritten)")
	fs.StringVar(&c.Transcript, "transcript", "", "the transcript `FILE` (default ecos-new-TIME.transcript in the current directory)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c.PKCS11 = tf.ceremony()
	if *file != "" {
		c = custody.ECoSNewCeremony{}
	}
	src, err := loadCeremony(fs, *file, &c)
	if err != nil {
		return err
	}
	open := func(p custody.PKCS11) (custody.ECoSToken, error) { return openAdmin(p) }
	res, err := custody.NewECoS(&c, src, custody.Env{Rand: rand.Reader, Now: time.Now, Out: std.out}, open)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "request: %s\nkey %q on token %q: %s\ntranscript: %s\n", res.CSR, res.KeyLabel, res.Token, enrol.Fingerprint(res.PublicKey), res.Transcript)
	return nil
}
