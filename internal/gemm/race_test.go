//go:build race

package gemm

// raceEnabled reports a build with the race detector, under which sync.Pool
// drops a share of the items put back, on purpose, and so allocates.
const raceEnabled = true
