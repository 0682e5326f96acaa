package custody

import (
	"fmt"

	"github.com/ecos-cos/ecos/keywrap"
)

// CombineFiles is the KEK from its component files, each checked before
// any is used: every file parses, its value gives the KCV written in it,
// and that KCV (by method) is the one the ceremony expects of it (ref.KCV).
// Only then are they combined, and the KEK's KCV by method must be kcv.
// Each check goes to t (nil: none). The caller clears the KEK after use.
func CombineFiles(refs []ComponentRef, method keywrap.KCVMethod, kcv string, t *Transcript) ([]byte, error) {
	if err := checkMethod(method); err != nil {
		return nil, err
	}
	want, err := normalKCV(kcv)
	if err != nil {
		return nil, fmt.Errorf("the KEK's expected %w", err)
	}
	comps := make([]*Component, 0, len(refs))
	defer func() { ClearAll(comps) }()
	for _, r := range refs {
		c, err := ReadComponentFile(r.File)
		if err != nil {
			return nil, err
		}
		comps = append(comps, c)
		if err := c.CheckExpected(r.KCV, method); err != nil {
			return nil, fmt.Errorf("component file %s: %w", r.File, err)
		}
		t.Logf("component %d of %d of KEK %q (%s): KCV %s, as its file and the ceremony say", c.Index, c.Of, c.Ceremony, r.File, c.KCV)
	}
	kek, err := Combine(comps)
	if err != nil {
		return nil, err
	}
	got, err := ComputeKCV(kek, method)
	if err != nil {
		clear(kek)
		return nil, err
	}
	if got.Value != want {
		clear(kek)
		return nil, fmt.Errorf("%w: the combined KEK has KCV %s, the ceremony expects %s (%s)", ErrKCV, got, want, method)
	}
	t.Logf("combined the %d components: KEK KCV %s, as the ceremony expects", len(comps), got)
	return kek, nil
}
