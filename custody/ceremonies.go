package custody

import (
	"fmt"
	"slices"

	"github.com/ecos-cos/ecos/keywrap"
)

// KEKNewCeremony makes a new KEK as components, one file per custodian
// in OutDir, and prints their KCVs and the KEK's.
type KEKNewCeremony struct {
	Name       string            `json:"name"`
	Components int               `json:"components"` // 2 or 3
	Bits       int               `json:"bits"`       // 128, 192 or 256
	KCVMethod  keywrap.KCVMethod `json:"kcv_method"` // the method of the KCVs in the component files
	OutDir     string            `json:"out_dir"`
	Transcript string            `json:"transcript"` // default: DefaultTranscript
}

func (c *KEKNewCeremony) transcript() string { return c.Transcript }

func (*KEKNewCeremony) Kind() string { return "kek-new" }

func (c *KEKNewCeremony) paths() []*string { return []*string{&c.OutDir, &c.Transcript} }

// Validate checks every field.
func (c *KEKNewCeremony) Validate() error {
	var ps problems
	ps.common(c.Name, c.KCVMethod)
	if c.Components != 2 && c.Components != 3 {
		ps.add("components", "%d: want 2 or 3 (one per custodian)", c.Components)
	}
	if !slices.Contains(bitSizes, c.Bits) {
		ps.add("bits", "%d: want 128, 192 or 256", c.Bits)
	}
	ps.required("out_dir", c.OutDir, "the directory the component files are written to")
	return ps.err()
}

// ComponentRef is a component file and the KCV its custodian read out at
// the KEK ceremony: a file whose KCV is not that one is refused before it
// is used.
type ComponentRef struct {
	File string `json:"file"`
	KCV  string `json:"kcv"` // six hex digits, by the ceremony's kcv_method
}

// ExportCeremony wraps a private key (the TCoS key, on the old side) under
// the KEK its components make, for import into an HSM.
type ExportCeremony struct {
	Name       string            `json:"name"`
	Key        string            `json:"key"`  // PKCS#8 or SEC 1, PEM or DER: the P-256 key to export
	Cert       string            `json:"cert"` // its certificate: the key must be this certificate's
	Components []ComponentRef    `json:"components"`
	KCV        string            `json:"kcv"` // the whole KEK's, by KCVMethod
	KCVMethod  keywrap.KCVMethod `json:"kcv_method"`
	Wrapped    string            `json:"wrapped"`  // output: the RFC 5649 blob
	Manifest   string            `json:"manifest"` // output: its manifest
	Transcript string            `json:"transcript"`
}

func (c *ExportCeremony) transcript() string { return c.Transcript }

func (*ExportCeremony) Kind() string { return "export" }

func (c *ExportCeremony) paths() []*string {
	ps := []*string{&c.Key, &c.Cert, &c.Wrapped, &c.Manifest, &c.Transcript}
	for i := range c.Components {
		ps = append(ps, &c.Components[i].File)
	}
	return ps
}

// Validate checks every field.
func (c *ExportCeremony) Validate() error {
	var ps problems
	ps.common(c.Name, c.KCVMethod)
	ps.required("key", c.Key, "the private key file to export")
	ps.required("cert", c.Cert, "the key's certificate")
	ps.componentRefs(c.Components, c.KCV)
	ps.required("wrapped", c.Wrapped, "the file the wrapped key is written to")
	ps.required("manifest", c.Manifest, "the file the manifest is written to")
	files := map[string]string{"key": c.Key, "cert": c.Cert, "wrapped": c.Wrapped, "manifest": c.Manifest, "transcript": c.Transcript}
	for i, r := range c.Components {
		files[fmt.Sprintf("components[%d].file", i)] = r.File
	}
	ps.distinct(files)
	return ps.err()
}

// PKCS11 names a token and the file holding its user PIN.
type PKCS11 struct {
	Module     string `json:"module"`      // the PKCS#11 library
	TokenLabel string `json:"token_label"` // the token
	PINFile    string `json:"pin_file"`    // the user PIN, in a file of its own: never inline
}

// KEKLoadCeremony combines a KEK's components and puts the KEK on a token
// as an unwrap-only, non-extractable key labelled KEKLabel.
type KEKLoadCeremony struct {
	Name       string            `json:"name"`
	PKCS11     PKCS11            `json:"pkcs11"`
	KEKLabel   string            `json:"kek_label"`
	Components []ComponentRef    `json:"components"`
	KCV        string            `json:"kcv"`
	KCVMethod  keywrap.KCVMethod `json:"kcv_method"`
	Transcript string            `json:"transcript"`
}

func (c *KEKLoadCeremony) transcript() string { return c.Transcript }

func (*KEKLoadCeremony) Kind() string { return "kek-load" }

func (c *KEKLoadCeremony) paths() []*string {
	ps := []*string{&c.PKCS11.PINFile, &c.Transcript}
	for i := range c.Components {
		ps = append(ps, &c.Components[i].File)
	}
	return ps
}

// Validate checks every field.
func (c *KEKLoadCeremony) Validate() error {
	var ps problems
	ps.common(c.Name, c.KCVMethod)
	ps.pkcs11(c.PKCS11)
	if c.KEKLabel == "" {
		ps.add("kek_label", "required: the label the KEK gets on the token")
	} else {
		ps.check("kek_label", checkLabel(c.KEKLabel))
	}
	ps.componentRefs(c.Components, c.KCV)
	files := map[string]string{"pkcs11.pin_file": c.PKCS11.PINFile, "transcript": c.Transcript}
	for i, r := range c.Components {
		files[fmt.Sprintf("components[%d].file", i)] = r.File
	}
	ps.distinct(files)
	return ps.err()
}

// ImportCeremony unwraps a wrapped key into a token as a non-extractable,
// sign-only private key labelled KeyLabel, under the KEK labelled
// KEKLabel, with the wrap mechanism Mechanism (hsm.ParseMechanism's
// spellings: the caller parses it, as only package hsm knows them).
type ImportCeremony struct {
	Name       string `json:"name"`
	PKCS11     PKCS11 `json:"pkcs11"`
	KEKLabel   string `json:"kek_label"`
	Wrapped    string `json:"wrapped"`
	Manifest   string `json:"manifest"`
	Cert       string `json:"cert"`
	KeyLabel   string `json:"key_label"`
	Mechanism  string `json:"mechanism"`
	Transcript string `json:"transcript"`
}

func (c *ImportCeremony) transcript() string { return c.Transcript }

func (*ImportCeremony) Kind() string { return "import" }

func (c *ImportCeremony) paths() []*string {
	return []*string{&c.PKCS11.PINFile, &c.Wrapped, &c.Manifest, &c.Cert, &c.Transcript}
}

// Validate checks every field but the mechanism's spelling, which the
// caller checks with hsm.ParseMechanism.
func (c *ImportCeremony) Validate() error {
	var ps problems
	if c.Name == "" {
		ps.add("name", "required: the ceremony's name")
	} else {
		ps.check("name", checkName(c.Name))
	}
	ps.pkcs11(c.PKCS11)
	for _, f := range [][2]string{{"kek_label", c.KEKLabel}, {"key_label", c.KeyLabel}} {
		key, l := f[0], f[1]
		if l == "" {
			ps.add(key, "required: a label on the token")
		} else {
			ps.check(key, checkLabel(l))
		}
	}
	if c.KEKLabel != "" && c.KEKLabel == c.KeyLabel {
		ps.add("key_label", "the same label as kek_label")
	}
	ps.required("wrapped", c.Wrapped, "the wrapped key file")
	ps.required("manifest", c.Manifest, "the wrapped key's manifest")
	ps.required("cert", c.Cert, "the key's certificate")
	ps.required("mechanism", c.Mechanism, "the token's RFC 5649 unwrap mechanism, e.g. CKM_AES_KEY_WRAP_PAD (SoftHSM2) or 0x210B")
	ps.distinct(map[string]string{"pkcs11.pin_file": c.PKCS11.PINFile, "wrapped": c.Wrapped, "manifest": c.Manifest, "cert": c.Cert, "transcript": c.Transcript})
	return ps.err()
}
