package anomaly

import (
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// WindowCount is a threshold and the requests in its window.
type WindowCount struct {
	Rule  adt.Threshold
	Count uint64
}

// Counts returns user's thresholds (those set, else the defaults) in SRV
// then interval order, each with the requests in its window ending at at,
// for `ecos adt show`. It changes nothing, so an operator looking cannot
// slide anyone's windows.
func (c *Counter) Counts(user eui.EUI, at time.Time) []WindowCount {
	u := userKey(user)
	sh := c.shard(u)
	t := at.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	srvs, set := sh.users[u]
	if !set {
		if c.dflt == nil {
			return nil
		}
		out := make([]WindowCount, len(c.dflt.ws))
		for i := range c.dflt.ws {
			out[i].Rule = c.dflt.ws[i].rule()
		}
		return out
	}
	var out []WindowCount
	for _, srv := range srvs {
		sp := sh.groups[groupKey{u, srv}]
		out = appendCounts(out, sh.ws[sp.off:sp.off+sp.n], &sh.rings, t)
	}
	return out
}

// DCCCounts is Counts for the DCC-wide thresholds.
func (c *Counter) DCCCounts(at time.Time) []WindowCount {
	t := at.UnixNano()
	var out []WindowCount
	for i := range c.dcc {
		dc := &c.dcc[i]
		dc.mu.Lock()
		out = appendCounts(out, dc.ws, &dc.rings, t)
		dc.mu.Unlock()
	}
	return out
}

func appendCounts(out []WindowCount, ws []window, rs *rings, t int64) []WindowCount {
	for i := range ws {
		out = append(out, WindowCount{Rule: ws[i].rule(), Count: ws[i].countAt(t, rs)})
	}
	return out
}
