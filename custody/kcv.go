package custody

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ecos-cos/ecos/keywrap"
)

// KCV is a key check value and the method that made it: a value alone
// cannot be compared, as the two methods give different ones.
type KCV struct {
	Method keywrap.KCVMethod `json:"method"`
	Value  string            `json:"value"` // six upper-case hex digits
}

func (k KCV) String() string { return k.Value + " (" + string(k.Method) + ")" }

// Methods are the KCV methods, in the order they are written.
var Methods = []keywrap.KCVMethod{keywrap.KCVECB, keywrap.KCVCMAC}

// ComputeKCV is key's check value by method.
func ComputeKCV(key []byte, method keywrap.KCVMethod) (KCV, error) {
	v, err := keywrap.KCV(key, method)
	if err != nil {
		return KCV{}, err
	}
	return KCV{Method: method, Value: strings.ToUpper(hex.EncodeToString(v[:]))}, nil
}

// AllKCVs is key's check value by every method.
func AllKCVs(key []byte) ([]KCV, error) {
	out := make([]KCV, 0, len(Methods))
	for _, m := range Methods {
		k, err := ComputeKCV(key, m)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// checkMethod refuses a method that is not one of Methods.
func checkMethod(m keywrap.KCVMethod) error {
	for _, ok := range Methods {
		if m == ok {
			return nil
		}
	}
	return fmt.Errorf("unknown KCV method %q: want %s or %s", m, keywrap.KCVECB, keywrap.KCVCMAC)
}

// normalKCV is s as six upper-case hex digits; custodians may type either
// case, but not a space, a prefix or a different length.
func normalKCV(s string) (string, error) {
	if len(s) != 2*keywrap.KCVLen {
		return "", fmt.Errorf("KCV %q: want %d hex digits", s, 2*keywrap.KCVLen)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("KCV %q: want %d hex digits", s, 2*keywrap.KCVLen)
	}
	return strings.ToUpper(s), nil
}

// MatchCheckValue compares a token's check value of a key (PKCS#11
// CKA_CHECK_VALUE: the aes-ecb-zero KCV, at least its first three bytes)
// with want, which must be by aes-ecb-zero; a KEK loaded into an HSM is
// checked so. An error says both values.
func MatchCheckValue(checkValue []byte, want KCV) error {
	if want.Method != keywrap.KCVECB {
		return fmt.Errorf("a token's check value is by %s; %s is by %s", keywrap.KCVECB, want, want.Method)
	}
	if len(checkValue) < keywrap.KCVLen {
		return fmt.Errorf("the token gives a check value of %d bytes, not %d", len(checkValue), keywrap.KCVLen)
	}
	got := strings.ToUpper(hex.EncodeToString(checkValue[:keywrap.KCVLen]))
	if got != want.Value {
		return fmt.Errorf("%w: the token's key has KCV %s (%s), want %s", ErrKCV, got, keywrap.KCVECB, want)
	}
	return nil
}
