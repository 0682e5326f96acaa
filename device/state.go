package device

import "sync"

// state is everything about a device that commands change. A Fleet keeps
// one per device it has commanded, so it is kept to 40 bytes: the common
// case (one originator counter, a cell table shared with other devices)
// is held inline, and everything rarer (more counters, alerts, held
// commands, a device's own faults) sits behind more, allocated when first
// needed. The zero state is a device fresh from its configuration: no
// counters, its env's initial cell table.
type state struct {
	mu sync.Mutex
	// seqKey and seqN are the device's only counter while more is nil; seqN
	// 0 means none (a counter at 0 and an absent one are the same thing to
	// a device). Kept as two fields rather than a seqEntry so they pack
	// next to the mutex.
	seqKey seqKey
	seqN   uint64
	// table is the cell table, interned (see tables); nil is the env's
	// initial table.
	table *cells
	more  *extra
}

// extra is the part of a device's state few devices need.
type extra struct {
	seqs         seqs // every counter, once more exists
	alertCounter uint64
	pending      []*pending
	arrivals     uint64  // orders pending commands with the same execution time
	faults       *Faults // per-device override of env.faults; nil: use env's
}

// The accessors below are called with mu held.

func (s *state) cells(e *env) cells {
	if s.table == nil {
		return e.template
	}
	return *s.table
}

func (s *state) setCells(e *env, t cells) { s.table = e.tables.intern(t) }

// commit installs a command's effect: t replaces cur (interned, unless the
// command left the table as it was) and v the counters.
func (s *state) commit(e *env, cur, t cells, v seqs) {
	if len(t) != len(cur) || (len(t) > 0 && &t[0] != &cur[0]) {
		s.setCells(e, t)
	}
	s.setSeqs(v)
}

func (s *state) seqs() seqs {
	switch {
	case s.more != nil:
		return s.more.seqs
	case s.seqN == 0:
		return nil
	}
	return seqs{{key: s.seqKey, n: s.seqN}}
}

func (s *state) setSeqs(v seqs) {
	if s.more == nil && len(v) <= 1 {
		s.seqKey, s.seqN = seqKey{}, 0
		if len(v) == 1 {
			s.seqKey, s.seqN = v[0].key, v[0].n
		}
		return
	}
	s.extra().seqs = v
}

// extra returns more, moving the inline counter into it on first use.
func (s *state) extra() *extra {
	if s.more == nil {
		s.more = &extra{seqs: s.seqs()}
		s.seqKey, s.seqN = seqKey{}, 0
	}
	return s.more
}

func (s *state) alertCounter() uint64 {
	if s.more == nil {
		return 0
	}
	return s.more.alertCounter
}

func (s *state) pending() []*pending {
	if s.more == nil {
		return nil
	}
	return s.more.pending
}

func (s *state) arrivals() uint64 {
	if s.more == nil {
		return 0
	}
	return s.more.arrivals
}

func (s *state) faults(e *env) *Faults {
	if s.more != nil && s.more.faults != nil {
		return s.more.faults
	}
	return e.faults.Load()
}

// tablesMax bounds the intern table; like certCache it starts over when
// full, and devices keep the tables they hold.
const tablesMax = 1024

// maxInterned is the largest cell table interned. An ESME has nine cells;
// a bigger table (a test's) is simply not shared.
const maxInterned = 16

// tables interns cell tables, so that devices whose cells are the same
// (every migrated device holds the same post-migration table) share one
// copy: a million migrated devices hold a pointer each, not a million
// tables. Certificates are compared by pointer, which certCache makes
// one per DER; two tables that differ only by a re-parsed certificate are
// merely not shared.
type tables struct {
	mu sync.Mutex
	m  map[tableKey]*cells
}

type tableKey struct {
	n     int
	cells [maxInterned]cell
}

func newTables() *tables { return &tables{m: make(map[tableKey]*cells)} }

func (ts *tables) intern(t cells) *cells {
	if len(t) > maxInterned {
		return &t
	}
	k := tableKey{n: len(t)}
	copy(k.cells[:], t)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if p := ts.m[k]; p != nil {
		return p
	}
	if len(ts.m) >= tablesMax {
		clear(ts.m)
	}
	ts.m[k] = &t
	return &t
}
