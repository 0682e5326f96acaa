package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/enrol"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/smki"
)

func runKeysECoSInstall(_ context.Context, std stdio, args []string) error {
	fl := newFlags(std, "ecos keys ecos install", "CERT")
	cfgPath := fl.String("config", "", "the service's configuration `FILE`: keys.ecos names the ECoS key and keys.ecos.cert where its certificate goes (required)")
	certPath, err := parseOne(fl, args, "CERT")
	if err != nil {
		return err
	}
	if *cfgPath == "" {
		return usagef("--config: name the service's configuration")
	}
	cfg, err := config.LoadPending(*cfgPath, "keys.ecos.cert")
	if err != nil {
		return malformed(err)
	}
	kp := cfg.Keys.ECoS
	if kp == nil {
		return malformed(fmt.Errorf("%s has no keys.ecos: name the ECoS key (keys.ecos.pkcs11, or keys.ecos.key) and where its certificate goes (keys.ecos.cert)", *cfgPath))
	}
	pub, where, err := ecosPublicKey(kp)
	if err != nil {
		return err
	}
	roots, err := smki.LoadFiles(cfg.Trust.OrganisationCAs...)
	if err != nil {
		return fmt.Errorf("trust.organisation_cas: %w", err)
	}
	intermediates, err := smki.LoadFiles(cfg.Trust.Intermediates...)
	if err != nil {
		return fmt.Errorf("trust.intermediates: %w", err)
	}
	data, err := readInput(std, certPath)
	if err != nil {
		return err
	}
	opts := smki.VerifyOptions{Roots: smki.NewPool(roots...), Intermediates: smki.NewPool(intermediates...), Now: time.Now()}
	chain, err := enrol.Check(data, pub, opts)
	if err != nil {
		return invalid(fmt.Errorf("refusing %s: %w; nothing was installed", certPath, err))
	}
	c := chain[0]
	fmt.Fprintf(std.out, "checked %s: an SMKI Organisation certificate that follows the profile: %v (OU %02X), EUI %s, %v, P-256; serial %X, valid %s to %s\n",
		certPath, c.Role, uint8(c.Role), c.EUI, c.KeyUsage, c.SerialNumber, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	var through []string
	for _, link := range chain[1 : len(chain)-1] {
		through = append(through, link.Subject.String())
	}
	via := ""
	if len(through) > 0 {
		via = " through " + strings.Join(through, ", ")
	}
	fmt.Fprintf(std.out, "checked: it chains%s to the trust anchor %s (trust.organisation_cas), every certificate valid now\n", via, chain[len(chain)-1].Subject)
	fmt.Fprintf(std.out, "checked: it certifies the ECoS key, the %s (%s)\n", where, enrol.Fingerprint(pub))
	installed, err := enrol.Install(kp.Cert, c)
	if err != nil {
		return invalid(fmt.Errorf("keys.ecos.cert: %w", err))
	}
	if installed {
		fmt.Fprintf(std.out, "installed %s as keys.ecos.cert: %s\n", certPath, kp.Cert)
	} else {
		fmt.Fprintf(std.out, "already installed: keys.ecos.cert %s holds this certificate; nothing changed\n", kp.Cert)
	}
	if len(opts.Intermediates.FindBySKI(c.AuthorityKeyID)) == 0 {
		fmt.Fprintf(std.out, "note: its issuing CA is not in trust.intermediates, so migration waves cannot start: devices are sent the ECoS certificate with its issuer\n")
	}
	fmt.Fprintf(std.out, "`ecos serve --config %s` now signs as the ECoS Party with it\n", *cfgPath)
	return nil
}

// ecosPublicKey is the public key of the ECoS key the configuration names,
// read the way the service reads it at start.
func ecosPublicKey(kp *config.KeyPair) (*ecdsa.PublicKey, string, error) {
	if p := kp.PKCS11; p != nil {
		tok, err := hsm.OpenToken(hsm.PKCS11{Module: p.Module, TokenLabel: p.TokenLabel, PINFile: p.PINFile, Sessions: p.Sessions})
		if err != nil {
			return nil, "", fmt.Errorf("keys.ecos.pkcs11: %w", err)
		}
		defer tok.Close()
		id, _ := p.ID() // checked by config.Validate
		s, err := tok.Signer(p.KeyLabel, id)
		if err != nil {
			return nil, "", fmt.Errorf("keys.ecos.pkcs11: %w", err)
		}
		return s.Public().(*ecdsa.PublicKey), fmt.Sprintf("key %s on token %q", hsm.KeyName(p.KeyLabel, id), p.TokenLabel), nil
	}
	k, err := hsm.LoadFile(kp.Key)
	if err != nil {
		return nil, "", fmt.Errorf("keys.ecos.key: %w", err)
	}
	return &k.PublicKey, "key in " + kp.Key, nil
}
