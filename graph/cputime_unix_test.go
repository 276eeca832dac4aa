//go:build unix

package graph

import (
	"syscall"
	"testing"
	"time"
)

// haveCPUTime says that processCPU gives the process's CPU time.
const haveCPUTime = true

// processCPU returns the CPU time the process has used, user and system.
func processCPU(t testing.TB) float64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return (time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())).Seconds()
}
