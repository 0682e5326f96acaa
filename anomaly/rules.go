package anomaly

import (
	"cmp"
	"slices"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// ruleSet is a list of thresholds made ready to count: empty windows
// ordered by SRV then interval, one per (SRV, interval).
type ruleSet struct {
	ws   []window
	srvs []SRV // distinct, ascending
}

// compile turns thresholds into a ruleSet. The counter trusts its callers
// to pass what adt.File.Effective or adt.ParseRows accepted, and does not
// fail on anything else: a row for an SRV DUIS does not define could never
// be checked and is dropped; an interval outside 1..1440 minutes is
// clamped into it; of rows repeating an (SRV, interval) the first is kept,
// as Effective does.
func (c *Counter) compile(th []adt.Threshold) ruleSet {
	var rs ruleSet
	for _, t := range th {
		srv, ok := SRVOf(t.SRV)
		if !ok {
			continue
		}
		t.Interval = min(max(t.Interval, 1), adt.MaxInterval)
		rs.ws = append(rs.ws, newWindow(srv, t, c.slices))
	}
	slices.SortStableFunc(rs.ws, func(a, b window) int {
		return cmp.Or(cmp.Compare(a.srv, b.srv), cmp.Compare(a.interval, b.interval))
	})
	rs.ws = slices.CompactFunc(rs.ws, func(a, b window) bool {
		return a.srv == b.srv && a.interval == b.interval
	})
	for i := range rs.ws {
		if i == 0 || rs.ws[i].srv != rs.ws[i-1].srv {
			rs.srvs = append(rs.srvs, rs.ws[i].srv)
		}
	}
	return rs
}

// SetUser puts th in force for user in one step: no check sees some of the
// new thresholds and some of the old. A window whose (SRV, interval) is in
// both keeps its counts, so that a User cannot empty its windows by sending
// a new file; any other window starts empty. th == nil removes the User's
// thresholds, leaving it to Options.DefaultUser (whose windows also keep
// the counts of matching ones); an empty non-nil th means no thresholds.
func (c *Counter) SetUser(user eui.EUI, th []adt.Threshold) {
	var rs *ruleSet
	switch {
	case th != nil:
		r := c.compile(th)
		rs = &r
	case c.dflt != nil:
		rs = c.dflt
	}
	u := userKey(user)
	sh := c.shard(u)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c.install(sh, u, rs)
}

// install replaces u's windows with rs's (nil: none, and u forgotten).
// sh.mu must be held; ids are drawn under it, which Cancel relies on.
func (c *Counter) install(sh *shard, u uint64, rs *ruleSet) {
	// Copied out, because appending the new windows may move the arena.
	var old []window
	for _, srv := range sh.users[u] {
		k := groupKey{u, srv}
		sp := sh.groups[k]
		old = append(old, sh.ws[sp.off:sp.off+sp.n]...)
		delete(sh.groups, k)
		sh.dead += int(sp.n)
	}
	if rs == nil {
		delete(sh.users, u)
	} else {
		for i := 0; i < len(rs.ws); {
			j := i + 1
			for j < len(rs.ws) && rs.ws[j].srv == rs.ws[i].srv {
				j++
			}
			off := len(sh.ws)
			sh.ws = c.carry(sh.ws, rs.ws[i:j], old)
			sh.groups[groupKey{u, rs.ws[i].srv}] = span{uint32(off), uint32(j - i)}
			i = j
		}
		sh.users[u] = rs.srvs
	}
	for i := range old {
		sh.rings.release(old[i].ring)
	}
	sh.compact()
}

// carry appends the windows of rules to dst, each keeping the counts of
// the window of old with its (SRV, interval), if any, and taking that
// window's ring out of old so that the caller frees only what is dropped.
func (c *Counter) carry(dst []window, rules []window, old []window) []window {
	for _, w := range rules {
		if o := find(old, w.srv, w.interval); o != nil {
			w.keep(o)
			o.ring = 0
		} else {
			w.id = c.seq.Add(1)
		}
		dst = append(dst, w)
	}
	return dst
}

func find(ws []window, srv SRV, interval uint16) *window {
	for i := range ws {
		if ws[i].srv == srv && ws[i].interval == interval {
			return &ws[i]
		}
	}
	return nil
}

// compact rebuilds the arena once more than half of it is windows that
// SetUser replaced, so that reloading files does not grow memory for
// ever, at a cost spread over at least as many windows as it copies.
func (sh *shard) compact() {
	if sh.dead < 1024 || sh.dead < len(sh.ws)/2 {
		return
	}
	ws := make([]window, 0, len(sh.ws)-sh.dead)
	for k, sp := range sh.groups {
		off := len(ws)
		ws = append(ws, sh.ws[sp.off:sp.off+sp.n]...)
		sh.groups[k] = span{uint32(off), sp.n}
	}
	sh.ws, sh.dead = ws, 0
}

// SetDCC puts the DCC-wide thresholds th in force, counted over every
// User's requests and the CoS Party's own commands. As with SetUser, a
// window whose (SRV, interval) is unchanged keeps its counts, and no check
// sees a mix of old and new thresholds.
func (c *Counter) SetDCC(th []adt.Threshold) {
	rs := c.compile(th)
	for i := range c.dcc {
		c.dcc[i].mu.Lock()
	}
	defer func() {
		for i := range c.dcc {
			c.dcc[i].mu.Unlock()
		}
	}()
	for i := range c.dcc {
		dc := &c.dcc[i]
		lo, _ := slices.BinarySearchFunc(rs.ws, SRV(i), func(w window, s SRV) int { return cmp.Compare(w.srv, s) })
		hi := lo
		for hi < len(rs.ws) && rs.ws[hi].srv == SRV(i) {
			hi++
		}
		if lo == hi && len(dc.ws) == 0 {
			continue
		}
		var ws []window
		if lo < hi {
			ws = c.carry(make([]window, 0, hi-lo), rs.ws[lo:hi], dc.ws)
		}
		for j := range dc.ws {
			dc.rings.release(dc.ws[j].ring)
		}
		dc.ws = ws
		dc.active.Store(len(ws) > 0)
	}
}
