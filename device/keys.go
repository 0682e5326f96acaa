package device

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/smki"
)

// certCacheMax bounds the intern table. Distinct certificates are few in
// practice (one set per supplier plus the CoS credentials), but a fuzzer or
// a misbehaving party can send any number, so the table is bounded and
// simply starts over when full: devices keep their own pointers, so
// forgetting an entry costs a re-parse, never correctness.
const certCacheMax = 1024

// certCache parses certificates once and hands out one shared, immutable
// *smki.Certificate per DER, so a million devices that install the same
// certificate hold one copy of it, and a command's certificates cost a map
// lookup rather than a parse.
type certCache struct {
	mu sync.RWMutex
	m  map[string]*smki.Certificate // by DER
}

func newCertCache() *certCache {
	return &certCache{m: make(map[string]*smki.Certificate)}
}

func (c *certCache) parse(der []byte) (*smki.Certificate, error) {
	c.mu.RLock()
	cert := c.m[string(der)]
	c.mu.RUnlock()
	if cert != nil {
		return cert, nil
	}
	cert, err := smki.Parse(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[string(der)]; prev != nil {
		return prev, nil // another device parsed it meanwhile: share theirs
	}
	if len(c.m) >= certCacheMax {
		clear(c.m)
	}
	c.m[string(der)] = cert
	return cert, nil
}

// DerivedKeys makes the DS keys of fleet devices that the PKI has no
// credentials for. The key of device id is the P-256 scalar
//
//	SHA-256("ecos/device/ds/v1" ‖ seed ‖ id ‖ ctr)    (ctr a big-endian uint32)
//
// for the first ctr = 0, 1, … that gives a valid scalar (1 ≤ k < n; a
// miss has probability about 2⁻³²). Anyone with the seed can recompute
// every key, which is the point: the keys are reproducible test data and
// cost no memory until used. They must never protect anything real.
//
// Deriving a key costs a scalar multiplication (its public key, ~17 µs),
// as much as a sixth of what a device's command costs in crypto, so the
// most recently used keys are kept: two generations of
// derivedKeysGeneration keys, the older dropped when the newer fills up.
// Memory stays flat whatever the fleet's size, and a key used again soon
// (the CoS Party verifying the response the device has just signed, when
// both share one DerivedKeys; a read-back after a lost response) is not
// derived again. It is safe for concurrent use.
type DerivedKeys struct {
	seed []byte

	mu       sync.Mutex
	cur, old map[eui.EUI]*ecdsa.PrivateKey
}

// derivedKeysGeneration is the size of one generation: well above the
// commands a CoS Party has in flight at once; a key and what crypto/ecdsa
// caches for it come to about 500 bytes.
const derivedKeysGeneration = 4096

const derivationLabel = "ecos/device/ds/v1"

// NewDerivedKeys derives keys from seed (see FleetConfig.KeySeed).
func NewDerivedKeys(seed []byte) *DerivedKeys {
	return &DerivedKeys{seed: bytes.Clone(seed), cur: make(map[eui.EUI]*ecdsa.PrivateKey)}
}

// PrivateKey is device id's key. Treat it as read-only: it is shared.
func (k *DerivedKeys) PrivateKey(id eui.EUI) (*ecdsa.PrivateKey, error) {
	k.mu.Lock()
	priv := k.cur[id]
	if priv == nil && k.old[id] != nil {
		priv = k.old[id]
		k.keep(id, priv)
	}
	k.mu.Unlock()
	if priv != nil {
		return priv, nil
	}
	priv, err := DeriveKey(k.seed, id)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if prev := k.cur[id]; prev != nil {
		return prev, nil // derived meanwhile: keep one pointer per key
	}
	k.keep(id, priv)
	return priv, nil
}

// PublicKey is device id's public key.
func (k *DerivedKeys) PublicKey(id eui.EUI) (*ecdsa.PublicKey, error) {
	priv, err := k.PrivateKey(id)
	if err != nil {
		return nil, err
	}
	return &priv.PublicKey, nil
}

// keep puts a key in the current generation; called with mu held.
func (k *DerivedKeys) keep(id eui.EUI, priv *ecdsa.PrivateKey) {
	if len(k.cur) >= derivedKeysGeneration {
		k.old, k.cur = k.cur, make(map[eui.EUI]*ecdsa.PrivateKey, derivedKeysGeneration)
	}
	k.cur[id] = priv
}

// DeriveKey computes the DS key a Fleet gives generated device id from
// seed (see FleetConfig.KeySeed). It is exported so that a CoS Party test
// or the simulator's operator can recompute a device's public key without
// asking the fleet.
func DeriveKey(seed []byte, id eui.EUI) (*ecdsa.PrivateKey, error) {
	for ctr := uint32(0); ctr < 64; ctr++ {
		h := sha256.New()
		h.Write([]byte(derivationLabel))
		h.Write(seed)
		h.Write(id[:])
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], ctr)
		h.Write(c[:])
		if priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), h.Sum(nil)); err == nil {
			return priv, nil
		}
	}
	return nil, errors.New("device: no valid P-256 scalar derived") // probability ~2⁻²⁰⁴⁸
}
