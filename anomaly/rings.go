package anomaly

// rings hands out the slice counts of windows: S+1 uint32 per window, cut
// from chunks so that a window's first count allocates only once per
// chunk, and reused when SetUser drops a window. Windows refer to a ring by
// a 1-based id, not a slice, so that they hold no pointers.
type rings struct {
	size   int // slots per ring, S+1
	per    int // rings per chunk
	chunks [][]uint32
	free   []uint32
	n      uint32 // ids handed out from chunks so far
}

func newRings(slices, per int) rings { return rings{size: slices + 1, per: per} }

// alloc returns the id of an empty ring.
func (rs *rings) alloc() uint32 {
	if k := len(rs.free); k > 0 {
		id := rs.free[k-1]
		rs.free = rs.free[:k-1]
		clear(rs.get(id))
		return id
	}
	if int(rs.n) == len(rs.chunks)*rs.per {
		rs.chunks = append(rs.chunks, make([]uint32, rs.per*rs.size))
	}
	rs.n++
	return rs.n
}

func (rs *rings) get(id uint32) []uint32 {
	i := int(id - 1)
	o := (i % rs.per) * rs.size
	return rs.chunks[i/rs.per][o : o+rs.size : o+rs.size]
}

// release gives a ring back; id 0 (a window that never counted) is ignored.
func (rs *rings) release(id uint32) {
	if id != 0 {
		rs.free = append(rs.free, id)
	}
}
