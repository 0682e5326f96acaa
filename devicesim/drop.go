package devicesim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/gbcs"
)

// DropResponses loses the response of about fraction of the commands: the
// device carries each out as usual, and the sender is left not knowing
// what it did (the case a CoS Party must resolve by reading the device
// back). Which commands lose their response is a function of seed and the
// command's addressing (recipient, originator, counter) alone, so a run
// is repeatable whatever order the commands arrive in, and a command sent
// twice would meet the same fate.
func DropResponses(fraction float64, seed uint64) (device.Faults, error) {
	if !(fraction >= 0 && fraction <= 1) {
		return device.Faults{}, fmt.Errorf("devicesim: drop fraction %v: want 0..1", fraction)
	}
	if fraction == 0 {
		return device.Faults{}, nil
	}
	// The fraction of the 64-bit space that drops; 1 is every command.
	limit := ^uint64(0)
	if fraction < 1 {
		limit = uint64(fraction * (1 << 64))
	}
	return device.Faults{Choose: func(m *gbcs.Message) device.Fault {
		var b [8 + 8 + 8 + 8]byte
		binary.BigEndian.PutUint64(b[0:], seed)
		copy(b[8:], m.Recipient[:])
		copy(b[16:], m.Originator[:])
		binary.BigEndian.PutUint64(b[24:], m.Counter)
		h := sha256.Sum256(b[:])
		if binary.BigEndian.Uint64(h[:8]) < limit {
			return device.Fault{Kind: device.FaultDropResponse}
		}
		return device.Fault{}
	}}, nil
}
