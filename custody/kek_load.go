package custody

import (
	"fmt"

	"github.com/ecos-cos/ecos/keywrap"
)

// KEKToken is the token a KEK is loaded onto (an hsm.Admin).
type KEKToken interface {
	// ImportKEK puts key on the token as an unwrap-only, sensitive,
	// non-extractable key and returns the token's check value of it
	// (nil if the token gives none).
	ImportKEK(label string, key []byte) (checkValue []byte, err error)
	// Remove destroys what is labelled label.
	Remove(label string) (int, error)
	Close() error
}

// KEKLoadResult is what a KEK load ceremony did.
type KEKLoadResult struct {
	KCVs       []KCV // the KEK's, by every method
	Token      string
	Transcript string
}

// LoadKEK runs a KEK load ceremony: every component file is checked
// against its own KCV and the one the ceremony expects, and the combined
// KEK against the ceremony's KCV, before the token is opened; the KEK is
// then put on the token as an unwrap-only key and its check value, where
// the token gives one, compared with the KEK's. The components and the
// KEK exist only in this process's memory and are cleared after use.
func LoadKEK(c *KEKLoadCeremony, src Source, env Env, open func(PKCS11) (KEKToken, error)) (*KEKLoadResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	res := &KEKLoadResult{Token: c.PKCS11.TokenLabel, Transcript: TranscriptFile(c, env.Now())}
	err := conduct(c, src, env, res.Transcript, nil, func(t *Transcript) (string, error) {
		var err error
		res.KCVs, err = loadKEK(c, t, open)
		return fmt.Sprintf("KEK %q is on token %q; each custodian takes back their component", c.KEKLabel, c.PKCS11.TokenLabel), err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func loadKEK(c *KEKLoadCeremony, t *Transcript, open func(PKCS11) (KEKToken, error)) ([]KCV, error) {
	kek, err := CombineFiles(c.Components, c.KCVMethod, c.KCV, t)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	kcvs, err := AllKCVs(kek)
	if err != nil {
		return nil, err
	}
	tok, err := open(c.PKCS11)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	t.Logf("logged in to token %q (module %s)", c.PKCS11.TokenLabel, c.PKCS11.Module)
	cv, err := tok.ImportKEK(c.KEKLabel, kek)
	if err != nil {
		return nil, err
	}
	if cv == nil {
		t.Logf("the token gives no check value for its keys: the KEK on it is proved when a key wrapped under it unwraps (ecos keys import)")
	} else if err := MatchCheckValue(cv, kcvOf(kcvs, keywrap.KCVECB)); err != nil {
		if n, rerr := tok.Remove(c.KEKLabel); rerr != nil || n != 1 {
			return nil, fmt.Errorf("the KEK on the token is not the one the components make (%v), and removing it failed (%v): remove %q by hand", err, rerr, c.KEKLabel)
		}
		return nil, fmt.Errorf("the KEK on the token is not the one the components make, so it was removed: %w", err)
	} else {
		t.Logf("the token's check value of %q is %X, the KEK's %s KCV", c.KEKLabel, cv[:keywrap.KCVLen], keywrap.KCVECB)
	}
	t.Logf("KEK %q created on token %q: AES-%d, may unwrap and nothing else, sensitive, never extractable; KCVs %s, %s",
		c.KEKLabel, c.PKCS11.TokenLabel, len(kek)*8, kcvs[0], kcvs[1])
	t.Logf("the components and the KEK were combined in this process's memory only and are cleared now; nothing was written but this transcript")
	return kcvs, nil
}

// kcvOf is the KCV by method among kcvs (AllKCVs has every method).
func kcvOf(kcvs []KCV, method keywrap.KCVMethod) KCV {
	for _, k := range kcvs {
		if k.Method == method {
			return k
		}
	}
	return KCV{Method: method}
}
