package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// adamCase is the state and gradient of one Adam update.
type adamCase struct{ w, g, m, v []float32 }

func newAdamCase(rng *rand.Rand, n int) adamCase {
	nrm := func(scale float64) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(scale * rng.NormFloat64())
		}
		return s
	}
	c := adamCase{w: nrm(1), g: nrm(0.1), m: nrm(0.01), v: nrm(1e-3)}
	for i, x := range c.v {
		c.v[i] = x * x // a second moment is not negative
	}
	return c
}

func (c adamCase) clone() adamCase {
	cp := func(s []float32) []float32 { return append([]float32(nil), s...) }
	return adamCase{cp(c.w), cp(c.g), cp(c.m), cp(c.v)}
}

// testAdam is the update TestAdam32 applies: step 100 of Adam with PyTorch's
// defaults (lr 0.001, β1 0.9, β2 0.999, ε 1e-8).
func testAdam() AdamCoefficients {
	const lr, b1, b2, eps, t = 0.001, 0.9, 0.999, 1e-8, 100
	c1, c2 := 1-math.Pow(b1, t), 1-math.Pow(b2, t)
	return AdamCoefficients{Step: float32(lr / c1), Beta1: b1, OneMinusBeta1: float32(1 - b1), Beta2: b2,
		OneMinusBeta2: float32(1 - b2), Epsilon: eps, InvSqrtC2: float32(1 / math.Sqrt(c2))}
}

// TestAdam32 checks every path against Kingma and Ba's update as PyTorch
// writes it, m̂ = m/(1-β1^t), v̂ = v/(1-β2^t), w -= lr·m̂/(√v̂ + ε),
// computed in float64 (to 1e-5 relative to the step), and against the Go
// path bit for bit, for lengths around the vector width, at offsets, with
// guard elements that must stay untouched.
func TestAdam32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := testAdam()
	const lr, b1, b2, eps, step = 0.001, 0.9, 0.999, 1e-8, 100
	for _, p := range paths {
		for n := 0; n <= 70; n++ {
			for _, off := range []int{0, 1} {
				in := newAdamCase(rng, n+off+1)
				want := in.clone()
				adamGo(want.w[off:off+n], want.g[off:off+n], want.m[off:off+n], want.v[off:off+n], &c)
				got := in.clone()
				adamWith(p, got.w[off:off+n], got.g[off:off+n], got.m[off:off+n], got.v[off:off+n], c)
				for i := range in.w {
					if i < off || i >= off+n {
						if got.w[i] != in.w[i] || got.g[i] != in.g[i] || got.m[i] != in.m[i] || got.v[i] != in.v[i] {
							t.Fatalf("%v n=%d off=%d: element %d outside the slices changed", p, n, off, i)
						}
						continue
					}
					if got.w[i] != want.w[i] || got.m[i] != want.m[i] || got.v[i] != want.v[i] || got.g[i] != 0 {
						t.Fatalf("%v n=%d off=%d: element %d: w, m, v, g = %g, %g, %g, %g; the Go path gives %g, %g, %g, 0",
							p, n, off, i, got.w[i], got.m[i], got.v[i], got.g[i], want.w[i], want.m[i], want.v[i])
					}
					g := float64(in.g[i])
					m := b1*float64(in.m[i]) + (1-b1)*g
					v := b2*float64(in.v[i]) + (1-b2)*g*g
					d := lr * (m / (1 - math.Pow(b1, step))) / (math.Sqrt(v/(1-math.Pow(b2, step))) + eps)
					if e := math.Abs(float64(in.w[i]) - d - float64(got.w[i])); e > 1e-5*math.Abs(d)+1e-7*math.Abs(float64(in.w[i])) {
						t.Fatalf("%v n=%d: element %d: w = %g, want %g (error %g)", p, n, i, got.w[i], float64(in.w[i])-d, e)
					}
				}
			}
		}
	}
}

// TestAdam32Special checks that every path gives the Go path's result, NaN
// for NaN, on non-finite and extreme gradients and moments.
func TestAdam32Special(t *testing.T) {
	vals := testValues(64)
	n := len(vals)
	in := adamCase{w: make([]float32, n), g: vals, m: make([]float32, n), v: make([]float32, n)}
	for i := range in.w {
		in.w[i] = vals[(i+7)%n]
		in.m[i] = vals[(i+13)%n]
		in.v[i] = float32(math.Abs(float64(vals[(i+29)%n])))
	}
	c := testAdam()
	want := in.clone()
	adamGo(want.w, want.g, want.m, want.v, &c)
	same := func(a, b float32) bool { return a == b || (a != a && b != b) }
	for _, p := range paths {
		got := in.clone()
		adamWith(p, got.w, got.g, got.m, got.v, c)
		for i := range got.w {
			if !same(got.w[i], want.w[i]) || !same(got.m[i], want.m[i]) || !same(got.v[i], want.v[i]) {
				t.Errorf("%v: element %d (g=%g, m=%g, v=%g): w, m, v = %g, %g, %g; the Go path gives %g, %g, %g",
					p, i, in.g[i], in.m[i], in.v[i], got.w[i], got.m[i], got.v[i], want.w[i], want.m[i], want.v[i])
			}
		}
	}
}

func TestAdam32ShortSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a gradient shorter than w")
		}
	}()
	Adam32(make([]float32, 4), make([]float32, 3), make([]float32, 4), make([]float32, 4), testAdam())
}

// BenchmarkAdam32 times one update of the reference LSTM's 46,309 weights
// (12 features, 100 hidden units, 9 classes) on every path, with a new
// gradient each time (copied in, which the time includes).
func BenchmarkAdam32(b *testing.B) {
	const n = 4*100*(12+100+1) + 9*(100+1)
	in := newAdamCase(rand.New(rand.NewPCG(1, 1)), n)
	grad := append([]float32(nil), in.g...)
	c := testAdam()
	for _, p := range paths {
		b.Run(fmt.Sprint(p), func(b *testing.B) {
			for b.Loop() {
				copy(in.g, grad)
				adamWith(p, in.w, in.g, in.m, in.v, c)
			}
		})
	}
}
