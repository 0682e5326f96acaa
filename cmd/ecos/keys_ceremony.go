package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/ecos-cos/ecos/custody"
	"github.com/ecos-cos/ecos/internal/strictjson"
)

// ceremonyFlag is the --ceremony flag every ceremony command has: the
// reviewed file, or else the same fields as flags (for rehearsals), never
// both.
func ceremonyFlag(fs *flag.FlagSet) *string {
	return fs.String("ceremony", "", "run the ceremony in the reviewed JSON `FILE`; or give its fields as the other flags, not both")
}

// loadCeremony fills c from the --ceremony file, or checks the fields the
// flags put in c. It refuses a file given with any other flag, so what
// runs is exactly what was reviewed.
func loadCeremony(fs *flag.FlagSet, file string, c custody.Ceremony) (custody.Source, error) {
	if file == "" {
		if err := c.Validate(); err != nil {
			return custody.Source{}, malformed(fromFlags(err))
		}
		return custody.Source{}, nil
	}
	var others []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "ceremony" {
			others = append(others, "--"+f.Name)
		}
	})
	if len(others) > 0 {
		return custody.Source{}, usagef("--ceremony FILE runs the reviewed file as it is: %s may not be given with it", strings.Join(others, ", "))
	}
	sum, err := custody.LoadCeremony(file, c)
	if err != nil {
		return custody.Source{}, malformed(err)
	}
	return custody.Source{File: file, SHA256: sum}, nil
}

// fromFlags names a ceremony problem by its flag rather than its JSON key.
func fromFlags(err error) error {
	se, ok := errors.AsType[*strictjson.Error](err)
	if !ok {
		return err
	}
	var b strings.Builder
	b.WriteString("the ceremony's flags:")
	for _, p := range se.Problems {
		key, _, _ := strings.Cut(p.Key, "[")
		if f, ok := flagOf[key]; ok {
			fmt.Fprintf(&b, "\n\t%s (--%s): %s", p.Key, f, p.Msg)
		} else {
			fmt.Fprintf(&b, "\n\t%s: %s", p.Key, p.Msg)
		}
	}
	return errors.New(b.String())
}

// flagOf is the flag that sets a ceremony field.
var flagOf = map[string]string{
	"name": "name", "components": "components or --component", "bits": "bits", "kcv_method": "kcv-method", "out_dir": "out",
	"transcript": "transcript", "key": "key", "cert": "cert", "kcv": "kcv", "wrapped": "out", "manifest": "manifest",
	"pkcs11.module": "module", "pkcs11.token_label": "token-label", "pkcs11.pin_file": "pin-file",
	"kek_label": "kek-label", "key_label": "key-label", "mechanism": "mechanism",
	"eui": "eui", "organisation": "organisation", "csr": "csr",
}
