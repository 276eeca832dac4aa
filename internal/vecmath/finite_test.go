package vecmath

import (
	"math"
	"testing"
)

// TestFirstNonFinite32 puts NaNs (of several payloads) and infinities at
// every position of slices around the kernel's block of 32, alone and after
// another, among the largest finite and subnormal values, and checks every
// path's answer against the definition (the first index i where v[i] is
// NaN or ±Inf).
func TestFirstNonFinite32(t *testing.T) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0xffc00001), math.Float32frombits(0x7f800001)}
	finite := []float32{0, 1, -2.5, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0x1p-127}
	for _, p := range paths {
		for _, n := range []int{0, 1, 7, 31, 32, 33, 64, 95, 130} {
			v := make([]float32, n)
			for i := range v {
				v[i] = finite[i%len(finite)]
			}
			if got := firstNonFiniteWith(p, v); got != -1 {
				t.Errorf("%v n=%d: all finite gave %d, want -1", p, n, got)
			}
			for at := range n {
				x := bad[at%len(bad)]
				w := append([]float32(nil), v...)
				w[at] = x
				if at+3 < n {
					w[at+3] = bad[(at+1)%len(bad)]
				}
				if got := firstNonFiniteWith(p, w); got != at {
					t.Errorf("%v n=%d: %g at %d gave %d", p, n, x, at, got)
				}
			}
		}
	}
}
