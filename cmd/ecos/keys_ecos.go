package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/enrol"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/role"
)

func keysECoSCommand() *command {
	return &command{name: "ecos", summary: "the ECoS credential: its key made in the HSM with a certificate request, then the issued certificate installed", subs: []*command{
		{name: "new", summary: "generate the ECoS key pair inside the HSM and write a PKCS#10 request for its SMKI Organisation certificate", run: runKeysECoSNew},
		{name: "install", summary: "check the issued ECoS certificate (SMKI profile, trust anchors, the key) and write it where the configuration's keys.ecos.cert names", run: runKeysECoSInstall},
	}}
}

// ecosCeremony is what `ecos keys ecos new` does, from a reviewed
// ceremony file or from flags of the same names.
type ecosCeremony struct {
	Module     string `json:"module"`
	TokenLabel string `json:"token_label"`
	PINFile    string `json:"pin_file"`
	KeyLabel   string `json:"key_label"`
	EUI        string `json:"eui"`
	Name       string `json:"name,omitempty"`
	CSR        string `json:"csr"`
	Transcript string `json:"transcript"`
}

func runKeysECoSNew(_ context.Context, std stdio, args []string) error {
	fl := newFlags(std, "ecos keys ecos new", "")
	file := fl.String("ceremony", "", "the reviewed ceremony `FILE` (JSON, the keys below); or give them as flags, for a rehearsal")
	var c ecosCeremony
	// The token flags read as addTokenFlags's, but fill the ceremony.
	fl.StringVar(&c.Module, "module", "", "the HSM's PKCS#11 library `FILE` (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)")
	fl.StringVar(&c.TokenLabel, "token-label", "", "the token's `LABEL`")
	fl.StringVar(&c.PINFile, "pin-file", "", "a `FILE` holding the token user's PIN (never given on the command line)")
	fl.StringVar(&c.KeyLabel, "key-label", "", "the new key's `LABEL`; refused if the token has anything under it")
	fl.StringVar(&c.EUI, "eui", "", "the ECoS Party's `EUI-64`, the certificate's entity identifier")
	fl.StringVar(&c.Name, "name", "", "the organisation `NAME` for the certificate's CN (optional)")
	fl.StringVar(&c.CSR, "csr", "", "where to write the certificate request, PEM (`FILE`; never written over)")
	fl.StringVar(&c.Transcript, "transcript", "", "the transcript `FILE` (default ecos-new-<UTC time>.transcript here; never written over)")
	if err := parseNone(fl, args); err != nil {
		return err
	}
	start := time.Now()
	var source string
	if *file != "" {
		var given []string
		fl.Visit(func(f *flag.Flag) {
			if f.Name != "ceremony" {
				given = append(given, "--"+f.Name)
			}
		})
		if len(given) > 0 {
			return usagef("--ceremony and %s: give the ceremony file or the flags, not both", strings.Join(given, ", "))
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			return malformed(err)
		}
		if c, err = decodeECoSCeremony(data, filepath.Dir(*file)); err != nil {
			return malformed(fmt.Errorf("%s: %w", *file, err))
		}
		source = fmt.Sprintf("ceremony file %s, SHA-256 %X", *file, sha256.Sum256(data))
	} else {
		source = "no ceremony file: the fields came from flags (a rehearsal)"
	}
	if c.Transcript == "" {
		c.Transcript = transcriptName("ecos-new", start)
	}
	id, subject, err := c.check()
	if err != nil {
		return usagef("%v", err)
	}
	// Every output is checked before the first step, so a ceremony never
	// stops half way because of a file left from another.
	for _, out := range []string{c.CSR, c.Transcript} {
		if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
			return usagef("%s exists: a ceremony never writes over an output; move it away or name another", out)
		}
	}
	tr, err := openTranscript(c.Transcript, std.out, time.Now)
	if err != nil {
		return err
	}
	defer tr.close()
	csrFile, err := os.OpenFile(c.CSR, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		csrFile.Close()
		if !done {
			os.Remove(c.CSR)
		}
	}()
	fail := func(err error) error {
		tr.step("FAILED: %v", err)
		tr.step("the request %s was not written; the transcript is %s", c.CSR, c.Transcript)
		return err
	}
	effective, _ := json.Marshal(c)
	tr.step("ecos keys ecos new: the ECoS key pair and its certificate request")
	tr.say(source)
	tr.step("ceremony: %s", effective)
	a, err := hsm.OpenAdmin(hsm.PKCS11{Module: c.Module, TokenLabel: c.TokenLabel, PINFile: c.PINFile})
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	tr.step("logged in to token %q of %s with the PIN in %s", c.TokenLabel, c.Module, c.PINFile)
	csr, _, err := enrol.New(a, c.KeyLabel, subject, rand.Reader, tr.say)
	if err != nil {
		return fail(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
	if _, err := csrFile.Write(data); err != nil {
		return fail(err)
	}
	if err := errors.Join(csrFile.Sync(), csrFile.Close()); err != nil {
		return fail(err)
	}
	done = true
	tr.step("wrote the certificate request to %s (PEM; SHA-256 of its DER %X)", c.CSR, sha256.Sum256(csr))
	tr.step("done: the SMKI issues the transitionalCoS certificate for EUI %s from %s; then `ecos keys ecos install --config FILE CERT` with keys.ecos.pkcs11 naming key %q on token %q",
		id, c.CSR, c.KeyLabel, c.TokenLabel)
	return nil
}

// decodeECoSCeremony decodes a ceremony file strictly (an unknown key,
// trailing data or a wrong type is an error) and resolves its relative
// paths against dir, the file's directory, as the configuration's are.
func decodeECoSCeremony(data []byte, dir string) (ecosCeremony, error) {
	var c ecosCeremony
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, err
	}
	if dec.More() {
		return c, errors.New("data after the ceremony's JSON object")
	}
	for _, p := range []*string{&c.PINFile, &c.CSR, &c.Transcript} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return c, nil
}

// check says every missing or wrong field at once.
func (c ecosCeremony) check() (eui.EUI, enrol.Subject, error) {
	var errs []error
	for _, f := range []struct{ key, val string }{
		{"module", c.Module}, {"token_label", c.TokenLabel}, {"pin_file", c.PINFile}, {"key_label", c.KeyLabel}, {"eui", c.EUI}, {"csr", c.CSR},
	} {
		if f.val == "" {
			errs = append(errs, fmt.Errorf("%s (--%s) is required", f.key, strings.ReplaceAll(f.key, "_", "-")))
		}
	}
	var id eui.EUI
	if c.EUI != "" {
		var err error
		if id, err = eui.Parse(c.EUI); err != nil {
			errs = append(errs, fmt.Errorf("eui %q: %v", c.EUI, err))
		}
	}
	s := enrol.Subject{CommonName: c.Name, Role: role.TransitionalCoS, EUI: id}
	if err := s.Check(); len(errs) == 0 && err != nil {
		errs = append(errs, err)
	}
	return id, s, errors.Join(errs...)
}
