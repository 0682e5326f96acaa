package smki

import (
	"crypto/sha256"
	"sync"
)

// DefaultLinks is how many checked links a Links made by NewLinks(0)
// remembers: far more than the CA and supplier certificates a CoS Party
// sees, at 64 bytes each.
const DefaultLinks = 1 << 16

// Links remembers which certificates were found to be signed by which CA
// certificates, so that the same chain presented again is not re-verified.
// A supplier sends the same XML-signing certificate and the same
// replacement certificates with every 6.23, so without it each request
// re-checks about a dozen signatures whose answer cannot have changed.
//
// A link is keyed by the SHA-256 of both certificates' whole DER, which
// covers everything CheckSignatureFrom reads: the child's signed part,
// algorithm and signature, and the parent's key and CA extensions. Only
// successes are remembered, so a bad signature costs a verify every time
// and can never be mistaken for a good one. Validity periods, path length
// and critical extensions are still checked on every Verify: they depend
// on the time and the chain, not on the pair.
//
// A nil *Links checks without remembering. Links is safe for concurrent
// use. When full it forgets everything and starts again, which bounds its
// memory without bookkeeping on the hot path.
type Links struct {
	max  int
	mu   sync.RWMutex
	seen map[linkKey]struct{}
}

type linkKey [2 * sha256.Size]byte

// NewLinks returns a Links remembering at most max links; 0 means
// DefaultLinks.
func NewLinks(max int) *Links {
	if max <= 0 {
		max = DefaultLinks
	}
	return &Links{max: max, seen: make(map[linkKey]struct{})}
}

// CheckSignatureFrom is child.CheckSignatureFrom(parent), answered from
// memory when this pair has passed before.
func (l *Links) CheckSignatureFrom(child, parent *Certificate) error {
	if l == nil || parent == nil {
		return child.CheckSignatureFrom(parent)
	}
	var k linkKey
	a, b := sha256.Sum256(child.Raw), sha256.Sum256(parent.Raw)
	copy(k[:sha256.Size], a[:])
	copy(k[sha256.Size:], b[:])
	l.mu.RLock()
	_, ok := l.seen[k]
	l.mu.RUnlock()
	if ok {
		return nil
	}
	if err := child.CheckSignatureFrom(parent); err != nil {
		return err
	}
	l.mu.Lock()
	if len(l.seen) >= l.max {
		clear(l.seen)
	}
	l.seen[k] = struct{}{}
	l.mu.Unlock()
	return nil
}

// Len reports how many links are remembered.
func (l *Links) Len() int {
	if l == nil {
		return 0
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.seen)
}
