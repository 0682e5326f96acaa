package device

import (
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
// *smki.Certificate per DER, so 100,000 devices that install the same
// supplier certificate hold one copy of it, not 100,000.
type certCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*smki.Certificate
}

func newCertCache() *certCache {
	return &certCache{m: make(map[[sha256.Size]byte]*smki.Certificate)}
}

func (c *certCache) parse(der []byte) (*smki.Certificate, error) {
	h := sha256.Sum256(der)
	c.mu.Lock()
	cert := c.m[h]
	c.mu.Unlock()
	if cert != nil {
		return cert, nil
	}
	cert, err := smki.Parse(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[h]; prev != nil {
		return prev, nil // another device parsed it meanwhile: share theirs
	}
	if len(c.m) >= certCacheMax {
		clear(c.m)
	}
	c.m[h] = cert
	return cert, nil
}

// keyDeriver makes the DS keys of fleet devices that the PKI has no
// credentials for. The key of device id is the P-256 scalar
//
//	SHA-256("ecos/device/ds/v1" ‖ seed ‖ id ‖ ctr)    (ctr a big-endian uint32)
//
// for the first ctr = 0, 1, … that gives a valid scalar (1 ≤ k < n; a
// miss has probability about 2⁻³²). Anyone with the seed can recompute
// every key, which is the point: the keys are reproducible test data and
// cost no memory until used. They must never protect anything real.
//
// Keys are derived on use (a scalar multiplication, ~0.1 ms) and a bounded
// number are kept, so a 100,000-device fleet does not hold 100,000 keys.
type keyDeriver struct {
	seed []byte

	mu    sync.Mutex
	cache map[eui.EUI]*ecdsa.PrivateKey
}

// derivedKeyCacheMax bounds the keys kept; like certCache it starts over
// when full.
const derivedKeyCacheMax = 4096

const derivationLabel = "ecos/device/ds/v1"

func newKeyDeriver(seed []byte) *keyDeriver {
	return &keyDeriver{seed: append([]byte(nil), seed...), cache: make(map[eui.EUI]*ecdsa.PrivateKey)}
}

func (k *keyDeriver) key(id eui.EUI) (*ecdsa.PrivateKey, error) {
	k.mu.Lock()
	priv := k.cache[id]
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
	if len(k.cache) >= derivedKeyCacheMax {
		clear(k.cache)
	}
	k.cache[id] = priv
	return priv, nil
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
