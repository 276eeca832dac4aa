package optim_test

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
)

// benchParams returns an LSTM-sized set of parameters (input weights,
// recurrent weights and bias of a 128-unit layer on 64 inputs) and a
// function that restores their gradients. Restoring the gradients that Step
// zeroes keeps the solver state away from subnormal numbers, which would
// make long benchmarks measure the FPU's slow path.
func benchParams(dt tensor.Dtype) ([]gorgonia.ValueGrad, func()) {
	shapes := [][]int{{512, 64}, {512, 128}, {512}}
	vgs := make([]gorgonia.ValueGrad, len(shapes))
	grads := make([][]float64, len(shapes))
	for i, sh := range shapes {
		n := tensor.Shape(sh).TotalSize()
		w, g := make([]float64, n), make([]float64, n)
		for j := range w {
			w[j] = float64(j%7) * 0.01
			g[j] = float64(j%5-2) * 0.1
		}
		vgs[i] = &testVG{w: dense(dt, sh, w), g: dense(dt, sh, g)}
		grads[i] = g
	}
	// Fetch the backing slices once: Data allocates.
	backing := make([]interface{}, len(vgs))
	for i, vg := range vgs {
		backing[i] = vg.(*testVG).g.(*tensor.Dense).Data()
	}
	return vgs, func() {
		for i, d := range backing {
			switch d := d.(type) {
			case []float64:
				copy(d, grads[i])
			case []float32:
				for j, x := range grads[i] {
					d[j] = float32(x)
				}
			}
		}
	}
}

func benchmarkStep(b *testing.B, name string, dt tensor.Dtype, opts ...optim.Option) {
	s := mustSolver(b, name, opts...)
	vgs, refill := benchParams(dt)
	if err := s.Step(vgs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		refill()
		if err := s.Step(vgs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSGDMStep(b *testing.B)    { benchmarkStep(b, "sgdm", tensor.Float64) }
func BenchmarkAdamStep(b *testing.B)    { benchmarkStep(b, "adam", tensor.Float64) }
func BenchmarkRMSPropStep(b *testing.B) { benchmarkStep(b, "rmsprop", tensor.Float64) }
func BenchmarkAdagradStep(b *testing.B) { benchmarkStep(b, "adagrad", tensor.Float64) }

func BenchmarkAdamStepFloat32(b *testing.B) { benchmarkStep(b, "adam", tensor.Float32) }

func BenchmarkAdamStepL2Clip(b *testing.B) {
	benchmarkStep(b, "adam", tensor.Float64,
		optim.WithL2Regularization(1e-4), optim.WithGradientThreshold(optim.GlobalL2Norm, 1))
}

func BenchmarkClipGradients(b *testing.B) {
	for _, m := range []optim.ThresholdMethod{optim.GlobalL2Norm, optim.L2Norm, optim.AbsoluteValue} {
		b.Run(m.String(), func(b *testing.B) {
			vgs, refill := benchParams(tensor.Float64)
			b.ReportAllocs()
			for b.Loop() {
				refill()
				if err := optim.ClipGradients(vgs, m, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
