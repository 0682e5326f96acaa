package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/intake"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/xmldsig"
)

func duisCommand() *command {
	return &command{name: "duis", summary: "sign, verify and build DUIS XML", subs: []*command{
		{name: "sign", summary: "sign a DUIS document with the DUIS XML signature profile", run: runDUISSign},
		{name: "verify", summary: "verify a DUIS document's signature and its signer", run: runDUISVerify},
		{name: "new-6.23", summary: "build an unsigned SR 6.23 request", run: runNew623},
	}}
}

// loadStore reads the certificates a verifier may resolve signers from: a
// directory of PEM files, a DCC Boxed keystore.json, or PEM files
// (comma-separated).
func loadStore(spec string) (*smki.Pool, error) {
	certs, err := loadCerts(spec)
	if err != nil {
		return nil, err
	}
	return smki.NewPool(certs...), nil
}

func runDUISVerify(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos duis verify", "FILE|-")
	certsSpec := fs.String("certs", "", "where signer certificates are found by issuer and serial: `DIR|keystore.json|PEM[,PEM]`")
	caSpec := fs.String("ca", "", "Organisation CA certificate(s), `PEM[,PEM]`: requests' signers must chain to one")
	atFlag := fs.String("at", "", "check the signer's validity at this time, `RFC3339` (default: now)")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *certsSpec == "" {
		return usagef("--certs is required")
	}
	at := time.Now().UTC()
	if *atFlag != "" {
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return usagef("--at: %v", err)
		}
	}
	store, err := loadStore(*certsSpec)
	if err != nil {
		return malformed(fmt.Errorf("--certs: %w", err))
	}
	var cas *smki.Pool
	if *caSpec != "" {
		if cas, err = loadStore(*caSpec); err != nil {
			return malformed(fmt.Errorf("--ca: %w", err))
		}
	}
	doc, err := readInput(std, name)
	if err != nil {
		return err
	}
	v, err := xmldsig.Verify(doc, store)
	if err != nil {
		if errors.Is(err, xmldsig.Malformed) || errors.Is(err, xmldsig.Hostile) {
			return malformed(err)
		}
		return invalid(err)
	}
	// Only the digested bytes are signed: everything shown or decided
	// below comes from them.
	h, err := peekHeader(v.Digested)
	if err != nil {
		return malformed(err)
	}
	signer := v.Signer
	if at.Before(signer.NotBefore) || at.After(signer.NotAfter) {
		return invalid(fmt.Errorf("signature verifies, but the signer certificate (serial %X) is valid %s to %s, not at %s",
			signer.SerialNumber, signer.NotBefore.Format(time.RFC3339), signer.NotAfter.Format(time.RFC3339), at.Format(time.RFC3339)))
	}
	if h.root == "Request" {
		id, err := duis.ParseRequestID(h.requestID)
		if err != nil {
			return malformed(fmt.Errorf("RequestID: %w", err))
		}
		// The signer's validity at --at was checked above; without a CA
		// only its identity can be, and the output says so.
		err = intake.BindIdentity(signer, id.Originator, 0)
		if cas != nil {
			err = intake.BindSigner(signer, id.Originator, at, intake.SignerPolicy{OrganisationCAs: cas, Intermediates: store})
		}
		if err != nil {
			return invalid(fmt.Errorf("signature verifies, but: %w", err))
		}
	}
	fmt.Fprintf(std.out, "valid: %s signed by %s, serial %d (issuer %s)\n", h.root, describeSigner(signer), signer.SerialNumber, signer.Issuer)
	if h.requestID != "" {
		fmt.Fprintf(std.out, "RequestID: %s\n", h.requestID)
	}
	if h.responseID != "" {
		fmt.Fprintf(std.out, "ResponseID: %s\n", h.responseID)
	}
	if h.responseCode != "" {
		fmt.Fprintf(std.out, "ResponseCode: %s\n", h.responseCode)
	}
	if h.srv != "" {
		fmt.Fprintf(std.out, "SRV: %s\n", h.srv)
	}
	if cas == nil && h.root == "Request" {
		fmt.Fprintln(std.out, "note: no --ca given, so the signer's chain to the Organisation CA was not checked")
	}
	return nil
}

// indented reports white space between two tags inside the root element.
func indented(doc []byte) bool {
	start := bytes.Index(doc, []byte("?>"))
	if start < 0 {
		start = 0
	}
	body := bytes.TrimSpace(doc[start+2:])
	for i := 0; i+1 < len(body); i++ {
		if body[i] == '>' {
			j := i + 1
			for j < len(body) && (body[j] == ' ' || body[j] == '\n' || body[j] == '\r' || body[j] == '\t') {
				j++
			}
			if j > i+1 && j < len(body) && body[j] == '<' {
				return true
			}
		}
	}
	return false
}

func describeSigner(c *smki.Certificate) string {
	if c.Role == smki.RoleNone {
		return fmt.Sprintf("%s (role OU not two hex digits)", c.EUI)
	}
	return fmt.Sprintf("%s (%s)", c.EUI, c.Role)
}

// header is what verify prints about a document: enough to say what it is,
// read from the signed bytes without decoding a body ecos may not model.
type header struct {
	root, requestID, responseID, responseCode, srv string
}

func peekHeader(doc []byte) (header, error) {
	var h header
	d := xml.NewDecoder(bytes.NewReader(doc))
	var path []string
	for {
		tok, err := d.Token()
		if err != nil {
			if h.root == "" {
				return h, fmt.Errorf("reading signed content: %w", err)
			}
			return h, nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if h.root == "" {
				h.root = t.Name.Local
			}
			path = append(path, t.Name.Local)
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 {
				continue
			}
			v := strings.TrimSpace(string(t))
			switch path[len(path)-1] {
			case "RequestID":
				setOnce(&h.requestID, v)
			case "ResponseID":
				setOnce(&h.responseID, v)
			case "ResponseCode":
				setOnce(&h.responseCode, v)
			case "ServiceReferenceVariant":
				setOnce(&h.srv, v)
			}
		}
	}
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func runDUISSign(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos duis sign", "FILE|-")
	keyPath := fs.String("key", "", "the XML-signing private key `KEY.pem` (PEM or DER PKCS#8)")
	certPath := fs.String("cert", "", "its certificate `CERT.pem`: named in KeyInfo by issuer and serial")
	keep := fs.Bool("keep-whitespace", false, "sign the bytes as given, indentation included (the DCC's validator then refuses an indented document)")
	name, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	key, cert, err := loadKeyPair(*keyPath, *certPath)
	if err != nil {
		return err
	}
	doc, err := readInput(std, name)
	if err != nil {
		return err
	}
	// A request signed by another User's certificate would only be refused
	// at the other end; say so now.
	if h, err := peekHeader(doc); err == nil && h.root == "Request" {
		if id, err := duis.ParseRequestID(h.requestID); err == nil && id.Originator != cert.EUI {
			return fmt.Errorf("the request's originator is %s but --cert belongs to %s", id.Originator, cert.EUI)
		}
	}
	// By default the indentation goes, as the DCC's Java signer drops it:
	// its validator never sees white space between elements, so a
	// signature over it would fail there.
	var opts []xmldsig.SignOption
	if *keep {
		opts = append(opts, xmldsig.KeepWhitespace())
		if indented(doc) {
			fmt.Fprintln(std.err, "ecos duis sign: warning: the document is indented and --keep-whitespace signs that white space; the DCC's validator ignores it and will reject this signature.")
		}
	}
	signed, err := xmldsig.Sign(doc, key, cert, rand.Reader, opts...)
	if err != nil {
		if errors.Is(err, xmldsig.Malformed) || errors.Is(err, xmldsig.Hostile) {
			return malformed(err)
		}
		return err
	}
	_, err = std.out.Write(signed)
	return err
}

func runNew623(_ context.Context, std stdio, args []string) error {
	fs := newFlags(std, "ecos duis new-6.23", "")
	from := fs.String("from", "", "the requesting User's `EUI`-64 (the RequestID originator)")
	dev := fs.String("device", "", "the device's `EUI`-64 (the RequestID target)")
	counter := fs.String("counter", "", "the User's RequestID counter, `N`")
	mpxn := fs.String("mpxn", "", "ImportMPxN: the MPAN or MPRN the device serves")
	certs := fs.String("certs", "", "replacement certificates, `DS.pem[,KA.pem[,KATOPUP.pem]]`")
	path := fs.String("path", "", "certification path: 1 to 3 CA PEM files, comma-separated, `CA.pem[,CA.pem]`")
	executeAt := fs.String("execute-at", "", "future-dated execution time, `RFC3339`")
	cancel := fs.Bool("cancel", false, "cancel a future-dated request (ExecutionDateTime 3000-12-31)")
	floor := fs.Uint64("floor", 0, "SupplierFloorSeqNumber")
	topUpFloor := fs.Int64("topup-floor", 0, "SupplierPrepaymentTopUpFloorSeqNumber; negative leaves it out")
	disapply := fs.Bool("disapply-time-cpv", false, "ask the device not to apply time-based path checks")
	err := parseNone(fs, args)
	if err != nil {
		return err
	}
	if *from == "" || *dev == "" || *counter == "" || *mpxn == "" || *certs == "" || *path == "" {
		return usagef("--from, --device, --counter, --mpxn, --certs and --path are required")
	}
	if *cancel && *executeAt != "" {
		return usagef("--execute-at and --cancel exclude each other")
	}
	id, err := duis.ParseRequestID(*from + ":" + *dev + ":" + *counter)
	if err != nil {
		return usagef("%v", err)
	}
	replacements, err := loadCertChain(*certs)
	if err != nil {
		return malformed(fmt.Errorf("--certs: %w", err))
	}
	if len(replacements) > 3 {
		return usagef("--certs: %d certificates, want DS[,KA[,KA top-up]]", len(replacements))
	}
	chain, err := loadCertChain(*path)
	if err != nil {
		return malformed(fmt.Errorf("--path: %w", err))
	}
	body := &duis.UpdateSecurityCredentialsCoS{
		SupplierFloorSeqNumber:    *floor,
		DigitalSigningCertificate: replacements[0],
		CertificationPath:         chain,
		ApplyTimeBasedCPVChecks:   !*disapply,
		ImportMPxN:                *mpxn,
	}
	if len(replacements) > 1 {
		body.KeyAgreementCertificate = replacements[1]
	}
	if len(replacements) > 2 {
		body.KeyAgreementTopUpCertificate = replacements[2]
	}
	if *topUpFloor >= 0 {
		n := uint64(*topUpFloor)
		body.SupplierPrepaymentTopUpFloorSeqNumber = &n
	}
	switch {
	case *cancel:
		c := duis.Cancellation
		body.ExecutionDateTime = &c
	case *executeAt != "":
		t, err := time.Parse(time.RFC3339, *executeAt)
		if err != nil {
			return usagef("--execute-at: %v", err)
		}
		if t.Nanosecond() != 0 {
			return usagef("--execute-at: %s has a fraction of a second; a CS02b carries whole seconds", *executeAt)
		}
		t = t.UTC()
		body.ExecutionDateTime = &t
	}
	req, err := duis.NewUpdateSecurityCredentialsCoS(id, body)
	if err != nil {
		return usagef("%v", err)
	}
	doc, err := req.Encode()
	if err != nil {
		return err
	}
	_, err = std.out.Write(doc)
	return err
}
