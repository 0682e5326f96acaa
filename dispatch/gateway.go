// Package dispatch carries signed GBCS commands to devices and brings back
// what they answer: HTTP sends them to `ecos devicesim` or a real
// device-facing service. The pipeline declares the gateway it uses
// (pipeline.Gateway); tests, benchmarks and the demo plug in a simulated
// fleet in process instead (devicesim.InProcess), which this package does
// not know.
//
// Trust level: moves bytes; every frame it returns is untrusted until the
// caller verifies the device's signature.
package dispatch

import "errors"

// Reply is what came back for one command. Response is nil when the device
// sent nothing: it refused the command, or the command or its response was
// lost. A GBCS device never says why, so NoResponseReason is only a hint
// from simulators and diagnostics.
type Reply struct {
	Response         []byte
	NoResponseReason string
}

// What a Send error says about the command. A Gateway wraps one of these
// whenever it knows; any other error (a deadline) is a command that was
// handed on and not answered in time.
var (
	// ErrUnreachable: the frame never reached the device network (no
	// connection, or the device service refused it). The device never saw
	// its counter: the command was not sent.
	ErrUnreachable = errors.New("dispatch: device network unreachable")
	// ErrUnreadable: the frame was handed on, but what came back cannot
	// be read (the connection broke, the reply is cut short, empty or too
	// large, or the device service failed after taking the frame). The
	// device may have carried the command out.
	ErrUnreadable = errors.New("dispatch: the command was handed on but its reply cannot be read")
)
