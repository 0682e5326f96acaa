package smki

import (
	"fmt"
	"os"
	"strings"
)

// LoadFiles reads certificates from each path in order: a directory gives
// every *.pem file directly in it, a DCC Boxed keystore.json its
// certificates, a PEM file every certificate it holds, and a DER file (as
// DUIS carries certificates) its one certificate. A path that yields no
// certificate is an error: a typo'd trust file must fail loudly.
func LoadFiles(paths ...string) ([]*Certificate, error) {
	var out []*Certificate
	for _, p := range paths {
		certs, err := loadPath(p)
		if err != nil {
			return nil, err
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("%s: no certificates", p)
		}
		out = append(out, certs...)
	}
	return out, nil
}

func loadPath(p string) ([]*Certificate, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		pool, err := LoadPEMDir(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return pool.Certificates(), nil
	case strings.HasSuffix(p, ".json"):
		pool, err := LoadKeystoreFile(p)
		if err != nil {
			return nil, err
		}
		return pool.Certificates(), nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 && b[0] == 0x30 {
		c, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return []*Certificate{c}, nil
	}
	certs, err := ParsePEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return certs, nil
}
