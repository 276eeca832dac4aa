package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func layerNormBuild(eps float64) seqBuild {
	return func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
		return LayerNorm(in["x"], in["scale"], in["offset"], eps)
	}
}

// TestLayerNormByDefinition checks a row by hand, with MATLAB's ε, and
// that rows of padding (zeros, a constant) stay finite in both dtypes: a
// constant row has x̂ = 0, so it gives the offset, and its ∂L/∂x is
// (ĝ - mean ĝ)/√ε.
func TestLayerNormByDefinition(t *testing.T) {
	x := []float64{
		1, 2, 3, 6, // mean 3, biased variance 3.5
		0, 0, 0, 0,
		7, 7, 7, 7,
	}
	scale, offset := []float64{1, 2, -1, 0.5}, []float64{0, 1, 2, 3}
	ins := []tin{{"x", []int{3, 4}, x}, {"scale", []int{4}, scale}, {"offset", []int{4}, offset}}
	gy := []float64{1, 1, 1, 1, 1, -2, 3, 4, 5, 6, 7, 8}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := map[tensor.Dtype]float64{tensor.Float64: 1e-15, tensor.Float32: 1e-6}[dt]
		r := mustRun(t, dt, ins, []string{"x", "scale", "offset"}, gy, layerNormBuild(LayerNormEpsilon))
		s := 1 / math.Sqrt(3.5+1e-5)
		want := []float64{-2 * s, 2*(-s) + 1, -1*0 + 2, 0.5*3*s + 3, 0, 1, 2, 3, 0, 1, 2, 3}
		closeTo(t, dt.String()+" y", r.y, want, tol)
		e := math.Sqrt(1e-5)
		closeTo(t, dt.String()+" dx of the constant rows", r.grads["x"][4:],
			[]float64{2 / e, -3 / e, -2 / e, 3 / e, 1.5 / e, 8.5 / e, -10.5 / e, 0.5 / e}, tol)
		for i, v := range r.grads["x"] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%v: dx[%d] = %v", dt, i, v)
			}
		}
		closeTo(t, dt.String()+" doffset", r.grads["offset"], []float64{7, 5, 11, 13}, tol)
	}
}

func TestLayerNormRejectsBadInput(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 2))
	x, v := randMatrix(g, rng, "x", 3, 4), randMatrix(g, rng, "v", 4)
	cases := map[string]func() (*gorgonia.Node, error){
		"epsilon 0":        func() (*gorgonia.Node, error) { return LayerNorm(x, v, v, 0) },
		"epsilon NaN":      func() (*gorgonia.Node, error) { return LayerNorm(x, v, v, math.NaN()) },
		"epsilon infinite": func() (*gorgonia.Node, error) { return LayerNorm(x, v, v, math.Inf(1)) },
		"scale size":       func() (*gorgonia.Node, error) { return LayerNorm(x, randMatrix(g, rng, "v3", 3), v, 1e-5) },
		"offset dtype":     func() (*gorgonia.Node, error) { return LayerNorm(x, v, f32Node(g, rng, "v32", 4), 1e-5) },
		"vector input":     func() (*gorgonia.Node, error) { return LayerNorm(v, v, v, 1e-5) },
		"nil offset":       func() (*gorgonia.Node, error) { return LayerNorm(x, v, nil, 1e-5) },
	}
	for name, f := range cases {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// BenchmarkLayerNorm times a forward and backward pass in a float32 graph
// over 32 sequences of 100 steps of 64 channels.
func BenchmarkLayerNorm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	ins := []tin{{"x", []int{benchT * benchB, benchK}, uniform(rng, benchT*benchB*benchK)},
		{"scale", []int{benchK}, uniform(rng, benchK)}, {"offset", []int{benchK}, uniform(rng, benchK)}}
	benchOp(b, ins, []string{"x", "scale", "offset"}, layerNormBuild(LayerNormEpsilon))
}
