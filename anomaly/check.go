package anomaly

import (
	"time"

	"github.com/ecos-cos/ecos/eui"
)

// Check decides on a User's request for srv made at at, counting it in the
// User's windows and the DCC's unless it is quarantined. Two checks can
// never both take the last place below a threshold.
func (c *Counter) Check(user eui.EUI, srv SRV, at time.Time) Decision {
	if !srv.valid() {
		return Decision{Outcome: Admit}
	}
	u := userKey(user)
	sh := c.shard(u)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	uw := c.userWindows(sh, u, srv, true)
	return c.check(uw, &sh.rings, u, srv, at.UnixNano())
}

// CheckOwn decides on one of the CoS Party's own commands for srv
// (migration): only the DCC-wide thresholds apply to them.
func (c *Counter) CheckOwn(srv SRV, at time.Time) Decision {
	if !srv.valid() {
		return Decision{Outcome: Admit}
	}
	d := c.check(nil, nil, 0, srv, at.UnixNano())
	d.own = true
	return d
}

// check decides against uw (the User's windows, under its shard's lock)
// and the DCC's windows for srv.
func (c *Counter) check(uw []window, urs *rings, u uint64, srv SRV, t int64) Decision {
	var dw []window
	dc := &c.dcc[srv]
	if dc.active.Load() {
		dc.mu.Lock()
		defer dc.mu.Unlock()
		dw = dc.ws
	}
	if len(uw)+len(dw) == 0 {
		return Decision{Outcome: Admit}
	}
	t = latest(latest(t, uw), dw)
	if d, over := overQuarantine(uw, urs, t, UserScope); over {
		return d
	}
	if d, over := overQuarantine(dw, &dc.rings, t, DCCScope); over {
		return d
	}
	d := Decision{Outcome: Admit, counted: true, srv: srv, user: u, at: t}
	countIn(uw, urs, t, UserScope, &d)
	countIn(dw, &dc.rings, t, DCCScope, &d)
	// Read under the locks: any window created after this check gets a
	// higher id, so Cancel leaves it alone.
	d.seq = c.seq.Load()
	return d
}

// overQuarantine returns the Quarantine decision of the first window in ws
// that one more request at t would take above its quarantine threshold.
func overQuarantine(ws []window, rs *rings, t int64, scope Scope) (Decision, bool) {
	for i := range ws {
		w := &ws[i]
		w.advance(t, rs)
		if n := w.count(t, rs); n >= w.quar {
			return Decision{Outcome: Quarantine, Scope: scope, Rule: w.rule(), Count: n + 1}, true
		}
	}
	return Decision{}, false
}

// countIn counts one request at t in every window of ws, and makes d a
// Warn if it is the first window to cross its warning threshold.
func countIn(ws []window, rs *rings, t int64, scope Scope, d *Decision) {
	for i := range ws {
		w := &ws[i]
		w.add(t, rs)
		if n := w.count(t, rs); n == w.warn+1 && d.Outcome == Admit {
			d.Outcome, d.Scope, d.Rule, d.Count = Warn, scope, w.rule(), n
		}
	}
}

// Cancel takes back what d counted: the service checked a request and then
// did not go on with it (the store refused it as a replay). It is harmless
// on a Decision that counted nothing, on windows created or replaced since,
// and on slices that have slid out. Cancel each Decision at most once.
func (c *Counter) Cancel(d Decision) {
	if !d.counted {
		return
	}
	if !d.own {
		sh := c.shard(d.user)
		sh.mu.Lock()
		uncount(c.userWindows(sh, d.user, d.srv, false), &sh.rings, d)
		sh.mu.Unlock()
	}
	dc := &c.dcc[d.srv]
	dc.mu.Lock()
	uncount(dc.ws, &dc.rings, d)
	dc.mu.Unlock()
}

func uncount(ws []window, rs *rings, d Decision) {
	for i := range ws {
		if ws[i].id <= d.seq {
			ws[i].remove(d.at, rs)
		}
	}
}

// Count counts a User's request for srv made at at, whatever the
// thresholds say: a released request, or one stored before a restart.
// A request older than a window's oldest slice is not counted in it; at
// should not be in the future, as that would slide windows on early.
func (c *Counter) Count(user eui.EUI, srv SRV, at time.Time) {
	if !srv.valid() {
		return
	}
	u := userKey(user)
	sh := c.shard(u)
	t := at.UnixNano()
	sh.mu.Lock()
	uw := c.userWindows(sh, u, srv, true)
	for i := range uw {
		uw[i].add(t, &sh.rings)
	}
	sh.mu.Unlock()
	c.countDCC(srv, t)
}

// CountOwn counts one of the CoS Party's own commands in the DCC windows,
// whatever the thresholds say: a command stored before a restart.
func (c *Counter) CountOwn(srv SRV, at time.Time) {
	if !srv.valid() {
		return
	}
	c.countDCC(srv, at.UnixNano())
}

func (c *Counter) countDCC(srv SRV, t int64) {
	dc := &c.dcc[srv]
	if !dc.active.Load() {
		return
	}
	dc.mu.Lock()
	for i := range dc.ws {
		dc.ws[i].add(t, &dc.rings)
	}
	dc.mu.Unlock()
}
