package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/keywrap"
)

func keysExportCommand() *command {
	return &command{name: "export", summary: "wrap a private key under the KEK (PKCS#8, RFC 5649) with its manifest, for import into an HSM", run: runKeysExport}
}

func runKeysExport(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys export", "")
	file := ceremonyFlag(fs)
	var c custody.ExportCeremony
	fs.StringVar(&c.Name, "name", "export", "the export ceremony's `NAME`")
	fs.StringVar(&c.Key, "key", "", "the P-256 private key `FILE` to export (PKCS#8 or SEC 1, PEM or DER)")
	fs.StringVar(&c.Cert, "cert", "", "the key's certificate `FILE`: a key that is not its key is refused")
	fs.Var((*componentRefs)(&c.Components), "component", "a component file and the KCV its custodian read out, `FILE=KCV`; once per component")
	fs.StringVar(&c.KCV, "kcv", "", "the whole KEK's `KCV`, by --kcv-method, from the KEK ceremony")
	method := fs.String("kcv-method", string(keywrap.KCVCMAC), "the `METHOD` of the KCVs given, aes-cmac-zero or aes-ecb-zero")
	fs.StringVar(&c.Wrapped, "out", "", "the wrapped key's `FILE` (never overwritten)")
	fs.StringVar(&c.Manifest, "manifest", "", "the manifest's `FILE` (default: --out with .manifest.json appended; never overwritten)")
	fs.StringVar(&c.Transcript, "transcript", "", "the transcript `FILE` (default export-TIME.transcript in the current directory)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c.KCVMethod = keywrap.KCVMethod(*method)
	if c.Manifest == "" && c.Wrapped != "" {
		c.Manifest = c.Wrapped + ".manifest.json"
	}
	if *file != "" {
		c = custody.ExportCeremony{}
	}
	src, err := loadCeremony(fs, *file, &c)
	if err != nil {
		return err
	}
	res, err := custody.Export(&c, src, custody.Env{Rand: rand.Reader, Now: time.Now, Out: std.out})
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "wrapped key: %s\nmanifest: %s\ncertificate SKI: %s\ntranscript: %s\n", res.Wrapped, res.ManifestFile, res.Manifest.CertificateSKI, res.Transcript)
	return nil
}

// componentRefs is the repeatable --component FILE=KCV.
type componentRefs []custody.ComponentRef

func (r *componentRefs) String() string {
	var parts []string
	for _, c := range *r {
		parts = append(parts, c.File+"="+c.KCV)
	}
	return strings.Join(parts, " ")
}

func (r *componentRefs) Set(s string) error {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || i == len(s)-1 {
		return fmt.Errorf("%q: want FILE=KCV, the component file and the KCV its custodian read out", s)
	}
	*r = append(*r, custody.ComponentRef{File: s[:i], KCV: s[i+1:]})
	return nil
}
