// Package devicesim serves a simulated device fleet over HTTP, so ecos (or
// any other CoS Party under test) can send GBCS commands to meters that
// behave like GBCS devices without hardware: `ecos devicesim --listen`.
// InProcess is the same fleet as a gateway in the same process, for
// tests, benchmarks and the demo.
//
// The protocol is small on purpose:
//
//	POST /v1/frames            body: a GBCS command frame (binary)
//	                           200: the device's signed response frame (binary)
//	                           204: the device sent nothing; Device-Outcome
//	                                says why ("rejected; reason=replay",
//	                                "drop-command", "drop-response")
//	                           4xx, 503: the frame went to no device (a
//	                                gateway reports the command not sent);
//	                                any other status: the device may have
//	                                had it (reported as unreadable)
//	GET  /v1/alerts            the alerts devices sent since the last call,
//	                           as JSON {"alerts": ["<hex>", …]}, then drained
//	GET  /v1/devices/{eui}     a device's state: trust anchors, counters,
//	                           pending commands, its DS public key
//	GET  /v1/stats             frames received, as JSON {"frames": n,
//	                           "duplicate_frames": m, "by_code": {…}}: a
//	                           duplicate is a frame for a (device,
//	                           originator, counter) already received,
//	                           which a CoS Party must never send (crash
//	                           tests check it); by_code splits the
//	                           frames by GBCS message code ("0x00AC")
//	                           with what became of them
//	GET  /healthz
//
// Trust level: test infrastructure. It holds device keys in memory and
// listens wherever it is told; never expose it beyond a test network.
package devicesim

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/ecos-cos/ecos/device"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/every"
)

// MaxFrameBytes bounds a command frame. The largest CS02b carries four
// certificates and is under 2 KB.
const MaxFrameBytes = 64 << 10

// maxQueuedAlerts bounds memory when nobody collects alerts; the oldest
// are dropped first and counted.
const maxQueuedAlerts = 100_000

// Server is the HTTP face of a fleet.
type Server struct {
	fleet *device.Fleet
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	alerts  [][]byte
	dropped int

	smu    sync.Mutex
	seen   map[frameKey]int // well-formed frames received, by addressing
	frames int
	dups   int
	byCode map[gbcs.MessageCode]*CodeStats
}

// frameKey names a command as a device does: who it is for, who sent it
// and the originator counter it carries.
type frameKey struct {
	recipient, originator eui.EUI
	counter               uint64
}

// Stats counts the frames the server has received.
type Stats struct {
	Frames          int `json:"frames"`           // every POST /v1/frames whose frame parsed
	DuplicateFrames int `json:"duplicate_frames"` // of those, repeats of a (device, originator, counter) already seen
	// ByCode splits Frames by GBCS message code (gbcs.MessageCode's
	// String, "0x00AC"), so that a test can match each kind of command
	// its party recorded as sent against what reached the devices.
	ByCode map[string]CodeStats `json:"by_code,omitempty"`
}

// CodeStats is what became of the frames of one message code.
type CodeStats struct {
	Frames     int `json:"frames"`
	Duplicates int `json:"duplicates,omitempty"`
	// Refused counts the frames a device refused, answering with
	// silence, by reason ("replay", "signature", …): a CoS Party that
	// signs with the key the device trusts and a counter above the last
	// it accepted has none.
	Refused map[string]int `json:"refused,omitempty"`
	// Dropped counts the frames a device carried out whose response an
	// injected fault lost (--drop-responses).
	Dropped int `json:"dropped,omitempty"`
}

// New serves fleet. now is the clock devices run future-dated commands
// by; log receives one line per refused or failed command.
func New(fleet *device.Fleet, now func() time.Time, log *slog.Logger) *Server {
	return &Server{fleet: fleet, now: now, log: log, seen: map[frameKey]int{}, byCode: map[gbcs.MessageCode]*CodeStats{}}
}

// Stats returns the frame counts so far.
func (s *Server) Stats() Stats {
	s.smu.Lock()
	defer s.smu.Unlock()
	st := Stats{Frames: s.frames, DuplicateFrames: s.dups}
	if len(s.byCode) > 0 {
		st.ByCode = make(map[string]CodeStats, len(s.byCode))
	}
	for code, c := range s.byCode {
		cs := *c
		cs.Refused = maps.Clone(c.Refused)
		st.ByCode[code.String()] = cs
	}
	return st
}

// count records a received frame and returns its message code's
// counters; a malformed frame is not counted (nil).
func (s *Server) count(frame []byte) *CodeStats {
	fr, err := gbcs.ParseFrame(frame)
	if err != nil {
		return nil
	}
	k := frameKey{recipient: fr.Message.Recipient, originator: fr.Message.Originator, counter: fr.Message.Counter}
	s.smu.Lock()
	defer s.smu.Unlock()
	c := s.byCode[fr.Message.Code]
	if c == nil {
		c = &CodeStats{}
		s.byCode[fr.Message.Code] = c
	}
	s.frames++
	c.Frames++
	if s.seen[k] > 0 {
		s.dups++
		c.Duplicates++
		s.log.Warn("duplicate frame", "device", k.recipient.String(), "originator", k.originator.String(), "counter", k.counter)
	}
	s.seen[k]++
	return c
}

// outcome records what became of a counted frame: refused for a reason,
// or its response dropped.
func (s *Server) outcome(c *CodeStats, refused string, dropped bool) {
	if c == nil {
		return
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	if refused != "" {
		if c.Refused == nil {
			c.Refused = map[string]int{}
		}
		c.Refused[refused]++
	}
	if dropped {
		c.Dropped++
	}
}

// Handler routes the protocol above.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/frames", s.postFrame)
	mux.HandleFunc("GET /v1/alerts", s.getAlerts)
	mux.HandleFunc("GET /v1/devices/{eui}", s.getDevice)
	mux.HandleFunc("GET /v1/stats", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.Stats()) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func (s *Server) postFrame(w http.ResponseWriter, r *http.Request) {
	frame, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFrameBytes))
	if err != nil {
		http.Error(w, "reading frame: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	c := s.count(frame)
	res, err := s.fleet.Handle(frame)
	if err != nil {
		if rej, ok := errors.AsType[*device.RejectError](err); ok {
			s.outcome(c, rej.Reason.String(), false)
			// A real device answers a refused command with silence.
			s.log.Info("command refused", "reason", rej.Reason.String(), "detail", rej.Detail)
			w.Header().Set("Device-Outcome", "rejected; reason="+rej.Reason.String())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.log.Error("handling command", "err", err)
		http.Error(w, "device failure", http.StatusInternalServerError)
		return
	}
	if res.Delay > 0 {
		t := time.NewTimer(res.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if res.Response == nil {
		s.outcome(c, "", res.Fault.Kind == device.FaultDropResponse)
		w.Header().Set("Device-Outcome", res.Fault.Kind.String())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(res.Response)
}

// Tick runs the held future-dated commands due at now and queues their
// alerts for collection.
func (s *Server) Tick(now time.Time) error {
	alerts, err := s.fleet.Tick(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range alerts {
		if len(s.alerts) == maxQueuedAlerts {
			s.alerts = s.alerts[1:]
			s.dropped++
		}
		s.alerts = append(s.alerts, a.Frame)
	}
	return err
}

// Run ticks every interval until ctx ends.
func (s *Server) Run(ctx context.Context, interval time.Duration) {
	every.Run(ctx, interval, func(context.Context) error { return s.Tick(s.now()) },
		func(err error) { s.log.Error("running due commands", "err", err) })
}

type alertsBody struct {
	Alerts []string `json:"alerts"`
	// Dropped counts alerts discarded because the queue was full.
	Dropped int `json:"dropped,omitempty"`
}

func (s *Server) getAlerts(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	body := alertsBody{Alerts: make([]string, len(s.alerts)), Dropped: s.dropped}
	for i, a := range s.alerts {
		body.Alerts[i] = hex.EncodeToString(a)
	}
	s.alerts, s.dropped = nil, 0
	s.mu.Unlock()
	writeJSON(w, body)
}

// DeviceState is what GET /v1/devices/{eui} reports.
type DeviceState struct {
	EUI         eui.EUI        `json:"eui"`
	DSPublicKey string         `json:"dsPublicKey"` // uncompressed P-256 point, hex
	Anchors     []AnchorState  `json:"anchors"`
	Pending     int            `json:"pending"`
	SeqNumbers  map[string]any `json:"seqNumbers"`
}

// AnchorState names the certificate in one trust-anchor cell.
type AnchorState struct {
	Role      string  `json:"role"`
	KeyUsage  string  `json:"keyUsage"`
	CellUsage string  `json:"cellUsage"`
	Subject   eui.EUI `json:"subject"`
	SKI       string  `json:"ski"`
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) {
	id, err := eui.Parse(r.PathValue("eui"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d, ok := s.fleet.Device(id)
	if !ok {
		http.Error(w, "no such device", http.StatusNotFound)
		return
	}
	pub, err := d.PublicKey().Bytes()
	if err != nil {
		http.Error(w, "device key", http.StatusInternalServerError)
		return
	}
	st := DeviceState{EUI: id, DSPublicKey: hex.EncodeToString(pub), Pending: d.Pending(), SeqNumbers: map[string]any{}}
	for _, a := range d.Anchors() {
		as := AnchorState{Role: a.Cell.Role.String(), KeyUsage: a.Cell.KeyUsage.String(), CellUsage: a.Cell.Usage.String()}
		if a.Cert != nil {
			as.Subject, as.SKI = a.Cert.EUI, hex.EncodeToString(a.Cert.SubjectKeyID)
		}
		st.Anchors = append(st.Anchors, as)
		if _, seen := st.SeqNumbers[as.Role]; !seen {
			st.SeqNumbers[as.Role] = d.SeqNumber(a.Cell.Role)
		}
	}
	writeJSON(w, st)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
