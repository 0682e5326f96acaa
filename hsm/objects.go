package hsm

import (
	"fmt"
	"sort"

	"github.com/miekg/pkcs11"
)

// Object is a token object as a custodian checks it: what it is, and
// whether it can ever leave the token or do more than its job.
type Object struct {
	Label   string `json:"label"`
	Class   string `json:"class"`    // "private key", "public key", "secret key", …
	KeyType string `json:"key_type"` // "EC", "AES", …
	ID      []byte `json:"id"`

	Token            bool `json:"token"`
	Private          bool `json:"private"`
	Sensitive        bool `json:"sensitive"`
	Extractable      bool `json:"extractable"`
	AlwaysSensitive  bool `json:"always_sensitive"`
	NeverExtractable bool `json:"never_extractable"`
	Sign             bool `json:"sign"`
	Verify           bool `json:"verify"`
	Encrypt          bool `json:"encrypt"`
	Decrypt          bool `json:"decrypt"`
	Wrap             bool `json:"wrap"`
	Unwrap           bool `json:"unwrap"`
	Derive           bool `json:"derive"`

	// CheckValue is a secret key's CKA_CHECK_VALUE (aes-ecb-zero KCV).
	CheckValue []byte `json:"check_value,omitempty"`
	// ValueReadable: the token gave CKA_VALUE out. For a private or
	// secret key that is a key in the clear, and a custodian's alarm.
	ValueReadable bool `json:"value_readable"`
}

var classNames = map[uint]string{
	pkcs11.CKO_DATA: "data", pkcs11.CKO_CERTIFICATE: "certificate", pkcs11.CKO_PUBLIC_KEY: "public key",
	pkcs11.CKO_PRIVATE_KEY: "private key", pkcs11.CKO_SECRET_KEY: "secret key",
}

var keyTypeNames = map[uint]string{
	pkcs11.CKK_RSA: "RSA", pkcs11.CKK_EC: "EC", pkcs11.CKK_AES: "AES", pkcs11.CKK_GENERIC_SECRET: "generic secret",
	pkcs11.CKK_DES3: "DES3",
}

// Objects lists the token's objects (those the logged-in user can see),
// by label.
func (a *Admin) Objects() ([]Object, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hs, err := a.findAll(nil)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(hs))
	for _, h := range hs {
		out = append(out, a.object(h))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Label != out[j].Label {
			return out[i].Label < out[j].Label
		}
		return out[i].Class < out[j].Class
	})
	return out, nil
}

// object reads attributes one at a time: a token refuses a whole batch
// when one attribute is sensitive or does not apply to the class.
func (a *Admin) object(h pkcs11.ObjectHandle) Object {
	get := func(t uint) ([]byte, bool) {
		attrs, err := a.p.GetAttributeValue(a.sess, h, []*pkcs11.Attribute{pkcs11.NewAttribute(t, nil)})
		if err != nil || len(attrs) != 1 {
			return nil, false
		}
		return attrs[0].Value, true
	}
	flag := func(t uint) bool {
		v, ok := get(t)
		return ok && len(v) == 1 && v[0] != 0
	}
	number := func(t uint, names map[uint]string) string {
		v, ok := get(t)
		if !ok || len(v) == 0 {
			return ""
		}
		var n uint
		for i := len(v) - 1; i >= 0; i-- { // CK_ULONG in host (little-endian) order
			n = n<<8 | uint(v[i])
		}
		if s, ok := names[n]; ok {
			return s
		}
		return fmt.Sprintf("%#x", n)
	}
	o := Object{Class: number(pkcs11.CKA_CLASS, classNames), KeyType: number(pkcs11.CKA_KEY_TYPE, keyTypeNames)}
	if v, ok := get(pkcs11.CKA_LABEL); ok {
		o.Label = string(v)
	}
	o.ID, _ = get(pkcs11.CKA_ID)
	o.Token, o.Private = flag(pkcs11.CKA_TOKEN), flag(pkcs11.CKA_PRIVATE)
	o.Sensitive, o.Extractable = flag(pkcs11.CKA_SENSITIVE), flag(pkcs11.CKA_EXTRACTABLE)
	o.AlwaysSensitive, o.NeverExtractable = flag(pkcs11.CKA_ALWAYS_SENSITIVE), flag(pkcs11.CKA_NEVER_EXTRACTABLE)
	o.Sign, o.Verify = flag(pkcs11.CKA_SIGN), flag(pkcs11.CKA_VERIFY)
	o.Encrypt, o.Decrypt = flag(pkcs11.CKA_ENCRYPT), flag(pkcs11.CKA_DECRYPT)
	o.Wrap, o.Unwrap, o.Derive = flag(pkcs11.CKA_WRAP), flag(pkcs11.CKA_UNWRAP), flag(pkcs11.CKA_DERIVE)
	if o.Class == "secret key" {
		o.CheckValue, _ = get(pkcs11.CKA_CHECK_VALUE)
	}
	if o.Class == "private key" || o.Class == "secret key" {
		v, ok := get(pkcs11.CKA_VALUE)
		o.ValueReadable = ok && len(v) > 0
	}
	return o
}
