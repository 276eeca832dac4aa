package nodes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLSTMLayerFloat32HasNoSubnormals runs a float32 layer over a signal
// that falls silent: with zero input the state decays towards zero through
// every float32 magnitude, and so do the gradients on the way back. Nothing
// the forward or the backward pass keeps may be subnormal: subnormal
// operands make x86 arithmetic many times slower (BenchmarkLongSequence in
// package graph times it).
func TestLSTMLayerFloat32HasNoSubnormals(t *testing.T) {
	const steps, b, f, h = 400, 4, 3, 8
	rng := rand.New(rand.NewPCG(7, 8))
	g := gorgonia.NewGraph()
	mat := func(name string, scale float32, zero bool, shape ...int) *gorgonia.Node {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		if !zero {
			for i := range v {
				v[i] = scale * (2*rng.Float32() - 1)
			}
		}
		return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), gorgonia.WithName(name))
	}
	spec := LSTMSpec{
		Name: "silent",
		W:    mat("W", 0.5, false, 4*h, f), R: mat("R", 0.1, false, 4*h, h), B: mat("b", 0, true, 4*h),
		H0: mat("h0", 0, true, b, h), C0: mat("c0", 0, true, b, h),
	}
	for s := range steps {
		// A signal for 5 steps, then silence.
		spec.X = append(spec.X, mat(fmt.Sprintf("x%d", s), 1, s >= 5, b, f))
	}
	layer, err := NewLSTMLayer(spec)
	if err != nil {
		t.Fatal(err)
	}
	// The cost reads the first and the last hidden state, so that the
	// gradient from the last vanishes on its way back.
	first, err := layer.Hidden(0)
	if err != nil {
		t.Fatal(err)
	}
	last, _, err := layer.Final()
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Add(gorgonia.Must(gorgonia.Sum(first)), gorgonia.Must(gorgonia.Sum(last))))
	wrt := gorgonia.Nodes{spec.W, spec.R, spec.B, spec.H0, spec.C0}
	if _, err := gorgonia.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	vm, err := NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	s := layer.op.buf.(*lstmBuffers[float32])
	tiny := 0 // normal values below 1e-30: the decay must have gone that far
	for _, v := range s.cs[(steps-1)*b*h:] {
		if v != 0 && math.Abs(float64(v)) < 1e-30 {
			tiny++
		}
	}
	if c := s.cs[len(s.cs)-1]; c != 0 && math.Abs(float64(c)) > 1e-30 && tiny == 0 {
		t.Fatalf("the cell state did not decay (last value %g): the test does not test anything", c)
	}
	for _, buf := range []struct {
		name string
		v    []float32
	}{
		{"gates", s.gates}, {"tanh(c̃)", s.sc}, {"hidden states", s.hs}, {"cell states", s.cs},
		{"dz", s.dz}, {"dW", s.dw}, {"dR", s.dr}, {"db", s.db}, {"dh0", s.dh0}, {"dc0", s.dc0},
	} {
		n := 0
		for _, v := range buf.v {
			if v != 0 && math.Abs(float64(v)) < 0x1p-126 {
				n++
			}
		}
		if n > 0 {
			t.Errorf("%s: %d of %d values are subnormal", buf.name, n, len(buf.v))
		}
	}
}
