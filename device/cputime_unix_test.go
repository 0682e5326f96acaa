//go:build unix

package device

import (
	"syscall"
	"time"
)

// cpuTime is the CPU the test process has used, user and system: what the
// fleet benchmarks compare, since on a machine shared with other work the
// wall clock measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
