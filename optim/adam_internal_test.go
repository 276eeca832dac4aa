package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// vg is a gorgonia.ValueGrad without a graph.
type vg struct{ w, g *tensor.Dense }

func (p vg) Value() gorgonia.Value         { return p.w }
func (p vg) Grad() (gorgonia.Value, error) { return p.g, nil }

// TestAdamFloat32IsScalarUpdate holds Adam's float32 steps, which run on a
// vectorised kernel, to adamUpdate's scalar float32 loop bit for bit, over
// five steps of a parameter whose length is not a multiple of the vector
// width.
func TestAdamFloat32IsScalarUpdate(t *testing.T) {
	const n, steps = 103, 5
	rng := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	ref, m, v := append([]float32(nil), w...), make([]float32, n), make([]float32, n)
	p := vg{tensor.New(tensor.WithShape(n), tensor.WithBacking(w)), tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))}
	s, err := NewAdam(WithLearnRate(0.01))
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= steps; step++ {
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(0.1 * rng.NormFloat64())
		}
		copy(p.g.Float32s(), g)
		if err := s.Step([]gorgonia.ValueGrad{p}); err != nil {
			t.Fatal(err)
		}
		c1, c2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
		adamUpdate(ref, g, m, v, 0.01, 0.9, float32(1-0.9), 0.999, float32(1-0.999), 1e-8, float32(c1), float32(c2))
		for i, x := range p.w.Float32s() {
			if x != ref[i] {
				t.Fatalf("step %d, element %d: %g, the scalar update gives %g", step, i, x, ref[i])
			}
		}
	}
}
