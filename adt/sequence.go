package adt

// CheckSequence checks f's sequence number against the last one accepted
// for the same User: it must be strictly greater, or the file is a replay
// (or a stale file sent late) and must leave the settings in force
// untouched. haveLast is false when nothing was ever accepted for the User,
// and then any sequence number will do. Where the last number is kept is
// the caller's business.
//
// A legacy file has no sequence number to check, so it is refused here; the
// caller that loads carried-over settings skips this check.
func CheckSequence(f *File, last uint64, haveLast bool) error {
	var ps Problems
	switch {
	case f.Legacy:
		ps.add(1, ErrLegacy, "legacy file has no sequence number to check against the last accepted one")
	case haveLast && f.Sequence == last:
		ps.add(1, ErrReplay, "sequence number %d for User %s was already accepted: replay", f.Sequence, f.User)
	case haveLast && f.Sequence < last:
		ps.add(1, ErrReplay, "sequence number %d for User %s is below the last accepted %d: replay", f.Sequence, f.User, last)
	}
	return ps.err()
}
