package anomaly

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
)

// The acceptance load of the issue: 10,000 Users × 50 SRVs, a daily row
// each plus an hourly 6.23 row, and a DCC-wide 6.23 row.
const (
	benchUsers = 10_000
	benchSRVs  = 50
	bigLimit   = 1 << 40 // never reached, so every check counts
)

type pick struct {
	user eui.EUI
	srv  SRV
}

type benchLoad struct {
	c     *Counter
	picks []pick // random (User, SRV) pairs of the loaded set
	users int
	rows  int
}

func benchSRVSet() []SRV {
	srvs := []SRV{}
	cos, _ := SRVOf(adt.SRVCoS)
	for i := 0; len(srvs) < benchSRVs-1; i++ {
		if SRV(i) != cos {
			srvs = append(srvs, SRV(i))
		}
	}
	return append(srvs, cos)
}

func benchUser(i int) eui.EUI {
	return eui.EUI{0x90, 0xB3, 0xD5, 0x1F, 0x30, byte(i >> 16), byte(i >> 8), byte(i)}
}

// benchStart is when benchmarks start checking: warm-up counted requests
// at t0 and here, a slice of the daily windows later, so that every window
// has its ring.
var benchStart = t0.Add(25 * time.Minute)

// load sets users Users' thresholds, and with warm counts requests in two
// slices of every window so that checks afterwards are in steady state.
func load(tb testing.TB, users int, warm bool) *benchLoad {
	tb.Helper()
	srvs := benchSRVSet()
	var rows []adt.Threshold
	for _, s := range srvs {
		rows = append(rows, th(s.String(), bigLimit, bigLimit, adt.MaxInterval))
	}
	rows = append(rows, th(adt.SRVCoS, bigLimit, bigLimit, 60))
	l := &benchLoad{c: New(Options{}), users: users, rows: users * len(rows)}
	l.c.SetDCC([]adt.Threshold{th(adt.SRVCoS, bigLimit, bigLimit, adt.MaxInterval)})
	for i := range users {
		l.c.SetUser(benchUser(i), rows)
	}
	if warm {
		l.warm(t0)
		l.warm(benchStart)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	l.picks = make([]pick, 1<<16)
	for i := range l.picks {
		l.picks[i] = pick{benchUser(rng.IntN(users)), srvs[rng.IntN(len(srvs))]}
	}
	return l
}

// BenchmarkCheck is serial checks of random loaded (User, SRV) pairs. At
// the acceptance load the rows far outgrow the CPU caches, so it mostly
// measures memory latency; the 100-User load shows the work itself.
// warm checks every loaded (User, SRV) once at at.
func (l *benchLoad) warm(at time.Time) {
	for i := range l.users {
		for _, s := range benchSRVSet() {
			l.c.Check(benchUser(i), s, at)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, users := range []int{benchUsers, 100} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			l := load(b, users, true)
			i := 0
			for b.Loop() {
				p := l.picks[i&(len(l.picks)-1)]
				if d := l.c.Check(p.user, p.srv, benchStart.Add(time.Duration(i)*time.Microsecond)); d.Outcome == Quarantine {
					b.Fatal(d)
				}
				i++
			}
		})
	}
}

func BenchmarkCheckParallel(b *testing.B) {
	for _, users := range []int{benchUsers, 100} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			l := load(b, users, true)
			var seed atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(1) * 7919)
				for pb.Next() {
					p := l.picks[i&(len(l.picks)-1)]
					// Each goroutine's clock runs on its own, so checks reach
					// the shared DCC window out of order, as in the service.
					if d := l.c.Check(p.user, p.srv, benchStart.Add(time.Duration(i)*time.Microsecond)); d.Outcome == Quarantine {
						b.Error(d)
						return
					}
					i++
				}
			})
		})
	}
}

// BenchmarkMemory reports the heap per loaded row: idle, with requests in
// one slice of every window, and with requests in two (every ring in use),
// for the figures in doc.go.
func BenchmarkMemory(b *testing.B) {
	for b.Loop() {
		before := heap()
		l := load(b, benchUsers, false)
		idle := heap()
		l.warm(t0)
		one := heap()
		l.warm(benchStart)
		two := heap()
		per := func(h uint64) float64 { return float64(h-before) / float64(l.rows) }
		b.ReportMetric(per(idle), "B/row-idle")
		b.ReportMetric(per(one), "B/row-1slice")
		b.ReportMetric(per(two), "B/row-rings")
		b.ReportMetric(float64(two-before)/(1<<20), "MiB-total")
		runtime.KeepAlive(l)
	}
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSteadyStateDoesNotAllocate is the acceptance target: once a window
// exists, checking, counting and cancelling allocate nothing.
func TestSteadyStateDoesNotAllocate(t *testing.T) {
	l := load(t, 200, true)
	cos := mustSRV(t, adt.SRVCoS)
	i := 0
	next := func() (pick, time.Time) {
		i++
		return l.picks[i&(len(l.picks)-1)], benchStart.Add(time.Duration(i) * time.Second)
	}
	for name, f := range map[string]func(){
		"Check": func() { p, at := next(); l.c.Check(p.user, p.srv, at) },
		"Check and Cancel": func() {
			p, at := next()
			l.c.Cancel(l.c.Check(p.user, p.srv, at))
		},
		"CheckOwn": func() { _, at := next(); l.c.CheckOwn(cos, at) },
		"Count":    func() { p, at := next(); l.c.Count(p.user, p.srv, at.Add(-time.Minute)) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}
