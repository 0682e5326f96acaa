package devicesim

import (
	"fmt"
	"strings"
	"sync"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
)

// transCoS is the cell a status fault answers for.
var transCoS = gbcs.Cell{Role: gbcs.RoleTransitionalCoS, KeyUsage: gbcs.KeyUsageDigitalSignature}

// faultOf is config.SimulatedFaults as device faults.
var faultOf = map[string]device.Fault{
	"drop-command":           {Kind: device.FaultDropCommand},
	"drop-response":          {Kind: device.FaultDropResponse},
	"reject":                 {Kind: device.FaultReject},
	"busy":                   {Kind: device.FaultBusy},
	"bad-certificate":        {Kind: device.FaultPartial, Cell: transCoS, Status: gbcs.StatusBadCertificate},
	"no-trust-anchor":        {Kind: device.FaultPartial, Cell: transCoS, Status: gbcs.StatusNoTrustAnchor},
	"insufficient-memory":    {Kind: device.FaultPartial, Cell: transCoS, Status: gbcs.StatusInsufficientMemory},
	"trust-anchor-not-found": {Kind: device.FaultPartial, Cell: transCoS, Status: gbcs.StatusTrustAnchorNotFound},
	"other":                  {Kind: device.FaultPartial, Cell: transCoS, Status: gbcs.StatusOther},
}

// scripted is devices.faults: per meter, a fault for every command, or
// for the first only.
type scripted struct {
	mu     sync.Mutex
	always map[eui.EUI]device.Fault
	once   map[eui.EUI]device.Fault // removed when used
}

// Faults turns devices.faults into the fleet's fault hook.
func Faults(spec map[string]string) (device.Faults, error) {
	if len(spec) == 0 {
		return device.Faults{}, nil
	}
	s := &scripted{always: map[eui.EUI]device.Fault{}, once: map[eui.EUI]device.Fault{}}
	for id, name := range spec {
		d, err := eui.Parse(id)
		if err != nil {
			return device.Faults{}, fmt.Errorf("devices.faults: %q: %w", id, err)
		}
		base, once := strings.CutSuffix(name, "-once")
		f, ok := faultOf[base]
		if !ok {
			return device.Faults{}, fmt.Errorf("devices.faults: %s: no fault %q", id, name)
		}
		if once {
			s.once[d] = f
		} else {
			s.always[d] = f
		}
	}
	return device.Faults{Choose: s.choose}, nil
}

func (s *scripted) choose(m *gbcs.Message) device.Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.always[m.Recipient]; ok {
		return f
	}
	if f, ok := s.once[m.Recipient]; ok {
		delete(s.once, m.Recipient)
		return f
	}
	return device.Fault{}
}
