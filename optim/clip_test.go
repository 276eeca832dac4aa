package optim_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
)

func TestClipGradients(t *testing.T) {
	// Two gradients: a = [3, 4] (norm 5) and b = [0, -12] (norm 12); the
	// global norm is 13.
	a, b := []float64{3, 4}, []float64{0, -12}
	for _, tc := range []struct {
		name      string
		method    optim.ThresholdMethod
		threshold float64
		wantA     []float64
		wantB     []float64
	}{
		{"global below", optim.GlobalL2Norm, 13.5, a, b},
		{"global at", optim.GlobalL2Norm, 13, a, b},
		{"global above", optim.GlobalL2Norm, 6.5, []float64{1.5, 2}, []float64{0, -6}},
		{"global infinite", optim.GlobalL2Norm, math.Inf(1), a, b},
		{"l2norm below", optim.L2Norm, 12.5, a, b},
		{"l2norm one", optim.L2Norm, 6, a, []float64{0, -6}},
		{"l2norm both", optim.L2Norm, 2.5, []float64{1.5, 2}, []float64{0, -2.5}},
		{"absolute below", optim.AbsoluteValue, 12, a, b},
		{"absolute above", optim.AbsoluteValue, 3.5, []float64{3, 3.5}, []float64{0, -3.5}},
		{"absolute infinite", optim.AbsoluteValue, math.Inf(1), a, b},
	} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			pa := &testVG{w: dense(dt, []int{2}, nil), g: dense(dt, []int{2}, a)}
			pb := &testVG{w: dense(dt, []int{2}, nil), g: dense(dt, []int{2}, b)}
			if err := optim.ClipGradients([]gorgonia.ValueGrad{pa, pb}, tc.method, tc.threshold); err != nil {
				t.Errorf("%s %v: %v", tc.name, dt, err)
				continue
			}
			gotA, gotB := values(pa.g.(*tensor.Dense)), values(pb.g.(*tensor.Dense))
			if !closeTo(gotA, tc.wantA, 1e-7) || !closeTo(gotB, tc.wantB, 1e-7) {
				t.Errorf("%s %v: got %v %v, want %v %v", tc.name, dt, gotA, gotB, tc.wantA, tc.wantB)
			}
			if w := values(pa.w.(*tensor.Dense)); w[0] != 0 || w[1] != 0 {
				t.Errorf("%s %v: value changed to %v", tc.name, dt, w)
			}
		}
	}
}

func TestClipGradientsErrors(t *testing.T) {
	good := func() *testVG {
		return &testVG{w: dense(tensor.Float64, []int{2}, nil), g: dense(tensor.Float64, []int{2}, []float64{30, 40})}
	}
	nanGrad := &namedVG{testVG: testVG{w: dense(tensor.Float64, []int{2}, nil), g: dense(tensor.Float64, []int{2}, []float64{1, math.NaN()})}, name: "bad"}
	for _, tc := range []struct {
		name      string
		vgs       func(p *testVG) []gorgonia.ValueGrad
		method    optim.ThresholdMethod
		threshold float64
	}{
		{"zero threshold", func(p *testVG) []gorgonia.ValueGrad { return []gorgonia.ValueGrad{p} }, optim.GlobalL2Norm, 0},
		{"NaN threshold", func(p *testVG) []gorgonia.ValueGrad { return []gorgonia.ValueGrad{p} }, optim.L2Norm, math.NaN()},
		{"unknown method", func(p *testVG) []gorgonia.ValueGrad { return []gorgonia.ValueGrad{p} }, 0, 1},
		{"NaN gradient", func(p *testVG) []gorgonia.ValueGrad { return []gorgonia.ValueGrad{p, nanGrad} }, optim.GlobalL2Norm, 1},
		{"nil ValueGrad", func(p *testVG) []gorgonia.ValueGrad { return []gorgonia.ValueGrad{p, nil} }, optim.AbsoluteValue, 1},
	} {
		p := good()
		if err := optim.ClipGradients(tc.vgs(p), tc.method, tc.threshold); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		if got := values(p.g.(*tensor.Dense)); got[0] != 30 || got[1] != 40 {
			t.Errorf("%s: valid gradient changed to %v", tc.name, got)
		}
	}
}

func TestThresholdMethodNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    optim.ThresholdMethod
	}{
		{"global-l2norm", optim.GlobalL2Norm},
		{"l2norm", optim.L2Norm},
		{"absolute-value", optim.AbsoluteValue},
		{"Global-L2Norm", optim.GlobalL2Norm},
	} {
		m, err := optim.ParseThresholdMethod(tc.name)
		if err != nil || m != tc.m {
			t.Errorf("ParseThresholdMethod(%q) = %v, %v; want %v", tc.name, m, err, tc.m)
		}
		if got, err := optim.ParseThresholdMethod(tc.m.String()); err != nil || got != tc.m {
			t.Errorf("%v does not round-trip: %v, %v", tc.m, got, err)
		}
	}
	for _, s := range []string{"", "l1norm", "global_l2norm", "absolute"} {
		if _, err := optim.ParseThresholdMethod(s); err == nil {
			t.Errorf("ParseThresholdMethod(%q): no error", s)
		}
	}
	if got := optim.ThresholdMethod(0).String(); got != "ThresholdMethod(0)" {
		t.Errorf("String of invalid method: %q", got)
	}
}
