package custody

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/pem"

	"github.com/ecos-cos/ecos/enrol"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/role"
)

// ECoSNewCeremony creates the ECoS Party's credential: a P-256 key pair
// generated inside a token, and the PKCS#10 request for its SMKI
// Organisation certificate (transitionalCoS, the party's EUI-64,
// digitalSignature), for the SMKI to issue.
type ECoSNewCeremony struct {
	Name     string `json:"name"`
	PKCS11   PKCS11 `json:"pkcs11"`
	KeyLabel string `json:"key_label"` // refused if anything on the token has it
	EUI      string `json:"eui"`       // the ECoS Party's EUI-64, the certificate's entity identifier
	// Organisation is the certificate's CN, optional (ZAZ1's TCoS
	// certificate has none).
	Organisation string `json:"organisation,omitempty"`
	CSR          string `json:"csr"` // output: the request, PEM
	Transcript   string `json:"transcript"`
}

func (c *ECoSNewCeremony) transcript() string { return c.Transcript }

func (*ECoSNewCeremony) Kind() string { return "ecos-new" }

func (c *ECoSNewCeremony) paths() []*string {
	return []*string{&c.PKCS11.PINFile, &c.CSR, &c.Transcript}
}

// Validate checks every field.
func (c *ECoSNewCeremony) Validate() error {
	var ps problems
	if c.Name == "" {
		ps.add("name", "required: the ceremony's name")
	} else {
		ps.check("name", checkName(c.Name))
	}
	ps.pkcs11(c.PKCS11)
	if c.KeyLabel == "" {
		ps.add("key_label", "required: the label the new key gets on the token")
	} else {
		ps.check("key_label", checkLabel(c.KeyLabel))
	}
	if c.EUI == "" {
		ps.add("eui", "required: the ECoS Party's EUI-64, e.g. EE-C0-5E-00-00-00-00-05")
	} else if id, err := eui.Parse(c.EUI); err != nil {
		ps.add("eui", "%v", err)
	} else if id.IsZero() {
		ps.add("eui", "the all-zero EUI-64 names no party")
	}
	// The name's rules are the request's: checked with a stand-in EUI-64,
	// so a bad eui is not reported twice.
	if err := (enrol.Subject{CommonName: c.Organisation, Role: role.TransitionalCoS, EUI: eui.EUI{0xFF}}).Check(); err != nil {
		ps.add("organisation", "%v", err)
	}
	ps.required("csr", c.CSR, "the file the certificate request is written to")
	ps.distinct(map[string]string{"pkcs11.pin_file": c.PKCS11.PINFile, "csr": c.CSR, "transcript": c.Transcript})
	return ps.err()
}

// subject is who the certificate will name.
func (c *ECoSNewCeremony) subject() (enrol.Subject, error) {
	id, err := eui.Parse(c.EUI)
	if err != nil {
		return enrol.Subject{}, err
	}
	s := enrol.Subject{CommonName: c.Organisation, Role: role.TransitionalCoS, EUI: id}
	return s, s.Check()
}

// ECoSToken is the token the ECoS key is made on (an hsm.Admin).
type ECoSToken interface {
	enrol.KeyMaker
	Close() error
}

// ECoSNewResult is what an ECoS credential ceremony made.
type ECoSNewResult struct {
	CSR        string
	Token      string
	KeyLabel   string
	PublicKey  *ecdsa.PublicKey
	Transcript string
}

// NewECoS runs an ECoS credential ceremony: with every output checked
// absent first, it logs in to the token, has enrol.New generate the key
// there (the label free, the key's attributes read back, the key proved
// by a signature verified in software) and sign the request, and writes
// the request. Every step goes to the transcript. A key once generated
// stays on the token even if a later step fails: the transcript says so,
// and a new ceremony takes a new label.
func NewECoS(c *ECoSNewCeremony, src Source, env Env, open func(PKCS11) (ECoSToken, error)) (*ECoSNewResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s, err := c.subject()
	if err != nil {
		return nil, err
	}
	res := &ECoSNewResult{CSR: c.CSR, Token: c.PKCS11.TokenLabel, KeyLabel: c.KeyLabel, Transcript: TranscriptFile(c, env.Now())}
	if err := CheckAbsent(res.Transcript, res.CSR); err != nil {
		return nil, err
	}
	if err := checkParents(res.Transcript, res.CSR); err != nil {
		return nil, err
	}
	t, err := OpenTranscript(res.Transcript, env.Out, env.Now, src, c)
	if err != nil {
		return nil, err
	}
	res.PublicKey, err = newECoS(c, s, env, t, open)
	if err != nil {
		t.Fail(err)
	} else {
		t.Logf("done: the SMKI issues the transitionalCoS certificate for EUI %s from %s; install it with `ecos keys ecos install --config FILE CERT`, keys.ecos.pkcs11 naming key %q on token %q",
			s.EUI, c.CSR, c.KeyLabel, c.PKCS11.TokenLabel)
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func newECoS(c *ECoSNewCeremony, s enrol.Subject, env Env, t *Transcript, open func(PKCS11) (ECoSToken, error)) (*ecdsa.PublicKey, error) {
	tok, err := open(c.PKCS11)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	t.Logf("logged in to token %q (module %s)", c.PKCS11.TokenLabel, c.PKCS11.Module)
	csr, pub, err := enrol.New(tok, c.KeyLabel, s, env.Rand, func(step string) { t.Logf("%s", step) })
	if err != nil {
		return nil, err
	}
	if err := t.Err(); err != nil {
		return nil, err
	}
	if err := WriteNew(c.CSR, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o444); err != nil {
		return nil, err
	}
	t.Logf("wrote the certificate request to %s (PEM; SHA-256 of its DER %X)", c.CSR, sha256.Sum256(csr))
	return pub, nil
}
