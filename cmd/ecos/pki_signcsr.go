package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/enrol"
	"github.com/ecos-cos/ecos/role"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

func runPKISignCSR(_ context.Context, std stdio, args []string) error {
	fl := newFlags(std, "ecos pki sign-csr", "CSR OUT.pem")
	dir := fl.String("pki", "", "the test PKI `DIR` (ecos pki init) whose Organisation CA issues the certificate (required)")
	roleName := fl.String("role", "transitionalCoS", "the `ROLE` the request must ask for: a GBCS name or the two hex digits of the subject OU")
	days := fl.Int("days", 0, "validity in days from now (default: ten years, as the PKI's own organisation certificates)")
	pos, err := parseArgs(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("want the request and the output file, got %d arguments", len(pos))
	}
	csrPath, out := pos[0], pos[1]
	if *dir == "" {
		return usagef("--pki: name the test PKI directory")
	}
	r, err := role.Parse(*roleName)
	if err != nil {
		return usagef("--role: %v", err)
	}
	if *days < 0 {
		return usagef("--days %d: want a positive number of days", *days)
	}
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		return usagef("%s exists: the issued certificate is never written over a file", out)
	}
	p, err := testpki.LoadDir(*dir)
	if err != nil {
		return err
	}
	data, err := readInput(std, csrPath)
	if err != nil {
		return err
	}
	req, err := smki.ParseRequestPEM(data)
	if err != nil {
		return invalid(fmt.Errorf("%s: %w", csrPath, err))
	}
	now := time.Now().UTC().Truncate(time.Second)
	o := testpki.IssueOptions{Now: now, Role: r}
	if *days > 0 {
		o.NotAfter = now.AddDate(0, 0, *days)
	}
	der, err := p.IssueOrganisation(req, o)
	if err != nil {
		return invalid(fmt.Errorf("%s: %w", csrPath, err))
	}
	c, err := smki.Parse(der)
	if err != nil {
		return err
	}
	if err := custody.WriteNew(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "issued %s: %v certificate for EUI %s, %v, serial %X\n", out, c.Role, c.EUI, c.KeyUsage, c.SerialNumber)
	fmt.Fprintf(std.out, "  subject %s, key %s\n", c.Subject, enrol.Fingerprint(c.PublicKey))
	fmt.Fprintf(std.out, "  valid %s to %s, issued by %s (%s/org-ca.pem) under %s/root-ca.pem\n",
		c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), c.Issuer, *dir, *dir)
	fmt.Fprintln(std.out, "this is a test PKI's certificate: for tests and rehearsals only")
	return nil
}
