//go:build race

package device

// raceEnabled: the race detector makes the million-device test take
// minutes, so it runs without it.
const raceEnabled = true
