package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ecos-cos/ecos/adt"
)

func runADTSign(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos adt sign", "FILE|-")
	keyPath := fs.String("key", "", "the File Signing private key `KEY.pem`: P-256, PKCS#8 or SEC 1, PEM or DER")
	certPath := fs.String("cert", "", "its File Signing certificate `CERT.pem`, PEM or DER: the signature line names it by issuer and serial")
	outPath := fs.String("out", "", "write the signed file to `FILE` instead of standard output")
	resign := fs.Bool("resign", false, "replace the signature line FILE already ends with")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	key, cert, err := loadKeyPair(*keyPath, *certPath)
	if err != nil {
		return err
	}
	in, err := readInput(std, name)
	if err != nil {
		return err
	}
	body, err := unsignedBody(in, *resign)
	if err != nil {
		return err
	}
	// rand == nil: RFC 6979, so signing one body twice gives one file.
	signed, err := adt.Sign(body, key, cert, nil)
	if err != nil {
		return err
	}
	// Parsing what would be written checks the body by the same rules
	// the receiver applies, line numbers and all, before anything is.
	d, err := readADTDoc(signed, false)
	if err != nil {
		return reportProblems(std.err, displayName(name), err)
	}
	// A file signed with another User's certificate would only be refused
	// at the other end; say so now.
	if d.user() != cert.EUI {
		return fmt.Errorf("the file is for User %s but --cert belongs to %s", d.user(), cert.EUI)
	}
	if *outPath != "" {
		return os.WriteFile(*outPath, signed, 0o644)
	}
	_, err = std.out.Write(signed)
	return err
}

// unsignedBody is in without its signature line, ready for adt.Sign: a
// final line ending is added, in the file's own style, if the editor left
// it off. An input that is already signed is refused unless resign is set,
// so that a signed file is not signed twice by mistake.
func unsignedBody(in []byte, resign bool) ([]byte, error) {
	start := bytes.LastIndexByte(bytes.TrimSuffix(in, []byte("\n")), '\n') + 1
	if bytes.HasPrefix(in[start:], []byte("Signature,")) {
		if !resign {
			return nil, usagef("the file already ends with a signature line (line %d); --resign replaces it", bytes.Count(in[:start], []byte("\n"))+1)
		}
		in = in[:start]
	}
	if len(in) == 0 {
		return nil, invalid(errors.New("the file has no header or rows: nothing to sign"))
	}
	if !bytes.HasSuffix(in, []byte("\n")) {
		eol := []byte("\n")
		if first, _, _ := bytes.Cut(in, []byte("\n")); bytes.HasSuffix(first, []byte("\r")) {
			eol = []byte("\r\n")
		}
		in = append(bytes.Clone(in), eol...)
	}
	return in, nil
}
