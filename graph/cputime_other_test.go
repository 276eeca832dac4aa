//go:build !unix

package graph

import (
	"testing"
	"time"
)

// haveCPUTime says that processCPU gives wall time, not CPU time.
const haveCPUTime = false

// start is when the test binary began.
var start = time.Now()

// processCPU returns the wall time since the test binary began, where the
// process's CPU time is not at hand.
func processCPU(t testing.TB) float64 {
	t.Helper()
	return time.Since(start).Seconds()
}
