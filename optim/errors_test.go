package optim_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
)

func named(name string, w, g gorgonia.Value) *namedVG {
	return &namedVG{testVG: testVG{w: w, g: g}, name: name}
}

func TestStepErrors(t *testing.T) {
	f64 := func(shape ...int) *tensor.Dense { return dense(tensor.Float64, shape, nil) }
	transposed := func() *tensor.Dense {
		d := dense(tensor.Float64, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
		if err := d.T(); err != nil {
			t.Fatal(err)
		}
		return d
	}
	shared := f64(2, 2)
	for _, tc := range []struct {
		name string
		bad  func() []gorgonia.ValueGrad // parameters after the valid one
		want []string                    // parts of the error message
	}{
		{"nil ValueGrad", func() []gorgonia.ValueGrad { return []gorgonia.ValueGrad{nil} }, []string{"parameter 1 is nil"}},
		{"grad error", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{&namedVG{testVG: testVG{w: f64(2), gradErr: errors.New("no dual value")}, name: "bad"}}
		}, []string{`"bad"`, "no dual value"}},
		{"nil value", func() []gorgonia.ValueGrad { return []gorgonia.ValueGrad{named("bad", nil, f64(2))} }, []string{`"bad"`, "no value"}},
		{"typed nil value", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", (*tensor.Dense)(nil), f64(2))}
		}, []string{`"bad"`, "nil value"}},
		{"scalar value", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", gorgonia.NewF64(1), gorgonia.NewF64(1))}
		}, []string{`"bad"`, "*gorgonia.F64"}},
		{"nil grad", func() []gorgonia.ValueGrad { return []gorgonia.ValueGrad{named("bad", f64(2), nil)} }, []string{`"bad"`, "no gradient"}},
		{"scalar grad", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", f64(1), gorgonia.NewF64(1))}
		}, []string{`"bad"`, "*gorgonia.F64"}},
		{"shape mismatch", func() []gorgonia.ValueGrad { return []gorgonia.ValueGrad{named("bad", f64(2, 3), f64(3, 2))} }, []string{`"bad"`, "shape (3, 2) does not match value shape (2, 3)"}},
		{"size mismatch", func() []gorgonia.ValueGrad { return []gorgonia.ValueGrad{named("bad", f64(4), f64(3))} }, []string{`"bad"`, "shape"}},
		{"unnamed shape mismatch", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{&testVG{w: f64(2), g: f64(3)}}
		}, []string{"parameter 1:", "shape"}},
		{"int dtype", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", tensor.New(tensor.WithBacking([]int{1, 2})), tensor.New(tensor.WithBacking([]int{1, 2})))}
		}, []string{`"bad"`, "unsupported dtype int"}},
		{"mixed dtypes", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", f64(2), dense(tensor.Float32, []int{2}, nil))}
		}, []string{`"bad"`, "gradient dtype float32 does not match value dtype float64"}},
		{"NaN gradient", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", f64(3), dense(tensor.Float64, []int{3}, []float64{1, 2, math.NaN()}))}
		}, []string{`"bad"`, "element 2 is NaN"}},
		{"Inf gradient", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", f64(2), dense(tensor.Float64, []int{2}, []float64{math.Inf(1), 0}))}
		}, []string{`"bad"`, "element 0 is +Inf"}},
		{"float32 -Inf gradient", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("bad", dense(tensor.Float32, []int{2}, nil), dense(tensor.Float32, []int{2}, []float64{0, math.Inf(-1)}))}
		}, []string{`"bad"`, "element 1 is -Inf"}},
		{"unnamed NaN gradient", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{&testVG{w: f64(1), g: dense(tensor.Float64, []int{1}, []float64{math.NaN()})}}
		}, []string{"parameter 1:", "NaN"}},
		{"transposed value", func() []gorgonia.ValueGrad { return []gorgonia.ValueGrad{named("bad", transposed(), f64(3, 2))} }, []string{`"bad"`, "view"}},
		{"negative L2 factor", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{&factorVG{testVG: testVG{w: f64(2), g: f64(2)}, factor: -1}}
		}, []string{"parameter 1:", "L2 factor -1"}},
		{"duplicate value", func() []gorgonia.ValueGrad {
			return []gorgonia.ValueGrad{named("a", shared, f64(2, 2)), named("b", shared, f64(2, 2))}
		}, []string{`"b"`, "shares its value with parameter 1"}},
	} {
		for _, name := range solverNames() {
			s := mustSolver(t, name)
			good := &testVG{w: dense(tensor.Float64, []int{4}, testW0), g: dense(tensor.Float64, []int{4}, testGrads[0])}
			vgs := append([]gorgonia.ValueGrad{good}, tc.bad()...)
			var before [][]float64
			for _, vg := range vgs[1:] {
				before = append(before, snapshot(vg))
			}
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: %s: panic: %v", name, tc.name, r)
					}
				}()
				err = s.Step(vgs)
			}()
			if err == nil {
				t.Errorf("%s: %s: no error", name, tc.name)
				continue
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "optim: "+name+": ") {
				t.Errorf("%s: %s: error %q lacks the solver prefix", name, tc.name, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: %s: error %q does not contain %q", name, tc.name, msg, w)
				}
			}
			if got := values(good.w.(*tensor.Dense)); !closeTo(got, testW0, 0) {
				t.Errorf("%s: %s: valid parameter updated to %v", name, tc.name, got)
			}
			if got := values(good.g.(*tensor.Dense)); !closeTo(got, testGrads[0], 0) {
				t.Errorf("%s: %s: valid gradient changed to %v", name, tc.name, got)
			}
			for i, vg := range vgs[1:] {
				if got := snapshot(vg); !sameValues(got, before[i]) {
					t.Errorf("%s: %s: invalid parameter changed from %v to %v", name, tc.name, before[i], got)
				}
			}
			// The failed Step left no trace in the solver's state: the
			// next Step is a first step.
			got := stepAll(t, s, good, good, testGrads[:1])
			if want := defaultRef(name).run(testW0, testGrads[:1]); !closeTo(got, want, 1e-12) {
				t.Errorf("%s: %s: step after the error gave %v, want first step %v", name, tc.name, got, want)
			}
		}
	}
}

// snapshot returns the float elements of the value and gradient of vg,
// NaN-safe for comparison with sameValues.
func snapshot(vg gorgonia.ValueGrad) []float64 {
	if vg == nil {
		return nil
	}
	var r []float64
	if w, ok := vg.Value().(*tensor.Dense); ok && w != nil && (w.Dtype() == tensor.Float64 || w.Dtype() == tensor.Float32) {
		r = append(r, values(w)...)
	}
	if g, err := vg.Grad(); err == nil {
		if g, ok := g.(*tensor.Dense); ok && g != nil && (g.Dtype() == tensor.Float64 || g.Dtype() == tensor.Float32) {
			r = append(r, values(g)...)
		}
	}
	return r
}

func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestInvalidLearnRateInStep(t *testing.T) {
	for _, name := range solverNames() {
		for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
			s := mustSolver(t, name)
			s.SetLearnRate(lr)
			p := &testVG{w: dense(tensor.Float64, []int{4}, testW0), g: dense(tensor.Float64, []int{4}, testGrads[0])}
			if err := s.Step([]gorgonia.ValueGrad{p}); err == nil || !strings.Contains(err.Error(), "learn rate") {
				t.Errorf("%s: learn rate %v: error %v", name, lr, err)
			}
			if got := values(p.w.(*tensor.Dense)); !closeTo(got, testW0, 0) {
				t.Errorf("%s: learn rate %v: value changed to %v", name, lr, got)
			}
		}
	}
}

// TestValueChangedShape checks that a value reshaped after the solver
// created its state is reported rather than updated with stale state.
func TestValueChangedShape(t *testing.T) {
	for _, name := range solverNames() {
		s := mustSolver(t, name)
		w := dense(tensor.Float64, []int{4}, testW0)
		p := named("w", w, dense(tensor.Float64, []int{4}, nil))
		stepAll(t, s, p, &p.testVG, testGrads[:1])
		if err := w.Reshape(2, 2); err != nil {
			t.Fatal(err)
		}
		p.g = dense(tensor.Float64, []int{2, 2}, testGrads[1])
		err := s.Step([]gorgonia.ValueGrad{p})
		if err == nil || !strings.Contains(err.Error(), `"w"`) || !strings.Contains(err.Error(), "changed") {
			t.Errorf("%s: error %v, want value changed", name, err)
		}
	}
}

func TestEmptyStep(t *testing.T) {
	for _, name := range solverNames() {
		s := mustSolver(t, name)
		if err := s.Step(nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := optim.ClipGradients(nil, optim.L2Norm, 1); err != nil {
		t.Errorf("ClipGradients: %v", err)
	}
}
