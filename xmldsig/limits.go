package xmldsig

// Default limits. A DUIS message is a few kilobytes and at most about a
// dozen elements deep; the limits leave room for large inventory responses
// while keeping the worst case (canonicalisation copies each subtree once
// per level) far below a second of CPU.
const (
	DefaultMaxSize  = 1 << 20 // bytes
	DefaultMaxDepth = 32      // element nesting, the root is depth 1
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

// WithMaxDepth sets the deepest element nesting Verify accepts (the root
// element is depth 1). Non-positive values keep the default.
func WithMaxDepth(n int) Option {
	return func(l *limits) {
		if n > 0 {
			l.maxDepth = n
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
