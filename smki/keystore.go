package smki

import (
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"

	"github.com/ecos-cos/ecos/eui"
)

// KeystoreEntry is one certificate of a DCC Boxed keystore.json with its
// private key. The keys in these files are published test keys.
type KeystoreEntry struct {
	EUI         eui.EUI
	Usage       KeyUsage // KeyUsageDigitalSignature or KeyUsageKeyAgreement
	Name        string   // e.g. "Z1-transitionalCoS-ds"
	Role        RemotePartyRole
	Certificate *Certificate
	PrivateKey  *ecdsa.PrivateKey
}

type keystoreJSONEntry struct {
	Certificate string `json:"certificate"`
	PrivateKey  string `json:"privateKey"`
	Name        string `json:"name"`
	Role        *int   `json:"role"`
}

var keystoreUsages = map[string]KeyUsage{
	"digitalSignature": KeyUsageDigitalSignature,
	"keyAgreement":     KeyUsageKeyAgreement,
}

// ParseKeystore reads the dccboxed-keystore format: EUI → usage →
// decimal serial → {certificate, privateKey, name, role}. Every entry is
// cross-checked: the map keys must agree with the certificate (EUI, key
// usage, serial), the role with its OU, and the private key with its
// public key, so a mislabelled entry fails here instead of later signing
// as the wrong party. A name twice in one object, or one certificate
// under two spellings of its keys ("90b3…" and "90-B3-…", "5" and "05"),
// is refused naming both: JSON decoding would keep the last silently.
// Entries come back sorted by EUI, usage and serial; the first problem
// reported is the same whatever the order of the file.
func ParseKeystore(data []byte) ([]KeystoreEntry, error) {
	if err := uniqueNames(data); err != nil {
		return nil, errorf("keystore: %w", err)
	}
	var doc map[string]map[string]map[string]keystoreJSONEntry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, errorf("keystore: %v", err)
	}
	if dec.More() {
		return nil, errorf("keystore: trailing data after JSON object")
	}
	var out []KeystoreEntry
	seen := map[string]string{} // EUI/usage/serial → the keys it was first found under
	for _, euiKey := range slices.Sorted(maps.Keys(doc)) {
		id, err := eui.Parse(euiKey)
		if err != nil {
			return nil, errorf("keystore: %v", err)
		}
		usages := doc[euiKey]
		for _, usageKey := range slices.Sorted(maps.Keys(usages)) {
			usage, ok := keystoreUsages[usageKey]
			if !ok {
				return nil, errorf("keystore %s: unknown usage %q", euiKey, usageKey)
			}
			serials := usages[usageKey]
			for _, serialKey := range slices.Sorted(maps.Keys(serials)) {
				at := euiKey + "/" + usageKey + "/" + serialKey
				e, err := keystoreEntry(id, usage, serialKey, serials[serialKey])
				if err != nil {
					return nil, errorf("keystore %s: %w", at, err)
				}
				canonical := fmt.Sprintf("%s/%s/%s", id.Hex(), usageKey, e.Certificate.SerialNumber)
				if first, dup := seen[canonical]; dup {
					return nil, errorf("keystore %s: the same certificate as %s", at, first)
				}
				seen[canonical] = at
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b KeystoreEntry) int {
		return cmp.Or(bytes.Compare(a.EUI[:], b.EUI[:]), cmp.Compare(a.Usage, b.Usage),
			a.Certificate.SerialNumber.Cmp(b.Certificate.SerialNumber))
	})
	return out, nil
}

// uniqueNames refuses a JSON document in which an object holds one name
// twice, naming it and where it is. Malformed JSON passes: the decoder
// that follows says what is wrong with it.
func uniqueNames(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type object struct {
		names map[string]int64 // name → the offset just after it
		key   bool             // the next token is a name
	}
	var stack []*object
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isName := top != nil && top.key
		if top != nil && top.names != nil {
			top.key = !top.key
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, &object{names: map[string]int64{}, key: true})
			case '[':
				stack = append(stack, &object{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].names != nil {
					stack[len(stack)-1].key = true
				}
			}
		case string:
			if isName {
				if first, dup := top.names[tok]; dup {
					return fmt.Errorf("name %q at byte %d is already in this object at byte %d", tok, dec.InputOffset(), first)
				}
				top.names[tok] = dec.InputOffset()
			}
		}
	}
}

func keystoreEntry(id eui.EUI, usage KeyUsage, serialKey string, j keystoreJSONEntry) (KeystoreEntry, error) {
	e := KeystoreEntry{EUI: id, Usage: usage, Name: j.Name}
	serial, ok := new(big.Int).SetString(serialKey, 10)
	if !ok {
		return e, errors.New("serial key is not a decimal integer")
	}
	if j.Role == nil || *j.Role < 0 || *j.Role > 0xFF {
		return e, errors.New("missing or out-of-range role")
	}
	e.Role = RemotePartyRole(*j.Role)
	certs, err := ParsePEM([]byte(j.Certificate))
	if err != nil {
		return e, err.(*ParseError).err
	}
	if len(certs) != 1 {
		return e, fmt.Errorf("%d certificates, want 1", len(certs))
	}
	c := certs[0]
	e.Certificate = c
	switch {
	case c.SerialNumber.Cmp(serial) != 0:
		return e, fmt.Errorf("certificate serial %v differs from the key %v", c.SerialNumber, serial)
	case c.EUI != id:
		return e, fmt.Errorf("certificate EUI %s differs from the key", c.EUI.Hex())
	case c.KeyUsage != usage:
		return e, fmt.Errorf("certificate key usage %v differs from the key %v", c.KeyUsage, usage)
	case c.Role != e.Role:
		return e, fmt.Errorf("certificate role %v differs from role %d", c.Role, *j.Role)
	}
	if e.PrivateKey, err = parseECPrivateKey(j.PrivateKey); err != nil {
		return e, err
	}
	if c.PublicKey == nil || !c.PublicKey.Equal(&e.PrivateKey.PublicKey) {
		return e, errors.New("private key does not match the certificate")
	}
	return e, nil
}

// parseECPrivateKey reads a PKCS#8 P-256 key in PEM.
func parseECPrivateKey(s string) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("privateKey is not a PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("privateKey: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("privateKey is not a P-256 ECDSA key")
	}
	return ec, nil
}
