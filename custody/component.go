package custody

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ecos-cos/ecos/keywrap"
)

// Component is one custodian's share of a KEK: the KEK is the XOR of all
// of a ceremony's components, so no custodian alone knows anything of it.
type Component struct {
	Ceremony string // the name of the ceremony that made the KEK
	Index    int    // 1-based
	Of       int    // how many components the KEK has: 2 or 3
	Bits     int    // 128, 192 or 256
	Value    []byte // secret: Bits/8 bytes
	KCV      KCV    // of Value
}

// Clear zeroes the component's value (best effort: see the package doc).
func (c *Component) Clear() { clear(c.Value) }

// Errors a custodian must be able to tell apart; each comes wrapped in a
// message that names the component and what differs.
var (
	// ErrKCV: a recomputed key check value differs from a recorded one.
	ErrKCV = errors.New("key check value mismatch")
	// ErrComponents: the components do not make one KEK (count, sizes,
	// ceremonies, indices, duplicates).
	ErrComponents = errors.New("components do not belong together")
)

// bitSizes are the AES key sizes a KEK may have.
var bitSizes = []int{128, 192, 256}

func checkShape(n, bits int) error {
	if n != 2 && n != 3 {
		return fmt.Errorf("%d components: want 2 or 3", n)
	}
	if !slices.Contains(bitSizes, bits) {
		return fmt.Errorf("%d bits: want 128, 192 or 256", bits)
	}
	return nil
}

// GenerateComponents makes the n components of a new bits-bit KEK for the
// ceremony named ceremony, each with its KCV by method. rnd is the source
// of randomness (crypto/rand.Reader outside tests). A component of zeros,
// or two equal components, means a broken source and is refused.
func GenerateComponents(rnd io.Reader, ceremony string, n, bits int, method keywrap.KCVMethod) ([]*Component, error) {
	if err := checkName(ceremony); err != nil {
		return nil, err
	}
	if err := checkShape(n, bits); err != nil {
		return nil, err
	}
	if err := checkMethod(method); err != nil {
		return nil, err
	}
	comps := make([]*Component, 0, n)
	fail := func(err error) ([]*Component, error) {
		ClearAll(comps)
		return nil, err
	}
	for i := 1; i <= n; i++ {
		c := &Component{Ceremony: ceremony, Index: i, Of: n, Bits: bits, Value: make([]byte, bits/8)}
		comps = append(comps, c)
		if _, err := io.ReadFull(rnd, c.Value); err != nil {
			return fail(fmt.Errorf("reading randomness for component %d: %w", i, err))
		}
		if err := checkValue(c, comps[:i-1]); err != nil {
			return fail(fmt.Errorf("the random source is broken: %w", err))
		}
		k, err := ComputeKCV(c.Value, method)
		if err != nil {
			return fail(err)
		}
		c.KCV = k
	}
	return comps, nil
}

// checkValue refuses a value of zeros and one equal to an earlier
// component's: with three components, two equal ones cancel out and the
// third custodian alone would hold the KEK.
func checkValue(c *Component, earlier []*Component) error {
	if isZero(c.Value) {
		return fmt.Errorf("component %d is all zeros", c.Index)
	}
	for _, e := range earlier {
		if subtle.ConstantTimeCompare(e.Value, c.Value) == 1 {
			return fmt.Errorf("components %d and %d are equal", e.Index, c.Index)
		}
	}
	return nil
}

func isZero(b []byte) bool {
	return subtle.ConstantTimeCompare(b, make([]byte, len(b))) == 1
}

// ClearAll clears every component.
func ClearAll(comps []*Component) {
	for _, c := range comps {
		c.Clear()
	}
}

// Combine checks that comps are all the components of one KEK, each with
// the KCV it records, and returns their XOR: the KEK, which the caller
// clears after use. The components are left as they were.
func Combine(comps []*Component) ([]byte, error) {
	if len(comps) == 0 {
		return nil, fmt.Errorf("%w: no components", ErrComponents)
	}
	first := comps[0]
	if err := checkShape(first.Of, first.Bits); err != nil {
		return nil, fmt.Errorf("%w: component %d: %v", ErrComponents, first.Index, err)
	}
	if len(comps) != first.Of {
		return nil, fmt.Errorf("%w: %d components given, but component %d of %q says the KEK has %d",
			ErrComponents, len(comps), first.Index, first.Ceremony, first.Of)
	}
	seen := make([]bool, first.Of+1)
	for i, c := range comps {
		switch {
		case c.Ceremony != first.Ceremony:
			return nil, fmt.Errorf("%w: component %d is from ceremony %q, component %d from %q",
				ErrComponents, c.Index, c.Ceremony, first.Index, first.Ceremony)
		case c.Of != first.Of:
			return nil, fmt.Errorf("%w: component %d is one of %d, component %d one of %d",
				ErrComponents, c.Index, c.Of, first.Index, first.Of)
		case c.Bits != first.Bits:
			return nil, fmt.Errorf("%w: component %d has %d bits, component %d has %d: all must have the same size",
				ErrComponents, c.Index, c.Bits, first.Index, first.Bits)
		case len(c.Value) != c.Bits/8:
			return nil, fmt.Errorf("%w: component %d holds %d bytes, not %d", ErrComponents, c.Index, len(c.Value), c.Bits/8)
		case c.Index < 1 || c.Index > c.Of:
			return nil, fmt.Errorf("%w: component %d of %d: the index must be 1 to %d", ErrComponents, c.Index, c.Of, c.Of)
		case seen[c.Index]:
			return nil, fmt.Errorf("%w: component %d is given twice", ErrComponents, c.Index)
		}
		seen[c.Index] = true
		if err := checkValue(c, comps[:i]); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrComponents, err)
		}
		if err := c.CheckKCV(); err != nil {
			return nil, err
		}
	}
	kek := make([]byte, first.Bits/8)
	for _, c := range comps {
		subtle.XORBytes(kek, kek, c.Value)
	}
	if isZero(kek) {
		clear(kek)
		return nil, fmt.Errorf("%w: they XOR to zeros", ErrComponents)
	}
	return kek, nil
}

// CheckKCV recomputes the component's KCV by its recorded method and
// refuses a value that does not give the recorded KCV: a mistyped digit.
func (c *Component) CheckKCV() error {
	got, err := ComputeKCV(c.Value, c.KCV.Method)
	if err != nil {
		return fmt.Errorf("component %d: %w", c.Index, err)
	}
	if got.Value != c.KCV.Value {
		return fmt.Errorf("%w: component %d: its value gives KCV %s, but %s is recorded beside it: a digit of the value or of the KCV is wrong",
			ErrKCV, c.Index, got, c.KCV)
	}
	return nil
}

// CheckExpected refuses a component whose KCV is not the one a ceremony
// file expects (want, six hex digits, by method): the wrong custodian's
// file, or one from another KEK.
func (c *Component) CheckExpected(want string, method keywrap.KCVMethod) error {
	w, err := normalKCV(want)
	if err != nil {
		return err
	}
	if c.KCV.Method != method {
		return fmt.Errorf("%w: component %d's KCV is by %s, the ceremony's by %s", ErrKCV, c.Index, c.KCV.Method, method)
	}
	if c.KCV.Value != w {
		return fmt.Errorf("%w: component %d has KCV %s, the ceremony expects %s (%s)", ErrKCV, c.Index, c.KCV, w, method)
	}
	return nil
}
