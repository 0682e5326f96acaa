package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/keywrap"
)

func keysKEKNewCommand() *command {
	return &command{name: "new", summary: "make a new KEK as 2 or 3 components, one file per custodian, and print the KCVs", run: runKeysKEKNew}
}

func runKeysKEKNew(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys kek new", "")
	file := ceremonyFlag(fs)
	var c custody.KEKNewCeremony
	fs.StringVar(&c.Name, "name", "", "the KEK ceremony's `NAME`, written in every component file")
	fs.IntVar(&c.Components, "components", 3, "how many components, one per custodian: 2 or 3")
	fs.IntVar(&c.Bits, "bits", 256, "the KEK's size: 128, 192 or 256")
	method := fs.String("kcv-method", string(keywrap.KCVCMAC), "the components' KCV `METHOD`, aes-cmac-zero or aes-ecb-zero (the KEK's is printed by both)")
	fs.StringVar(&c.OutDir, "out", "", "the `DIR` the component files are written to (made if absent; refused if it holds any of them)")
	fs.StringVar(&c.Transcript, "transcript", "", "the transcript `FILE` (default kek-new-TIME.transcript in the current directory)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c.KCVMethod = keywrap.KCVMethod(*method)
	if *file != "" {
		c = custody.KEKNewCeremony{}
	}
	src, err := loadCeremony(fs, *file, &c)
	if err != nil {
		return err
	}
	res, err := custody.NewKEK(&c, src, custody.Env{Rand: rand.Reader, Now: time.Now, Out: std.out})
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "transcript: %s\n", res.Transcript)
	return nil
}
