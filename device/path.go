package device

import (
	"sync"

	"github.com/ecos-cos/ecos/smki"
)

// maxPathDepth bounds the walk up a certification path: SMKI paths are
// root → issuing CA → end entity, so four is generous, and the bound also
// ends any loop a crafted path could form.
const maxPathDepth = 4

// certPath is one command's certificationPathCertificates and the device's
// root anchor (nil when it has none). The three replacements of a 6.23
// share one issuing CA, so what is known about a path certificate is
// remembered for the command: its link to the root is checked once, not
// once per replacement.
type certPath struct {
	certs []*smki.Certificate
	root  *smki.Certificate
	memo  map[*smki.Certificate]pathLink
	links *smki.Links
}

// pathLink is a checked path certificate: the certificates above it, up
// to and excluding the root anchor, and whether it chains at all.
type pathLink struct {
	above []*smki.Certificate
	ok    bool
}

func newCertPath(certs []*smki.Certificate, root *smki.Certificate, links *smki.Links) *certPath {
	return &certPath{certs: certs, root: root, memo: make(map[*smki.Certificate]pathLink), links: links}
}

// chain finds cert's issuer among the path certificates and walks up until
// it reaches the root anchor. A device without a root anchor (the RTDS
// device: the ZA root is not published) takes the topmost path certificate
// on trust, but still needs the replacement to be issued by one of them. It
// returns the certificates whose validity the device checks: cert and the
// path certificates above it, never the root anchor, which like every
// anchor is not time-checked. nil means no chain (noTrustAnchor).
func (p *certPath) chain(cert *smki.Certificate) []*smki.Certificate {
	if p.issuedByRoot(cert) {
		return []*smki.Certificate{cert}
	}
	parent := p.issuer(cert)
	if parent == nil {
		return nil
	}
	link := p.link(parent, 1)
	if !link.ok {
		return nil
	}
	return append([]*smki.Certificate{cert, parent}, link.above...)
}

// link checks path certificate c, depth levels above the replacement.
func (p *certPath) link(c *smki.Certificate, depth int) pathLink {
	if l, ok := p.memo[c]; ok {
		return l
	}
	var l pathLink
	if p.issuedByRoot(c) {
		l.ok = true
	} else if parent := p.issuer(c); parent == nil {
		l.ok = p.root == nil // the top of the path, taken on trust only without a root anchor
	} else if depth < maxPathDepth {
		if up := p.link(parent, depth+1); up.ok {
			l = pathLink{above: append([]*smki.Certificate{parent}, up.above...), ok: true}
		}
	}
	p.memo[c] = l
	return l
}

func (p *certPath) issuedByRoot(c *smki.Certificate) bool {
	return p.root != nil && c.Issuer.Equal(p.root.Subject) && p.links.CheckSignatureFrom(c, p.root) == nil
}

// issuer returns the path certificate, other than c itself, whose key
// signed c.
func (p *certPath) issuer(c *smki.Certificate) *smki.Certificate {
	for _, cand := range p.certs {
		if cand == c || !c.Issuer.Equal(cand.Subject) {
			continue
		}
		if p.links.CheckSignatureFrom(c, cand) == nil {
			return cand
		}
	}
	return nil
}

// verdicts remembers what checking a replacement certificate concluded
// beyond the cell and the clock: whether it passes the SMKI profile, and
// its chain through a given certification path to a given root anchor.
// Both depend only on the certificates (compared by pointer, which
// certCache makes one per DER), so the ECoS certificate a migration
// installs on a million devices is checked once, not a million times. It
// is bounded like certCache and safe for concurrent use.
type verdicts struct {
	mu sync.RWMutex
	m  map[verdictKey]verdict
}

// verdictPathMax is the longest path remembered; a longer one (SMKI paths
// carry one or two certificates) is checked every time.
const verdictPathMax = 4

type verdictKey struct {
	cert, root *smki.Certificate
	n          int
	path       [verdictPathMax]*smki.Certificate
}

type verdict struct {
	profileOK bool
	chain     []*smki.Certificate // nil: no chain (noTrustAnchor)
}

func newVerdicts() *verdicts { return &verdicts{m: make(map[verdictKey]verdict)} }

// check returns cert's verdict on path p, computing it on a miss. The
// chain returned is shared: never modify it.
func (v *verdicts) check(cert *smki.Certificate, p *certPath) verdict {
	if len(p.certs) > verdictPathMax {
		return p.verdict(cert)
	}
	k := verdictKey{cert: cert, root: p.root, n: len(p.certs)}
	copy(k.path[:], p.certs)
	v.mu.RLock()
	got, ok := v.m[k]
	v.mu.RUnlock()
	if ok {
		return got
	}
	got = p.verdict(cert)
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= certCacheMax {
		clear(v.m)
	}
	v.m[k] = got
	return got
}

func (p *certPath) verdict(cert *smki.Certificate) verdict {
	if cert.CheckProfile() != nil {
		return verdict{}
	}
	return verdict{profileOK: true, chain: p.chain(cert)}
}
