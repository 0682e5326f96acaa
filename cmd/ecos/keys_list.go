package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ecos-cos/ecos/hsm"
)

func keysListCommand() *command {
	return &command{name: "list", summary: "list a token's keys with what each may do and whether it can ever leave the token", run: runKeysList}
}

func runKeysList(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos keys list", "")
	tf := addTokenFlags(fs)
	format := formatFlag(fs, "text", "json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c, err := tf.config()
	if err != nil {
		return err
	}
	a, err := hsm.OpenAdmin(c)
	if err != nil {
		return err
	}
	defer a.Close()
	objs, err := a.Objects()
	if err != nil {
		return err
	}
	var exposed []string
	for _, o := range objs {
		if (o.Class == "private key" || o.Class == "secret key") && (o.Extractable || !o.Sensitive || o.ValueReadable) {
			exposed = append(exposed, fmt.Sprintf("%q (%s)", o.Label, o.Class))
		}
	}
	if format.value == "json" {
		if err := printJSON(std, objs); err != nil {
			return err
		}
	} else {
		printObjects(std, a.Token(), objs)
	}
	if len(exposed) > 0 {
		return invalid(fmt.Errorf("%d key(s) on token %q can leave it in the clear: %s", len(exposed), a.Token(), strings.Join(exposed, ", ")))
	}
	return nil
}

func printObjects(std stdio, token string, objs []hsm.Object) {
	fmt.Fprintf(std.out, "token %q: %d objects\n", token, len(objs))
	tw := tabwriter.NewWriter(std.out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tCLASS\tTYPE\tMAY\tPROTECTION\tKCV (aes-ecb-zero)")
	for _, o := range objs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Label, o.Class, o.KeyType, uses(o), protection(o), kcvText(o.CheckValue))
	}
	tw.Flush()
}

func uses(o hsm.Object) string {
	var u []string
	for _, f := range []struct {
		on   bool
		name string
	}{{o.Sign, "sign"}, {o.Verify, "verify"}, {o.Encrypt, "encrypt"}, {o.Decrypt, "decrypt"},
		{o.Wrap, "wrap"}, {o.Unwrap, "unwrap"}, {o.Derive, "derive"}} {
		if f.on {
			u = append(u, f.name)
		}
	}
	if len(u) == 0 {
		return "-"
	}
	return strings.Join(u, ",")
}

func protection(o hsm.Object) string {
	if o.Class != "private key" && o.Class != "secret key" {
		return "-"
	}
	var p []string
	if o.Sensitive {
		p = append(p, "sensitive")
	} else {
		p = append(p, "NOT SENSITIVE")
	}
	if o.Extractable {
		p = append(p, "EXTRACTABLE")
	} else {
		p = append(p, "non-extractable")
	}
	if o.AlwaysSensitive {
		p = append(p, "always-sensitive")
	}
	if o.NeverExtractable {
		p = append(p, "never-extractable")
	}
	if o.ValueReadable {
		p = append(p, "VALUE READABLE")
	}
	return strings.Join(p, ",")
}

func kcvText(cv []byte) string {
	if len(cv) == 0 {
		return "-"
	}
	return fmt.Sprintf("%X", cv)
}
