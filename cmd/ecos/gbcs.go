package main

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/hsm"
	"github.com/ecos-cos/ecos/internal/hexfile"
	"github.com/ecos-cos/ecos/smki"
)

func gbcsCommand() *command {
	return &command{name: "gbcs", summary: "decode, verify and build GBCS frames", subs: []*command{
		{name: "decode", summary: "describe a GBCS frame (hex or binary) as a tree or JSON", run: runGBCSDecode},
		{name: "verify", summary: "check a frame's KRP signature against a certificate", run: runGBCSVerify},
		{name: "build-cos", summary: "build and sign the CS02b mode 7 command for a DUIS 6.23 request", run: runBuildCoS},
		{name: "build-migration", summary: "build and sign a CS02b mode 6 (TCoS → ECoS) command", run: runBuildMigration},
		{name: "build-readback", summary: "build and sign the CS02a that reads back a device's transitionalCoS cell", run: runBuildReadBack},
	}}
}

// readFrame reads a frame given as a hex dump (white space allowed) or as
// raw binary.
func readFrame(std stdio, name string) ([]byte, error) {
	b, err := readInput(std, name)
	if err != nil {
		return nil, err
	}
	if hexfile.LooksLikeHex(b) {
		if b, err = hexfile.Decode(b); err != nil {
			return nil, malformed(err)
		}
	}
	if len(b) == 0 {
		return nil, malformed(errors.New("empty input"))
	}
	return b, nil
}

func runGBCSDecode(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos gbcs decode", "FILE|-")
	format := formatFlag(fs, "text", "json")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	frame, err := readFrame(std, name)
	if err != nil {
		return err
	}
	d, err := gbcs.Describe(frame)
	if err != nil {
		return malformed(err)
	}
	if format.value == "json" {
		return printJSON(std, d)
	}
	return gbcs.WriteText(std.out, d)
}

func runGBCSVerify(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos gbcs verify", "FILE|-")
	certPath := fs.String("cert", "", "the signer's certificate, `PEM`: the CoS party's for commands, the device's for responses")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *certPath == "" {
		return usagef("--cert is required")
	}
	cert, err := loadCert(*certPath)
	if err != nil {
		return malformed(err)
	}
	b, err := readFrame(std, name)
	if err != nil {
		return err
	}
	f, err := gbcs.ParseFrame(b)
	if err != nil {
		return malformed(err)
	}
	m := &f.Message
	if err := m.Verify(cert.PublicKey); err != nil {
		return invalid(fmt.Errorf("signature does not verify with %s: %w", *certPath, err))
	}
	// A good signature from a key that is not the originator's is still a
	// forgery as far as the recipient is concerned.
	if cert.EUI != m.Originator {
		return invalid(fmt.Errorf("signature verifies, but the certificate belongs to %s and the frame's originator is %s", cert.EUI, m.Originator))
	}
	fmt.Fprintf(std.out, "valid: %s %s (%s) from %s to %s, counter %d, signed with %s\n",
		m.Code, m.Code.Name(), m.CRA, m.Originator, m.Recipient, m.Counter, describeCert(cert))
	return nil
}

// describeCert names a certificate the way an operator recognises it.
func describeCert(c *smki.Certificate) string {
	if c.Kind == smki.Device {
		return fmt.Sprintf("device certificate %s (serial %X)", c.EUI, c.SerialNumber)
	}
	return fmt.Sprintf("%s certificate %s (serial %X)", c.Role, c.EUI, c.SerialNumber)
}

func loadCert(path string) (*smki.Certificate, error) {
	certs, err := smki.LoadFiles(path)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%s: want one certificate, found %d", path, len(certs))
	}
	if certs[0].PublicKey == nil {
		return nil, fmt.Errorf("%s: certificate has no P-256 public key", path)
	}
	return certs[0], nil
}

// loadKeyPair reads a P-256 private key and its certificate, given as
// --key and --cert, and checks that they belong together: signing with a
// mismatched pair would only be found out by whoever verifies.
func loadKeyPair(keyPath, certPath string) (*ecdsa.PrivateKey, *smki.Certificate, error) {
	if keyPath == "" || certPath == "" {
		return nil, nil, usagef("--key and --cert are required")
	}
	key, err := hsm.LoadFile(keyPath)
	if err != nil {
		return nil, nil, malformed(err)
	}
	cert, err := loadCert(certPath)
	if err != nil {
		return nil, nil, malformed(err)
	}
	if err := hsm.CheckMatches(key, cert.PublicKey); err != nil {
		return nil, nil, fmt.Errorf("%s and %s: %w", keyPath, certPath, err)
	}
	return key, cert, nil
}

// loadCerts reads certificates from files (comma-separated), in order:
// PEM files may hold several; a DER file, as DUIS carries them, holds one.
func loadCerts(list string) ([]*smki.Certificate, error) {
	return smki.LoadFiles(strings.Split(list, ",")...)
}

// loadCertChain is loadCerts as DER, for payloads that carry certificates.
func loadCertChain(list string) ([][]byte, error) {
	certs, err := loadCerts(list)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out, nil
}

// signingFlags are the flags both builders share: who signs, with which
// counter, and where the frame goes.
type signingFlags struct {
	originator, key, cert, out, acbKey, deviceKA *string
	counter                                      *string
}

func addSigningFlags(fs interface {
	String(name, value, usage string) *string
}) signingFlags {
	return signingFlags{
		originator: fs.String("originator", "", "the CoS party's `EUI`-64 (the signer's entity ID)"),
		counter:    fs.String("counter", "", "the CoS party's originator counter for this command, `N`"),
		key:        fs.String("key", "", "the signing key `KEY.pem` (PEM or DER PKCS#8)"),
		cert:       fs.String("cert", "", "the key's certificate `CERT.pem`: checked to match the key and the originator"),
		out:        fs.String("out", "", "write the hex to `FILE` instead of standard output"),
		acbKey:     fs.String("acb-key", "", "wrap in General Ciphering with the ACB GMAC made with this KA key, `KEY.pem` (needs --device-ka)"),
		deviceKA:   fs.String("device-ka", "", "the device's KA certificate, `PEM`, for --acb-key"),
	}
}

func (s signingFlags) parse() (originator eui.EUI, counter uint64, err error) {
	if *s.originator == "" || *s.counter == "" || *s.key == "" {
		return eui.EUI{}, 0, usagef("--originator, --counter and --key are required")
	}
	if originator, err = eui.Parse(*s.originator); err != nil {
		return eui.EUI{}, 0, usagef("--originator: %v", err)
	}
	if counter, err = strconv.ParseUint(*s.counter, 10, 64); err != nil {
		return eui.EUI{}, 0, usagef("--counter %q: want a decimal uint64", *s.counter)
	}
	if (*s.acbKey == "") != (*s.deviceKA == "") {
		return eui.EUI{}, 0, usagef("--acb-key and --device-ka go together")
	}
	return originator, counter, nil
}

// signAndWrite signs msg with the key, checks the result, and prints hex:
// the bare General Signing APDU the CoS Party emits, or with --acb-key the
// General Ciphering frame as it travels after the ACB.
func (s signingFlags) signAndWrite(std stdio, msg *gbcs.Message) error {
	key, err := hsm.LoadFile(*s.key)
	if err != nil {
		return malformed(err)
	}
	if *s.cert != "" {
		cert, err := loadCert(*s.cert)
		if err != nil {
			return malformed(err)
		}
		if err := hsm.CheckMatches(key, cert.PublicKey); err != nil {
			return fmt.Errorf("%s and %s: %w", *s.key, *s.cert, err)
		}
		if cert.EUI != msg.Originator {
			return fmt.Errorf("--cert belongs to %s, not the originator %s", cert.EUI, msg.Originator)
		}
	}
	// rand == nil: RFC 6979 deterministic ECDSA, so the same input always
	// gives the same frame.
	if err := msg.Sign(nil, key); err != nil {
		return err
	}
	if err := msg.Verify(&key.PublicKey); err != nil {
		return fmt.Errorf("internal: signature does not verify after signing: %w", err)
	}
	var out []byte
	if *s.acbKey != "" {
		keys, err := macKeys(*s.acbKey, *s.deviceKA)
		if err != nil {
			return malformed(err)
		}
		f, err := gbcs.Wrap(msg, keys)
		if err != nil {
			return err
		}
		if out, err = f.Bytes(); err != nil {
			return err
		}
	} else if out, err = msg.Bytes(); err != nil {
		return err
	}
	text := strings.ToUpper(hex.EncodeToString(out)) + "\n"
	if *s.out != "" {
		return os.WriteFile(*s.out, []byte(text), 0o644)
	}
	_, err = fmt.Fprint(std.out, text)
	return err
}

func macKeys(acbKeyPath, deviceKAPath string) (*gbcs.MACKeys, error) {
	acb, err := hsm.LoadFile(acbKeyPath)
	if err != nil {
		return nil, err
	}
	priv, err := acb.ECDH()
	if err != nil {
		return nil, err
	}
	cert, err := loadCert(deviceKAPath)
	if err != nil {
		return nil, err
	}
	var peer *ecdh.PublicKey
	if peer, err = cert.PublicKey.ECDH(); err != nil {
		return nil, err
	}
	return &gbcs.MACKeys{Private: priv, Peer: peer}, nil
}

func runBuildCoS(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos gbcs build-cos", "")
	request := fs.String("request", "", "the DUIS 6.23 request `DUIS.xml` (its RequestID names the device)")
	sf := addSigningFlags(fs)
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	if *request == "" {
		return usagef("--request is required")
	}
	originator, counter, err := sf.parse()
	if err != nil {
		return err
	}
	doc, err := readInput(std, *request)
	if err != nil {
		return err
	}
	req, err := duis.DecodeRequest(doc)
	if err != nil {
		return malformed(err)
	}
	payload, err := cosbuild.SupplierByTransCoS(req.UpdateSecurityCredentialsCoS, counter)
	if err != nil {
		return err
	}
	msg, err := cosbuild.Command(originator, req.Header.RequestID.Target, payload)
	if err != nil {
		return err
	}
	return sf.signAndWrite(std, msg)
}

func runBuildMigration(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos gbcs build-migration", "")
	target := fs.String("target", "", "the device's `EUI`-64")
	newCert := fs.String("new-cert", "", "the incoming transitionalCoS certificate `ECOS.pem` (the ECoS one)")
	path := fs.String("path", "", "its certification path `CA.pem[,CA.pem]`: PEM or DER file(s), comma-separated, issuing CA first")
	applyCPV := fs.Bool("apply-time-cpv", false, "let the device apply time-based path checks (RTDS disapplies them)")
	sf := addSigningFlags(fs)
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	if *target == "" || *newCert == "" || *path == "" {
		return usagef("--target, --new-cert and --path are required")
	}
	device, err := eui.Parse(*target)
	if err != nil {
		return usagef("--target: %v", err)
	}
	originator, counter, err := sf.parse()
	if err != nil {
		return err
	}
	incoming, err := loadCert(*newCert)
	if err != nil {
		return malformed(err)
	}
	if incoming.Role != smki.RoleTransitionalCoS || incoming.KeyUsage != smki.KeyUsageDigitalSignature {
		return fmt.Errorf("--new-cert is a %s %s certificate; the transitionalCoS cell takes a transitionalCoS digital-signing one", incoming.Role, incoming.KeyUsage)
	}
	chain, err := loadCertChain(*path)
	if err != nil {
		return malformed(err)
	}
	payload, err := cosbuild.TransCoSByTransCoS(cosbuild.Migration{
		NewCertificate: incoming.Raw, CertificationPath: chain, ApplyTimeBasedCPV: *applyCPV,
	}, counter)
	if err != nil {
		return err
	}
	msg, err := cosbuild.Command(originator, device, payload)
	if err != nil {
		return err
	}
	return sf.signAndWrite(std, msg)
}

// runBuildReadBack builds the read-back for a device whose cell is in
// doubt. The device answers only a read-back signed with the key its cell
// holds, so --cert is required: the command is signed knowingly with the
// TCoS or the ECoS credential, never with a guessed key.
func runBuildReadBack(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos gbcs build-readback", "")
	target := fs.String("target", "", "the device's `EUI`-64")
	sf := addSigningFlags(fs)
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	if *target == "" || *sf.cert == "" {
		return usagef("--target and --cert are required")
	}
	device, err := eui.Parse(*target)
	if err != nil {
		return usagef("--target: %v", err)
	}
	originator, counter, err := sf.parse()
	if err != nil {
		return err
	}
	signer, err := loadCert(*sf.cert)
	if err != nil {
		return malformed(err)
	}
	if signer.Role != smki.RoleTransitionalCoS || signer.KeyUsage != smki.KeyUsageDigitalSignature {
		return fmt.Errorf("--cert is a %s %s certificate; the read-back is authorised by the transitionalCoS cell, so sign it with the TCoS or ECoS digital-signing key", signer.Role, signer.KeyUsage)
	}
	msg, err := cosbuild.ReadBack(originator, device, counter)
	if err != nil {
		return err
	}
	return sf.signAndWrite(std, msg)
}
