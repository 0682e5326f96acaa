package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/smki"
)

func adtCommand() *command {
	return &command{name: "adt", summary: "check, sign and submit Anomaly Detection Threshold and Quarantined Communications Action files; show a User's thresholds", subs: []*command{
		{name: "validate", summary: "list every problem in an ADT or action file, with line numbers; verify its signature with --certs and --iki", run: runADTValidate},
		{name: "sign", summary: "append the File Signing signature line to an ADT or action file body", run: runADTSign},
		adtSubmitCommand(),
		adtShowCommand(),
	}}
}

func runADTValidate(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos adt validate", "FILE|-")
	var certsSpec pathList
	fs.Var(&certsSpec, "certs", "where the signing certificate is found by issuer and serial: `DIR|keystore.json|PEM[,PEM]` (repeatable; with --iki)")
	ikiPath := fs.String("iki", "", "the IKI File Signing CA certificate (`PEM`) the signer must be issued by (with --certs)")
	atFlag := fs.String("at", "", "check the signer's validity at this time, `RFC3339` (default: now)")
	legacy := fs.Bool("legacy", false, "accept an ADT header without a sequence number, as settings carried over from before June 2023 have")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	if (len(certsSpec) == 0) != (*ikiPath == "") {
		return usagef("--certs and --iki go together: the signer is looked up in one and must be issued by the other")
	}
	at := time.Now().UTC()
	if *atFlag != "" {
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return usagef("--at: %v", err)
		}
	}
	var certs, iki *smki.Pool
	if *ikiPath != "" {
		if certs, err = loadStore(certsSpec.String()); err != nil {
			return malformed(fmt.Errorf("--certs: %w", err))
		}
		// The IKI CA alone anchors the chain, with no intermediates: an
		// --iki naming a root would otherwise let any Organisation
		// certificate of the User sign its thresholds.
		ca, err := loadCert(*ikiPath)
		if err != nil {
			return malformed(fmt.Errorf("--iki: %w", err))
		}
		iki = smki.NewPool(ca)
	}
	b, err := readInput(std, name)
	if err != nil {
		return err
	}
	d, err := readADTDoc(b, *legacy)
	if err != nil {
		return reportProblems(std.err, displayName(name), err)
	}
	verdict := "signature not checked (no --certs/--iki)"
	if iki != nil {
		cert, err := d.verify(certs, adt.VerifyOptions{IKI: iki, Now: at})
		if err != nil {
			return reportProblems(std.err, displayName(name), err)
		}
		verdict = fmt.Sprintf("signature verified (File Signing certificate of %s, issued by %s)", cert.EUI, cert.Issuer)
	}
	fmt.Fprintf(std.out, "valid: %s; %s\n", d.summary(), verdict)
	return nil
}
