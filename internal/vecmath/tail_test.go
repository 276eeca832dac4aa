package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// padTo returns the n-unit blocks of v (blocks of them, one after the
// other) as blocks of w ≥ n units, the units past n set to pad.
func padTo(v []float32, blocks, n, w int, pad float32) []float32 {
	out := make([]float32, blocks*w)
	for b := range blocks {
		copy(out[b*w:], v[b*n:(b+1)*n])
		for j := b*w + n; j < (b+1)*w; j++ {
			out[j] = pad
		}
	}
	return out
}

// sameBits reports the first unit j < n of each of the blocks of got (n
// units apart) and want (w apart) whose bits differ, or -1.
func sameBits(got, want []float32, blocks, n, w int) int {
	for b := range blocks {
		for j := range n {
			if math.Float32bits(got[b*n+j]) != math.Float32bits(want[b*w+j]) {
				return b*n + j
			}
		}
	}
	return -1
}

// TestTailsAsWholeVectors holds the assembly paths to computing the last
// partial vector of a row as they compute whole vectors, bit for bit: a
// unit's result must not depend on where it lies in the row (the 100 units
// of an LSTM leave 4 after 12 vectors of 8). Each kernel runs on n units,
// and again on the same units padded to whole vectors of 16.
func TestTailsAsWholeVectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, p := range paths {
		if p == pathGo {
			continue
		}
		for n := 1; n < 40; n++ {
			w := (n + 15) &^ 15
			for trial := range 20 {
				c := newLSTMCase(rng, n, 1)
				x := make([]float32, n)
				for j := range x {
					x[j] = 8*rng.Float32() - 4
				}
				pc := lstmCase{padTo(c.gates, 4, n, w, 0.5), padTo(c.sc, 1, n, w, 0.5), padTo(c.cPrev, 1, n, w, 1),
					padTo(c.dh, 1, n, w, 1), padTo(c.dc, 1, n, w, 1)}
				for _, kf := range kernelFuncs {
					got, want := make([]float32, n), make([]float32, w)
					kf.vec(p, got, x)
					kf.vec(p, want, padTo(x, 1, n, w, 0))
					if j := sameBits(got, want, 1, n, w); j >= 0 {
						t.Fatalf("%s/%v n=%d trial %d: x[%d]=%g gives %g at the end of the row, %g in a whole vector",
							kf.name, p, n, trial, j, x[j], got[j], want[j])
					}
				}
				dz, dcp := make([]float32, 4*n), make([]float32, n)
				wdz, wdcp := make([]float32, 4*w), make([]float32, w)
				lstmBackwardWith(p, dz, c.gates, c.sc, c.cPrev, c.dh, c.dc, dcp)
				lstmBackwardWith(p, wdz, pc.gates, pc.sc, pc.cPrev, pc.dh, pc.dc, wdcp)
				if j := sameBits(dz, wdz, 4, n, w); j >= 0 {
					t.Fatalf("LSTMStepBackward32/%v n=%d trial %d: dz[%d] = %g at the end of the row, %g in a whole vector", p, n, trial, j, dz[j], wdz[j/n*w+j%n])
				}
				if j := sameBits(dcp, wdcp, 1, n, w); j >= 0 {
					t.Fatalf("LSTMStepBackward32/%v n=%d trial %d: dcPrev[%d] = %g at the end of the row, %g in a whole vector", p, n, trial, j, dcp[j], wdcp[j])
				}
				cell, wcell := make([]float32, n), make([]float32, w)
				withPath(p, func() {
					LSTMCell32(cell, c.gates, c.cPrev)
					LSTMCell32(wcell, pc.gates, pc.cPrev)
				})
				if j := sameBits(cell, wcell, 1, n, w); j >= 0 {
					t.Fatalf("LSTMCell32/%v n=%d trial %d: c[%d] = %g at the end of the row, %g in a whole vector", p, n, trial, j, cell[j], wcell[j])
				}
			}
		}
	}
}
