package xmldsig

// Default limits. A DUIS message is a few kilobytes and about a dozen
// elements deep; the limits leave room for large inventory responses.
//
// Cost: screening is linear (about 10 ms per 100 kB here, 30 ms for the
// worst document the fixed bounds below allow). The inclusive
// canonicalisation of the whole document, which runs only once the
// signature over SignedInfo has verified, copies each subtree once per
// level: at the defaults its worst case is about a second of CPU, twice
// for a document with white space between elements (read without it, as
// the DCC does, then as given). A
// SignedInfo can be replayed onto any document, so that cost is reachable
// by anyone holding one signed message: an HTTP edge that expects DUIS
// requests should cap bodies well below 1 MiB.
const (
	DefaultMaxSize  = 1 << 20 // bytes
	DefaultMaxDepth = 32      // element nesting, the root is depth 1
)

// Fixed bounds that keep screening linear. Resolving a prefix searches
// the declarations in scope, and the DOM's attribute and namespace
// lookups walk an element's attributes and its ancestors': unbounded, a
// megabyte of declarations on the root over a megabyte of empty elements
// cost about 20 s of CPU before any signature was looked at. DUIS
// documents declare a handful of namespaces and carry at most a few
// attributes on an element.
const (
	maxBindings = 64 // namespace declarations in scope at any element
	maxAttrs    = 32 // attributes on one element, declarations included
)

// Option changes a limit of Verify.
type Option func(*limits)

type limits struct {
	maxSize  int
	maxDepth int
}

// WithMaxSize sets the largest document, in bytes, Verify accepts.
// Non-positive values keep the default.
func WithMaxSize(n int) Option {
	return func(l *limits) {
		if n > 0 {
			l.maxSize = n
		}
	}
}

func newLimits(opts []Option) limits {
	l := limits{maxSize: DefaultMaxSize, maxDepth: DefaultMaxDepth}
	for _, o := range opts {
		if o != nil {
			o(&l)
		}
	}
	return l
}
