package anomaly

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// DefaultSlices is the number of slices per window when Options.Slices is
// zero: a 1440-minute window then moves in 24-minute steps and reaches back
// at most 24 minutes beyond its interval.
const DefaultSlices = 60

// MaxSlices bounds Options.Slices; a finer window costs memory in every
// counted row (4 bytes per slice) for no gain in what the thresholds mean.
const MaxSlices = 3600

const (
	shardBits = 8
	// userRingChunk and dccRingChunk are how many windows' slices are
	// allocated at once: shards hold thousands of windows, an SRV's DCC
	// windows a handful.
	userRingChunk = 64
	dccRingChunk  = 4
)

// Options configure a Counter.
type Options struct {
	// Slices is the number of slices per window; 0 (or less) means
	// DefaultSlices, more than MaxSlices means MaxSlices.
	Slices int
	// DefaultUser, if not nil, are the thresholds of a User for whom
	// SetUser was never called: the service passes the zero thresholds of
	// (&adt.File{}).Effective() when its policy holds Users without a file
	// to zero on critical SRVs. nil: such Users are limited only by the
	// DCC-wide thresholds.
	DefaultUser []adt.Threshold
}

// Counter counts requests against anomaly detection thresholds.
// Its methods are safe for concurrent use.
type Counter struct {
	slices int
	dflt   *ruleSet // nil: Users without SetUser have no thresholds of their own
	seq    atomic.Uint64
	shards [1 << shardBits]shard
	dcc    [adt.NumSRVs]dccSRV
}

// shard holds the Users whose EUIs hash to it. Lock order: a shard's mu,
// then one dccSRV's mu; SetDCC takes every dccSRV's mu in SRV order and no
// shard's.
type shard struct {
	mu     sync.Mutex
	groups map[groupKey]span // the windows of one (User, SRV)
	users  map[uint64][]SRV  // the SRVs of each User with thresholds set, for SetUser and Counts
	ws     []window          // arena the spans point into
	dead   int               // windows in ws no span points to
	rings  rings
	_      [64]byte // keeps neighbouring shards' locks off one cache line
}

type groupKey struct {
	user uint64
	srv  SRV
}

type span struct{ off, n uint32 }

// dccSRV holds the DCC-wide windows of one SRV.
type dccSRV struct {
	mu sync.Mutex
	// active is len(ws) > 0, readable without mu, so that an SRV the DCC
	// does not limit costs no shared lock: concurrent checks of different
	// Users would otherwise all queue on it.
	active atomic.Bool
	ws     []window
	rings  rings
	_      [64]byte
}

// New returns a Counter with no DCC-wide thresholds and no User's set.
func New(o Options) *Counter {
	s := o.Slices
	switch {
	case s <= 0:
		s = DefaultSlices
	case s > MaxSlices:
		s = MaxSlices
	}
	c := &Counter{slices: s}
	for i := range c.shards {
		c.shards[i].groups = make(map[groupKey]span)
		c.shards[i].users = make(map[uint64][]SRV)
		c.shards[i].rings = newRings(s, userRingChunk)
	}
	for i := range c.dcc {
		c.dcc[i].rings = newRings(s, dccRingChunk)
	}
	if o.DefaultUser != nil {
		rs := c.compile(o.DefaultUser)
		c.dflt = &rs
	}
	return c
}

// userKey is the EUI as a map key and hash input.
func userKey(e eui.EUI) uint64 { return binary.BigEndian.Uint64(e[:]) }

// shard spreads Users with a multiplicative hash: EUIs of one organisation
// share their leading bytes, and the top bits of the product depend on
// all of them.
func (c *Counter) shard(u uint64) *shard {
	return &c.shards[(u*0x9E3779B97F4A7C15)>>(64-shardBits)]
}

// userWindows are user's windows for srv, in interval order; nil if it has
// none. A User nobody set gets the defaults here, on first use, so that
// only Users who send requests cost memory. sh.mu must be held; the slice
// is valid until it is released.
func (c *Counter) userWindows(sh *shard, u uint64, srv SRV, create bool) []window {
	if sp, ok := sh.groups[groupKey{u, srv}]; ok {
		return sh.ws[sp.off : sp.off+sp.n]
	}
	if _, set := sh.users[u]; set || c.dflt == nil || !create {
		return nil
	}
	c.install(sh, u, c.dflt)
	if sp, ok := sh.groups[groupKey{u, srv}]; ok {
		return sh.ws[sp.off : sp.off+sp.n]
	}
	return nil
}
