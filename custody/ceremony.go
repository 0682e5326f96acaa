package custody

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/ecos-cos/ecos/internal/strictjson"
	"github.com/ecos-cos/ecos/keywrap"
)

// Ceremony is one kind of ceremony file. Each is decoded strictly (an
// unknown, duplicate or case-different key, a value of the wrong type:
// refused with its line and column) and then validated field by field.
type Ceremony interface {
	// Kind names the ceremony in the transcript and its default name:
	// "kek-new", "export", "kek-load", "import".
	Kind() string
	// Validate checks every field, naming each wrong one.
	Validate() error
	// paths are the file and directory fields, resolved against the
	// ceremony file's directory. A PKCS#11 module is not among them: a
	// bare library name is for the dynamic linker to find.
	paths() []*string
	// transcript is the transcript file the ceremony names, or "".
	transcript() string
}

// maxCeremonyFile bounds a ceremony file: a reviewed one is a page.
const maxCeremonyFile = 1 << 20

// LoadCeremony reads the ceremony file at path into c (a pointer to one
// of this package's ceremony types): see ParseCeremony. Relative paths in
// it are taken from the file's directory, so what the reviewer read is
// what runs wherever the command is started. It returns the file's
// SHA-256 for the transcript.
func LoadCeremony(path string, c Ceremony) ([sha256.Size]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("reading the ceremony: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCeremonyFile+1))
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("reading the ceremony %s: %w", path, err)
	}
	if len(data) > maxCeremonyFile {
		return [sha256.Size]byte{}, fmt.Errorf("ceremony %s: larger than %d bytes; is this the right file?", path, maxCeremonyFile)
	}
	if err := ParseCeremony(data, filepath.Dir(path), c); err != nil {
		if se, ok := errors.AsType[*strictjson.Error](err); ok {
			se.File = "ceremony " + path
		}
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(data), nil
}

// ParseCeremony decodes data strictly into c, makes its relative paths
// relative to dir (if dir is not ""), and validates it. Errors are a
// *strictjson.Error listing every problem.
func ParseCeremony(data []byte, dir string, c Ceremony) error {
	if _, err := strictjson.Decode(data, c, strictjson.Options{What: "ceremony"}); err != nil {
		return err
	}
	if dir != "" {
		for _, p := range c.paths() {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	return c.Validate()
}

// problems collects a ceremony's validation faults.
type problems []strictjson.Problem

func (ps *problems) add(key, format string, a ...any) {
	*ps = append(*ps, strictjson.Problem{Key: key, Msg: fmt.Sprintf(format, a...)})
}

func (ps *problems) check(key string, err error) {
	if err != nil {
		ps.add(key, "%v", err)
	}
}

func (ps *problems) required(key, v, what string) {
	if v == "" {
		ps.add(key, "required: %s", what)
	}
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &strictjson.Error{File: "ceremony", Problems: ps}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkName: a ceremony's name goes into file names and component files,
// so it is a plain word.
func checkName(s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("%q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", clip(s))
	}
	return nil
}

var labelRE = regexp.MustCompile(`^[!-~]([ -~]{0,62}[!-~])?$`)

// checkLabel: a PKCS#11 CKA_LABEL that every token and console shows the
// same: printable ASCII, no space at either end, at most 64 characters.
func checkLabel(s string) error {
	if !labelRE.MatchString(s) {
		return fmt.Errorf("%q: want 1 to 64 printable ASCII characters, no space at either end", clip(s))
	}
	return nil
}

func (ps *problems) common(name string, method keywrap.KCVMethod) {
	if name == "" {
		ps.add("name", "required: the ceremony's name")
	} else {
		ps.check("name", checkName(name))
	}
	if method == "" {
		ps.add("kcv_method", "required: %s or %s", keywrap.KCVECB, keywrap.KCVCMAC)
	} else {
		ps.check("kcv_method", checkMethod(method))
	}
}

// componentRefs checks a list of component files and the KCVs expected
// of them, and the KEK's KCV.
func (ps *problems) componentRefs(refs []ComponentRef, kcv string) {
	if len(refs) != 2 && len(refs) != 3 {
		ps.add("components", "%d given: want the 2 or 3 component files of the KEK, each with its KCV", len(refs))
	}
	for i, r := range refs {
		key := fmt.Sprintf("components[%d]", i)
		ps.required(key+".file", r.File, "the component file")
		if r.KCV == "" {
			ps.add(key+".kcv", "required: the KCV the component's custodian read out")
		} else if _, err := normalKCV(r.KCV); err != nil {
			ps.add(key+".kcv", "%v", err)
		}
	}
	if kcv == "" {
		ps.add("kcv", "required: the whole KEK's KCV, from the KEK ceremony")
	} else if _, err := normalKCV(kcv); err != nil {
		ps.add("kcv", "%v", err)
	}
}

// distinct refuses two fields naming the same file: an output that is an
// input, or two outputs in one file.
func (ps *problems) distinct(fields map[string]string) {
	byPath := map[string]string{}
	for _, key := range sortedKeys(fields) {
		p := fields[key]
		if p == "" {
			continue
		}
		c := filepath.Clean(p)
		if other, ok := byPath[c]; ok {
			ps.add(key, "the same file as %s", other)
			continue
		}
		byPath[c] = key
	}
}

func (ps *problems) pkcs11(p PKCS11) {
	ps.required("pkcs11.module", p.Module, "the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so")
	if p.TokenLabel == "" {
		ps.add("pkcs11.token_label", "required: the token's label")
	} else {
		ps.check("pkcs11.token_label", checkLabel(p.TokenLabel))
	}
	ps.required("pkcs11.pin_file", p.PINFile, "the file holding the user PIN (never the PIN itself)")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
