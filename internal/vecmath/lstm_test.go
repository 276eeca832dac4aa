package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lstmBackwardWith is LSTMStepBackward32 on path p.
func lstmBackwardWith(p path, dz, gates, sc, cPrev, dh, dc, dcPrev []float32) {
	k := lstmBackwardAsm(p, dz, gates, sc, cPrev, dh, dc, dcPrev)
	lstmBackwardGo(dz, gates, sc, cPrev, dh, dc, dcPrev, k)
}

// lstmBackwardRef computes the equations of LSTMStepBackward32 in float64,
// written out independently of the kernels, without flushing.
func lstmBackwardRef(gates, sc, cPrev, dh, dc []float32) (dz, dcPrev []float64) {
	n := len(dh)
	dz, dcPrev = make([]float64, 4*n), make([]float64, n)
	for j := range n {
		i, f, g, o := float64(gates[j]), float64(gates[n+j]), float64(gates[2*n+j]), float64(gates[3*n+j])
		s, d := float64(sc[j]), float64(dh[j])
		c := float64(dc[j]) + d*o*(1-s*s)
		dz[j] = c * g * i * (1 - i)
		dz[n+j] = c * float64(cPrev[j]) * f * (1 - f)
		dz[2*n+j] = c * i * (1 - g*g)
		dz[3*n+j] = d * s * o * (1 - o)
		dcPrev[j] = c * f
	}
	return dz, dcPrev
}

type lstmCase struct{ gates, sc, cPrev, dh, dc []float32 }

func newLSTMCase(rng *rand.Rand, n int, scale float32) lstmCase {
	u := func(m int) []float32 {
		s := make([]float32, m)
		for i := range s {
			s[i] = rng.Float32()
		}
		return s
	}
	nrm := func(m int) []float32 {
		s := make([]float32, m)
		for i := range s {
			s[i] = scale * float32(rng.NormFloat64())
		}
		return s
	}
	c := lstmCase{gates: u(4 * n), sc: u(n), cPrev: nrm(n), dh: nrm(n), dc: nrm(n)}
	for i := 2 * n; i < 3*n; i++ { // g and sc are tanh outputs, in (-1, 1)
		c.gates[i] = 2*c.gates[i] - 1
	}
	for i := range c.sc {
		c.sc[i] = 2*c.sc[i] - 1
	}
	return c
}

// checkLSTMBackward compares got with the float64 reference: within a few
// float32 roundings of each term, or zero where the exact value is below
// the smallest normal float32.
func checkLSTMBackward(t *testing.T, name string, want []float64, got []float32, tol []float64) {
	t.Helper()
	for j, w := range want {
		g := float64(got[j])
		if math.Abs(w) < smallestNormal32/2 {
			if g != 0 {
				t.Errorf("%s[%d] = %g, want 0 (exact value %g is subnormal)", name, j, g, w)
			}
			continue
		}
		if g == 0 && math.Abs(w) < 2*smallestNormal32 {
			continue // flushed at the edge of the normal range
		}
		if g != 0 && math.Abs(g) < smallestNormal32 {
			t.Errorf("%s[%d] = %g is subnormal", name, j, g)
		}
		if math.Abs(g-w) > 1e-6*tol[j]+2*smallestNormal32 {
			t.Errorf("%s[%d] = %g, want %g", name, j, g, w)
		}
	}
}

func TestLSTMStepBackward32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range paths {
		for _, scale := range []float32{1, 1e-37, 1e-39} {
			for n := 0; n <= 40; n++ {
				name := fmt.Sprintf("%v/scale=%g/n=%d", p, scale, n)
				c := newLSTMCase(rng, n, scale)
				wantDz, wantDc := lstmBackwardRef(c.gates, c.sc, c.cPrev, c.dh, c.dc)
				// Each result is a product of at most four factors plus a
				// sum: the tolerance scales with the magnitude of the terms.
				tolDz, tolDc := make([]float64, 4*n), make([]float64, n)
				for j := range n {
					mag := math.Abs(float64(c.dc[j])) + math.Abs(float64(c.dh[j])) + 1e-300
					tolDc[j] = mag
					for q := range 4 {
						tolDz[q*n+j] = mag * (1 + math.Abs(float64(c.cPrev[j])))
					}
				}
				// Guard elements around every output catch writes out of range.
				dzBuf, dcBuf := make([]float32, 4*n+2), make([]float32, n+2)
				dzBuf[0], dzBuf[4*n+1], dcBuf[0], dcBuf[n+1] = 42, 42, 42, 42
				lstmBackwardWith(p, dzBuf[1:4*n+1], c.gates, c.sc, c.cPrev, c.dh, c.dc, dcBuf[1:n+1])
				if dzBuf[0] != 42 || dzBuf[4*n+1] != 42 || dcBuf[0] != 42 || dcBuf[n+1] != 42 {
					t.Errorf("%s: wrote outside dz or dcPrev", name)
				}
				checkLSTMBackward(t, name+"/dz", wantDz, dzBuf[1:4*n+1], tolDz)
				checkLSTMBackward(t, name+"/dcPrev", wantDc, dcBuf[1:n+1], tolDc)
				// dcPrev may be dc.
				dc := append([]float32(nil), c.dc...)
				dz := make([]float32, 4*n)
				lstmBackwardWith(p, dz, c.gates, c.sc, c.cPrev, c.dh, dc, dc)
				checkLSTMBackward(t, name+"/in place", wantDc, dc, tolDc)
				// dz may be gates.
				g := append([]float32(nil), c.gates...)
				lstmBackwardWith(p, g, g, c.sc, c.cPrev, c.dh, c.dc, make([]float32, n))
				checkLSTMBackward(t, name+"/dz in gates", wantDz, g, tolDz)
			}
		}
	}
}

func TestLSTMStepBackward32NaN(t *testing.T) {
	const n = 19
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range paths {
		c := newLSTMCase(rng, n, 1)
		c.dh[3], c.dh[17] = float32(math.NaN()), float32(math.NaN())
		dz, dcp := make([]float32, 4*n), make([]float32, n)
		lstmBackwardWith(p, dz, c.gates, c.sc, c.cPrev, c.dh, c.dc, dcp)
		for _, j := range []int{3, 17} {
			if !math.IsNaN(float64(dz[3*n+j])) || !math.IsNaN(float64(dcp[j])) {
				t.Errorf("%v: a NaN in dh[%d] was lost: dz_o %g, dcPrev %g", p, j, dz[3*n+j], dcp[j])
			}
		}
	}
}

func TestLSTMStepBackward32Lengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a dz of the wrong length")
		}
	}()
	LSTMStepBackward32(make([]float32, 7), make([]float32, 8), make([]float32, 2), make([]float32, 2), make([]float32, 2), make([]float32, 2), make([]float32, 2))
}

// BenchmarkLSTMStepBackward32 times one step of a batch of 32 sequences of
// 100 hidden units, with gradients of ordinary size and with gradients so
// small that, unflushed, the results would be subnormal.
func BenchmarkLSTMStepBackward32(b *testing.B) {
	const batch, n = 32, 100
	rng := rand.New(rand.NewPCG(1, 2))
	for _, scale := range []float32{1, 1e-37} {
		cs := make([]lstmCase, batch)
		for r := range cs {
			cs[r] = newLSTMCase(rng, n, scale)
		}
		dz, dcp := make([]float32, 4*n), make([]float32, n)
		for _, p := range paths {
			b.Run(fmt.Sprintf("%v/scale=%g", p, scale), func(b *testing.B) {
				for range b.N {
					for _, c := range cs {
						lstmBackwardWith(p, dz, c.gates, c.sc, c.cPrev, c.dh, c.dc, dcp)
					}
				}
			})
		}
	}
}

func TestFlushSubnormals32(t *testing.T) {
	vals := []float32{0, 1, -1, 0x1p-126, -0x1p-126, 0x1p-127, -0x1p-127, 0x1p-149, -0x1p-149, 0x1.fffffcp-127,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3e38, 1e-30}
	for _, p := range paths {
		for n := 0; n <= 40; n++ {
			v := make([]float32, n+1)
			for i := range n {
				v[i] = vals[(i*7+n)%len(vals)]
			}
			v[n] = 0x1p-130 // a guard: beyond the slice, must stay
			if k := flushAsm(p, v[:n]); k < n {
				for i, x := range v[k:n] {
					v[k+i] = flush32(x)
				}
			}
			for i := range n {
				x := vals[(i*7+n)%len(vals)]
				want := x
				if math.Abs(float64(x)) < 0x1p-126 {
					want = 0
				}
				if got := v[i]; got != want && !(got != got && x != x) {
					t.Errorf("%v n=%d: %g became %g, want %g", p, n, x, got, want)
				}
			}
			if v[n] != 0x1p-130 {
				t.Errorf("%v n=%d: wrote past the slice", p, n)
			}
		}
	}
}

// withPath runs f with best set to p, for the exported functions.
func withPath(p path, f func()) {
	saved := best
	best = p
	defer func() { best = saved }()
	f()
}

func TestLSTMCell32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, p := range paths {
		for _, scale := range []float32{1, 1e-38} {
			for n := 0; n <= 40; n++ {
				c := newLSTMCase(rng, n, scale)
				buf := make([]float32, n+2)
				buf[0], buf[n+1] = 42, 42
				withPath(p, func() { LSTMCell32(buf[1:n+1], c.gates, c.cPrev) })
				if buf[0] != 42 || buf[n+1] != 42 {
					t.Errorf("%v n=%d: wrote outside c", p, n)
				}
				for j := range n {
					i, f, g := float64(c.gates[j]), float64(c.gates[n+j]), float64(c.gates[2*n+j])
					want := f*float64(c.cPrev[j]) + i*g
					got := float64(buf[1+j])
					switch {
					case math.Abs(want) < smallestNormal32/2:
						if got != 0 {
							t.Errorf("%v n=%d: c[%d] = %g, want 0 (exact %g)", p, n, j, got, want)
						}
					case got == 0 && math.Abs(want) < 2*smallestNormal32:
					case math.Abs(got-want) > 1e-6*(math.Abs(f*float64(c.cPrev[j]))+math.Abs(i*g))+2*smallestNormal32:
						t.Errorf("%v n=%d: c[%d] = %g, want %g", p, n, j, got, want)
					}
				}
			}
		}
	}
}

func TestMulFlush32(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range paths {
		for n := 0; n <= 40; n++ {
			a, b := make([]float32, n), make([]float32, n)
			for j := range a {
				a[j] = float32(rng.NormFloat64())
				b[j] = float32(rng.NormFloat64())
				if j%3 == 0 {
					b[j] *= 1e-38 // some products are subnormal
				}
			}
			want := make([]float32, n)
			for j := range a {
				want[j] = a[j] * b[j]
				if math.Abs(float64(want[j])) < smallestNormal32 {
					want[j] = 0
				}
			}
			buf := make([]float32, n+2)
			buf[0], buf[n+1] = 42, 42
			withPath(p, func() { MulFlush32(buf[1:n+1], a, b) })
			if buf[0] != 42 || buf[n+1] != 42 {
				t.Errorf("%v n=%d: wrote outside dst", p, n)
			}
			in := append([]float32(nil), a...)
			withPath(p, func() { MulFlush32(in, in, b) })
			for j := range want {
				if buf[1+j] != want[j] || in[j] != want[j] {
					t.Errorf("%v n=%d: [%d] = %g (in place %g), want %g", p, n, j, buf[1+j], in[j], want[j])
					break
				}
			}
		}
	}
}
