package optim_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
)

// Three steps of gradients for a 2×2 parameter, with a zero element and a
// sign change so that every term of the updates matters.
var (
	testW0    = []float64{0.5, -1.25, 2, 0}
	testGrads = [][]float64{
		{0.3, -0.7, 0, 1.5},
		{-0.2, 0.4, 0.1, 1.1},
		{0.6, -0.9, 0.05, -0.4},
	}
)

type solverCase struct {
	name   string
	solver string
	opts   []optim.Option
	ref    func(r *ref) // changes from defaultRef made by opts
}

func solverCases() []solverCase {
	return []solverCase{
		{name: "default", solver: "sgdm"},
		{name: "WithLearnRate", solver: "sgdm", opts: []optim.Option{optim.WithLearnRate(0.1)}, ref: func(r *ref) { r.lr = 0.1 }},
		{name: "WithMomentum", solver: "sgdm", opts: []optim.Option{optim.WithMomentum(0.5)}, ref: func(r *ref) { r.momentum = 0.5 }},
		{name: "WithMomentum(0)", solver: "sgdm", opts: []optim.Option{optim.WithMomentum(0)}, ref: func(r *ref) { r.momentum = 0 }},
		{name: "WithL2Regularization", solver: "sgdm", opts: []optim.Option{optim.WithL2Regularization(0.5)}, ref: func(r *ref) { r.l2 = 0.5 }},
		{name: "WithGradientThreshold(global-l2norm)", solver: "sgdm", opts: []optim.Option{optim.WithGradientThreshold(optim.GlobalL2Norm, 0.8)}, ref: func(r *ref) { r.method, r.threshold = optim.GlobalL2Norm, 0.8 }},
		{name: "WithGradientThreshold(absolute-value)", solver: "sgdm", opts: []optim.Option{optim.WithGradientThreshold(optim.AbsoluteValue, 0.5)}, ref: func(r *ref) { r.method, r.threshold = optim.AbsoluteValue, 0.5 }},

		{name: "default", solver: "adam"},
		{name: "WithLearnRate", solver: "adam", opts: []optim.Option{optim.WithLearnRate(0.05)}, ref: func(r *ref) { r.lr = 0.05 }},
		{name: "WithBetas", solver: "adam", opts: []optim.Option{optim.WithBetas(0.5, 0.75)}, ref: func(r *ref) { r.b1, r.b2 = 0.5, 0.75 }},
		{name: "WithEpsilon", solver: "adam", opts: []optim.Option{optim.WithEpsilon(1)}, ref: func(r *ref) { r.eps = 1 }},
		{name: "WithL2Regularization", solver: "adam", opts: []optim.Option{optim.WithL2Regularization(0.5)}, ref: func(r *ref) { r.l2 = 0.5 }},
		{name: "WithGradientThreshold(l2norm)", solver: "adam", opts: []optim.Option{optim.WithGradientThreshold(optim.L2Norm, 0.8)}, ref: func(r *ref) { r.method, r.threshold = optim.L2Norm, 0.8 }},
		{name: "all options", solver: "adam",
			opts: []optim.Option{optim.WithLearnRate(0.02), optim.WithBetas(0.8, 0.9), optim.WithEpsilon(0.01), optim.WithL2Regularization(0.1), optim.WithGradientThreshold(optim.AbsoluteValue, 0.5)},
			ref: func(r *ref) {
				r.lr, r.b1, r.b2, r.eps, r.l2, r.method, r.threshold = 0.02, 0.8, 0.9, 0.01, 0.1, optim.AbsoluteValue, 0.5
			}},

		{name: "default", solver: "rmsprop"},
		{name: "WithLearnRate", solver: "rmsprop", opts: []optim.Option{optim.WithLearnRate(0.05)}, ref: func(r *ref) { r.lr = 0.05 }},
		{name: "WithSquaredGradientDecay", solver: "rmsprop", opts: []optim.Option{optim.WithSquaredGradientDecay(0.5)}, ref: func(r *ref) { r.rho = 0.5 }},
		{name: "WithEpsilon", solver: "rmsprop", opts: []optim.Option{optim.WithEpsilon(1)}, ref: func(r *ref) { r.eps = 1 }},
		{name: "WithL2Regularization", solver: "rmsprop", opts: []optim.Option{optim.WithL2Regularization(0.5)}, ref: func(r *ref) { r.l2 = 0.5 }},
		{name: "WithGradientThreshold(absolute-value)", solver: "rmsprop", opts: []optim.Option{optim.WithGradientThreshold(optim.AbsoluteValue, 0.5)}, ref: func(r *ref) { r.method, r.threshold = optim.AbsoluteValue, 0.5 }},

		{name: "default", solver: "adagrad"},
		{name: "WithLearnRate", solver: "adagrad", opts: []optim.Option{optim.WithLearnRate(0.5)}, ref: func(r *ref) { r.lr = 0.5 }},
		{name: "WithEpsilon", solver: "adagrad", opts: []optim.Option{optim.WithEpsilon(1)}, ref: func(r *ref) { r.eps = 1 }},
		{name: "WithInitialAccumulator", solver: "adagrad", opts: []optim.Option{optim.WithInitialAccumulator(0.1)}, ref: func(r *ref) { r.acc0 = 0.1 }},
		{name: "WithL2Regularization", solver: "adagrad", opts: []optim.Option{optim.WithL2Regularization(0.5)}, ref: func(r *ref) { r.l2 = 0.5 }},
		{name: "WithGradientThreshold(global-l2norm)", solver: "adagrad", opts: []optim.Option{optim.WithGradientThreshold(optim.GlobalL2Norm, 0.8)}, ref: func(r *ref) { r.method, r.threshold = optim.GlobalL2Norm, 0.8 }},
	}
}

// TestSolvers checks three steps of each solver against the scalar
// reference, in float64 and float32, and that each option changes the
// result.
func TestSolvers(t *testing.T) {
	for _, tc := range solverCases() {
		r := defaultRef(tc.solver)
		if tc.ref != nil {
			tc.ref(&r)
		}
		want := r.run(testW0, testGrads)
		def := defaultRef(tc.solver).run(testW0, testGrads)
		if len(tc.opts) > 0 && closeTo(want, def, 1e-6) {
			t.Errorf("%s/%s: reference does not differ from the default; the case tests nothing", tc.solver, tc.name)
		}
		for _, dc := range []struct {
			dt  tensor.Dtype
			tol float64
		}{
			{tensor.Float64, 1e-12},
			{tensor.Float32, 1e-6},
		} {
			t.Run(fmt.Sprintf("%s/%s/%v", tc.solver, tc.name, dc.dt), func(t *testing.T) {
				s := mustSolver(t, tc.solver, tc.opts...)
				p := &testVG{w: dense(dc.dt, []int{2, 2}, testW0), g: dense(dc.dt, []int{2, 2}, make([]float64, 4))}
				got := stepAll(t, s, p, p, testGrads)
				if !closeTo(got, want, dc.tol) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
}

func TestLearnRate(t *testing.T) {
	for _, name := range solverNames() {
		s := mustSolver(t, name)
		if got, want := s.LearnRate(), defaultRef(name).lr; got != want {
			t.Errorf("%s: default learn rate %v, want %v", name, got, want)
		}
		s.SetLearnRate(0.25)
		if got := s.LearnRate(); got != 0.25 {
			t.Errorf("%s: learn rate after SetLearnRate(0.25) is %v", name, got)
		}
		// The new rate is used from the next Step.
		p := &testVG{w: dense(tensor.Float64, []int{4}, testW0), g: dense(tensor.Float64, []int{4}, nil)}
		r := defaultRef(name)
		r.lr = 0.25
		if got, want := stepAll(t, s, p, p, testGrads), r.run(testW0, testGrads); !closeTo(got, want, 1e-12) {
			t.Errorf("%s: after SetLearnRate got %v, want %v", name, got, want)
		}
	}
}

func TestL2Factor(t *testing.T) {
	for _, name := range solverNames() {
		for _, factor := range []float64{0, 0.5, 2} {
			s := mustSolver(t, name, optim.WithL2Regularization(0.3))
			p := &factorVG{testVG: testVG{w: dense(tensor.Float64, []int{4}, testW0), g: dense(tensor.Float64, []int{4}, nil)}, factor: factor}
			r := defaultRef(name)
			r.l2, r.factor = 0.3, factor
			got := stepAll(t, s, p, &p.testVG, testGrads)
			if want := r.run(testW0, testGrads); !closeTo(got, want, 1e-12) {
				t.Errorf("%s: factor %v: got %v, want %v", name, factor, got, want)
			}
			if factor == 0 {
				// Without decay, the result is that of no regularization.
				if want := defaultRef(name).run(testW0, testGrads); !closeTo(got, want, 1e-12) {
					t.Errorf("%s: factor 0: got %v, want unregularized %v", name, got, want)
				}
			}
		}
	}

	// A zero gradient with factor 0 leaves the weights unchanged.
	s := mustSolver(t, "sgdm", optim.WithL2Regularization(1))
	p := &factorVG{testVG: testVG{w: dense(tensor.Float64, []int{4}, testW0), g: dense(tensor.Float64, []int{4}, nil)}}
	if got := stepAll(t, s, p, &p.testVG, [][]float64{{0, 0, 0, 0}}); !closeTo(got, testW0, 0) {
		t.Errorf("factor 0 with zero gradient changed the weights to %v", got)
	}
}

// TestRegularizeThenClip checks MATLAB's order: L2 regularization is added
// before the gradient is clipped.
func TestRegularizeThenClip(t *testing.T) {
	s := mustSolver(t, "sgdm", optim.WithLearnRate(1), optim.WithMomentum(0),
		optim.WithL2Regularization(1), optim.WithGradientThreshold(optim.AbsoluteValue, 1))
	p := &testVG{w: dense(tensor.Float64, []int{1}, []float64{10}), g: dense(tensor.Float64, []int{1}, nil)}
	// g + λw = 10 is clipped to 1, so w = 10 − 1; clipping first would give
	// w = 10 − (0 + 10) = 0.
	if got := stepAll(t, s, p, p, [][]float64{{0}}); got[0] != 9 {
		t.Errorf("got w = %v, want 9", got[0])
	}
}

// TestGlobalThresholdInStep checks that GlobalL2Norm inside Step uses the
// norm of all parameters together and L2Norm each parameter's own.
func TestGlobalThresholdInStep(t *testing.T) {
	for _, tc := range []struct {
		method optim.ThresholdMethod
		want   []float64 // w1, w2 after one SGD step with lr 1 from zero
	}{
		// Gradients [3] and [4]: global norm 5 → ×1/5; own norms 3, 4.
		{optim.GlobalL2Norm, []float64{-0.6, -0.8}},
		{optim.L2Norm, []float64{-1, -1}},
		{optim.AbsoluteValue, []float64{-1, -1}},
	} {
		s := mustSolver(t, "sgdm", optim.WithLearnRate(1), optim.WithMomentum(0), optim.WithGradientThreshold(tc.method, 1))
		p1 := &testVG{w: dense(tensor.Float64, []int{1}, []float64{0}), g: dense(tensor.Float64, []int{1}, []float64{3})}
		p2 := &testVG{w: dense(tensor.Float64, []int{1}, []float64{0}), g: dense(tensor.Float64, []int{1}, []float64{4})}
		if err := s.Step([]gorgonia.ValueGrad{p1, p2}); err != nil {
			t.Fatal(err)
		}
		got := []float64{values(p1.w.(*tensor.Dense))[0], values(p2.w.(*tensor.Dense))[0]}
		if !closeTo(got, tc.want, 1e-15) {
			t.Errorf("%v: got %v, want %v", tc.method, got, tc.want)
		}
	}
}

// TestStateKeyedByValue steps one *tensor.Dense through two wrappers with
// different gradient tensors, at different positions in the Step argument:
// the solver must treat them as a single parameter.
func TestStateKeyedByValue(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		s := mustSolver(t, "adam", optim.WithLearnRate(0.1))
		w := dense(dt, []int{2, 2}, testW0)
		a := &testVG{w: w, g: dense(dt, []int{2, 2}, nil)}
		b := &testVG{w: w, g: dense(dt, []int{2, 2}, nil)}
		other := &testVG{w: dense(dt, []int{3}, []float64{1, 2, 3}), g: dense(dt, []int{3}, nil)}

		grads := append(append([][]float64{}, testGrads...), testGrads[0])
		for i, g := range grads {
			var vgs []gorgonia.ValueGrad
			if i%2 == 0 {
				setGrad(a, g)
				vgs = []gorgonia.ValueGrad{a}
			} else {
				setGrad(b, g)
				vgs = []gorgonia.ValueGrad{other, b}
			}
			if err := s.Step(vgs); err != nil {
				t.Fatalf("%v: step %d: %v", dt, i, err)
			}
		}
		r := defaultRef("adam")
		r.lr = 0.1
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-6
		}
		if got, want := values(w), r.run(testW0, grads); !closeTo(got, want, tol) {
			t.Errorf("%v: got %v, want one parameter stepped 4 times %v", dt, got, want)
		}
	}
}

func TestGradientsZeroed(t *testing.T) {
	for _, name := range solverNames() {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			s := mustSolver(t, name, optim.WithL2Regularization(0.1), optim.WithGradientThreshold(optim.GlobalL2Norm, 0.5))
			p := &testVG{w: dense(dt, []int{2, 2}, testW0), g: dense(dt, []int{2, 2}, testGrads[0])}
			q := &namedVG{testVG: testVG{w: dense(dt, []int{3}, []float64{1, 2, 3}), g: dense(dt, []int{3}, []float64{-1, 0.5, 2})}, name: "q"}
			if err := s.Step([]gorgonia.ValueGrad{p, q}); err != nil {
				t.Fatalf("%s %v: %v", name, dt, err)
			}
			for _, g := range []gorgonia.Value{p.g, q.g} {
				for _, x := range values(g.(*tensor.Dense)) {
					if x != 0 {
						t.Errorf("%s %v: gradient %v not zeroed", name, dt, values(g.(*tensor.Dense)))
						break
					}
				}
			}
		}
	}
}

// TestZeroAllocs checks that Step does not allocate once it has seen its
// parameters, with regularization and clipping enabled.
func TestZeroAllocs(t *testing.T) {
	for _, name := range solverNames() {
		s := mustSolver(t, name, optim.WithL2Regularization(0.01), optim.WithGradientThreshold(optim.GlobalL2Norm, 1))
		vgs := []gorgonia.ValueGrad{
			&testVG{w: dense(tensor.Float64, []int{8, 4}, make([]float64, 32)), g: dense(tensor.Float64, []int{8, 4}, make([]float64, 32))},
			&namedVG{testVG: testVG{w: dense(tensor.Float32, []int{5}, make([]float64, 5)), g: dense(tensor.Float32, []int{5}, make([]float64, 5))}, name: "b"},
			&factorVG{testVG: testVG{w: dense(tensor.Float64, []int{3}, make([]float64, 3)), g: dense(tensor.Float64, []int{3}, make([]float64, 3))}},
		}
		if err := s.Step(vgs); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := s.Step(vgs); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Step, want 0", name, allocs)
		}
	}
	clipVGs := []gorgonia.ValueGrad{&testVG{w: dense(tensor.Float64, []int{4}, testW0), g: dense(tensor.Float64, []int{4}, testGrads[0])}}
	for _, m := range []optim.ThresholdMethod{optim.GlobalL2Norm, optim.L2Norm, optim.AbsoluteValue} {
		allocs := testing.AllocsPerRun(100, func() {
			if err := optim.ClipGradients(clipVGs, m, 1); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ClipGradients %v: %v allocations, want 0", m, allocs)
		}
	}
}

// TestLargeGradientNorm checks that clipping works when the sum of squares
// overflows float64.
func TestLargeGradientNorm(t *testing.T) {
	p := &testVG{w: dense(tensor.Float64, []int{2}, nil), g: dense(tensor.Float64, []int{2}, []float64{3e200, -4e200})}
	if err := optim.ClipGradients([]gorgonia.ValueGrad{p}, optim.GlobalL2Norm, 1); err != nil {
		t.Fatal(err)
	}
	if got, want := values(p.g.(*tensor.Dense)), []float64{0.6, -0.8}; !closeTo(got, want, 1e-15) {
		t.Errorf("got %v, want %v", got, want)
	}
	if math.IsNaN(values(p.g.(*tensor.Dense))[0]) {
		t.Error("NaN")
	}
}
