package anomaly

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
	"pgregory.net/rapid"
)

// exactModel is the naive sliding window the counter approximates: every
// counted request's instant, and a window is the requests in (t − I, t].
type exactModel struct {
	user map[eui.EUI][]int64
	own  []int64
}

func (m *exactModel) all() []int64 {
	out := slices.Clone(m.own)
	for _, ev := range m.user {
		out = append(out, ev...)
	}
	return out
}

func exactCount(events []int64, t int64, interval uint64) uint64 {
	var n uint64
	for _, e := range events {
		if e > t-int64(interval)*int64(time.Minute) && e <= t {
			n++
		}
	}
	return n
}

// decide is Check's rule applied to exact counts.
func (m *exactModel) decide(user *eui.EUI, userRules, dccRules []adt.Threshold, t int64) Decision {
	type scoped struct {
		rules  []adt.Threshold
		events []int64
		scope  Scope
	}
	var sets []scoped
	if user != nil {
		sets = append(sets, scoped{userRules, m.user[*user], UserScope})
	}
	sets = append(sets, scoped{dccRules, m.all(), DCCScope})
	for _, s := range sets {
		for _, r := range s.rules {
			if n := exactCount(s.events, t, r.Interval); n >= r.Quarantine {
				return Decision{Outcome: Quarantine, Scope: s.scope, Rule: r, Count: n + 1}
			}
		}
	}
	d := Decision{Outcome: Admit}
	for _, s := range sets {
		for _, r := range s.rules {
			if n := exactCount(s.events, t, r.Interval) + 1; n == r.Warning+1 && d.Outcome == Admit {
				d = Decision{Outcome: Warn, Scope: s.scope, Rule: r, Count: n}
			}
		}
	}
	return d
}

func drawRules(rt *rapid.T, label string, max int) []adt.Threshold {
	ivs := rapid.SliceOfNDistinct(rapid.SampledFrom([]uint64{1, 2, 3, 5, 10, 15, 30, 60}), 0, max,
		rapid.ID[uint64]).Draw(rt, label+"-intervals")
	slices.Sort(ivs)
	var rules []adt.Threshold
	for _, iv := range ivs {
		q := rapid.Uint64Range(0, 8).Draw(rt, label+"-quarantine")
		w := rapid.Uint64Range(0, 9).Draw(rt, label+"-warning")
		rules = append(rules, th(adt.SRVCoS, w, q, iv))
	}
	return rules
}

func lcm(a, b int64) int64 {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// TestPropertyExactModel drives a Counter and the exact model with the same
// requests. The counter never counts fewer requests in a window than the
// exact model, so it never admits a request the model would quarantine;
// when every instant is on a slice boundary of every window, it counts and
// decides exactly as the model does.
func TestPropertyExactModel(t *testing.T) {
	srv := mustSRV(t, adt.SRVCoS)
	users := []eui.EUI{alice, bob}
	rapid.Check(t, func(rt *rapid.T) {
		aligned := rapid.Bool().Draw(rt, "aligned")
		s := rapid.SampledFrom([]int{1, 2, 3, 4, 5, 6, 10, 12, 60}).Draw(rt, "slices")
		userRules := drawRules(rt, "user", 3)
		dccRules := drawRules(rt, "dcc", 2)
		c := New(Options{Slices: s})
		for _, u := range users {
			c.SetUser(u, userRules)
		}
		c.SetDCC(dccRules)

		step := int64(time.Minute)
		for _, r := range append(slices.Clone(userRules), dccRules...) {
			step = lcm(step, newWindow(srv, r, s).width)
		}
		m := exactModel{user: map[eui.EUI][]int64{}}
		type counted struct {
			d    Decision
			user *eui.EUI
			at   int64
		}
		var taken []counted
		now := t0.UnixNano()

		compare := func(when string) {
			for _, u := range users {
				for _, wc := range c.Counts(u, time.Unix(0, now)) {
					exact := exactCount(m.user[u], now, wc.Rule.Interval)
					if wc.Count < exact || aligned && wc.Count != exact {
						rt.Fatalf("%s: %s's %d-minute window counts %d, exact %d", when, u, wc.Rule.Interval, wc.Count, exact)
					}
				}
			}
			for _, wc := range c.DCCCounts(time.Unix(0, now)) {
				exact := exactCount(m.all(), now, wc.Rule.Interval)
				if wc.Count < exact || aligned && wc.Count != exact {
					rt.Fatalf("%s: the DCC's %d-minute window counts %d, exact %d", when, wc.Rule.Interval, wc.Count, exact)
				}
			}
		}

		for i := range rapid.IntRange(1, 150).Draw(rt, "steps") {
			if aligned {
				now += step * rapid.Int64Range(0, 3).Draw(rt, "ticks")
			} else {
				scale := rapid.SampledFrom([]time.Duration{time.Millisecond, time.Second, time.Minute, time.Hour}).Draw(rt, "scale")
				now += rapid.Int64Range(0, int64(scale)).Draw(rt, "advance")
			}
			compare("before step " + strconv.Itoa(i))
			switch op := rapid.SampledFrom([]string{"check", "check", "check", "own", "cancel", "count"}).Draw(rt, "op"); op {
			case "check", "own":
				var user *eui.EUI
				var d Decision
				if op == "check" {
					u := rapid.SampledFrom(users).Draw(rt, "user")
					user = &u
					d = c.Check(u, srv, time.Unix(0, now))
				} else {
					d = c.CheckOwn(srv, time.Unix(0, now))
				}
				want := m.decide(user, userRules, dccRules, now)
				if want.Outcome == Quarantine && d.Outcome != Quarantine {
					rt.Fatalf("step %d: %v where the exact model quarantines (%+v)", i, d.Outcome, want)
				}
				if aligned && (d.Outcome != want.Outcome || d.Scope != want.Scope || d.Count != want.Count || d.Rule != want.Rule) {
					rt.Fatalf("step %d: %+v, exact model %+v", i, d, want)
				}
				if d.Outcome == Quarantine {
					continue
				}
				if user != nil {
					m.user[*user] = append(m.user[*user], now)
				} else {
					m.own = append(m.own, now)
				}
				taken = append(taken, counted{d, user, now})
			case "cancel":
				if len(taken) == 0 {
					continue
				}
				j := rapid.IntRange(0, len(taken)-1).Draw(rt, "which")
				k := taken[j]
				taken = slices.Delete(taken, j, j+1)
				c.Cancel(k.d)
				if k.user != nil {
					m.user[*k.user] = removeOne(m.user[*k.user], k.at)
				} else {
					m.own = removeOne(m.own, k.at)
				}
			case "count":
				back := rapid.Int64Range(0, 3*int64(time.Hour)).Draw(rt, "back")
				if aligned {
					back -= back % step
				}
				at := now - back
				if rapid.Bool().Draw(rt, "count-own") {
					c.CountOwn(srv, time.Unix(0, at))
					m.own = append(m.own, at)
				} else {
					u := rapid.SampledFrom(users).Draw(rt, "count-user")
					c.Count(u, srv, time.Unix(0, at))
					m.user[u] = append(m.user[u], at)
				}
			}
		}
		compare("at the end")
	})
}

func removeOne(s []int64, v int64) []int64 {
	if i := slices.Index(s, v); i >= 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}
