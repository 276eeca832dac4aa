package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type poolFunc func(x, mask *gorgonia.Node, batch int, spec Pool1DSpec) (*gorgonia.Node, error)

func poolBuild(f poolFunc, batch int, spec Pool1DSpec) seqBuild {
	return func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return f(in["x"], in["mask"], batch, spec) }
}

func globalBuild(f func(x, mask *gorgonia.Node, batch int) (*gorgonia.Node, error), batch int) seqBuild {
	return func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return f(in["x"], in["mask"], batch) }
}

func TestPool1DRejectsBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newSeqBatch(rng, []int{5, 2, 4}, true, 2)
	cases := []struct {
		name  string
		spec  Pool1DSpec
		parts []string
	}{
		{"pool size 0", Pool1DSpec{Size: 0, Stride: 1}, []string{"pool size 0"}},
		{"stride 0", Pool1DSpec{Size: 2, Stride: 0}, []string{"stride 0"}},
		{"padding as large as the pool", Pool1DSpec{Size: 2, Stride: 1, Padding: Padding1D{Right: 2}}, []string{"padding [0 2]", "pool size 2"}},
		{"pool longer than the batch", Pool1DSpec{Size: 6, Stride: 1}, []string{"5 steps, 5 with padding", "6 steps the pool spans"}},
		{"pool longer than a sequence", Pool1DSpec{Size: 3, Stride: 2}, []string{"sequence 1 has 2 real steps", "3 steps the pool spans"}},
	}
	for _, c := range cases {
		for _, f := range []poolFunc{MaxPool1D, AveragePool1D} {
			_, err := runOpGraph(t, tensor.Float64, s.inputs(), nil, nil, poolBuild(f, 3, c.spec))
			wantErr(t, c.name, err, c.parts...)
		}
	}
	// The padding of the pool makes up for a short sequence.
	spec := Pool1DSpec{Size: 3, Stride: 2, Padding: Padding1D{Left: 1}}
	mustRun(t, tensor.Float64, s.inputs(), nil, nil, poolBuild(MaxPool1D, 3, spec))
	_, _, err := Pool1DSpec{Size: 2, Stride: 0}.OutputMask(s.mask, s.steps, s.batch)
	wantErr(t, "output mask with stride 0", err, "stride 0")
	g := gorgonia.NewGraph()
	x, mask := randMatrix(g, rng, "x", 6, 2), randMatrix(g, rng, "mask", 6)
	if _, err := MaxPool1D(x, mask, 4, Pool1DSpec{Size: 1, Stride: 1}); err == nil {
		t.Error("batch 4 of 6 rows: no error")
	}
	if _, err := GlobalMaxPool1D(x, randMatrix(g, rng, "m5", 5), 2); err == nil {
		t.Error("global pool with a mask of 5 values for 6 rows: no error")
	}
	_, err = runOpGraph(t, tensor.Float64, []tin{{"x", []int{4, 1}, []float64{1, 2, 3, 4}}, {"mask", []int{4}, []float64{1, 0, 0, 1}}},
		nil, nil, globalBuild(GlobalAveragePool1D, 2))
	wantErr(t, "global pool, both sides", err, "sequence 0 is padded on the right and sequence 1 on the left")
}

// TestMaxPoolTiesAndNaN checks the documented choices: on ties the gradient
// goes to the first step of the window (of the sequence, for the global
// pool), and a NaN makes the output NaN.
func TestMaxPoolTiesAndNaN(t *testing.T) {
	nan := math.NaN()
	// One sequence of 4 steps, 2 channels: channel 0 ties at steps 1 and 2,
	// and at steps 0 and 3 for the global pool; channel 1 has a NaN at step
	// 2.
	x := []float64{5, 0, 3, 1, 3, nan, 5, 2}
	ins := []tin{{"x", []int{4, 2}, x}, {"mask", []int{4}, []float64{1, 1, 1, 1}}}
	gy := []float64{1, 10, 100, 1000, 1e4, 1e5}
	win := mustRun(t, tensor.Float64, ins, []string{"x"}, gy, poolBuild(MaxPool1D, 1, Pool1DSpec{Size: 2, Stride: 1}))
	// Windows {0,1}, {1,2}, {2,3}: channel 0 maxima 5 (step 0), 3 (step 1,
	// the first of the tie), 5 (step 3).
	if want := []float64{5, 3, 5}; win.y[0] != want[0] || win.y[2] != want[1] || win.y[4] != want[2] {
		t.Errorf("channel 0 = %v, %v, %v, want %v", win.y[0], win.y[2], win.y[4], want)
	}
	if win.y[1] != 1 || !math.IsNaN(win.y[3]) || !math.IsNaN(win.y[5]) {
		t.Errorf("channel 1 = %v, %v, %v, want 1, NaN, NaN", win.y[1], win.y[3], win.y[5])
	}
	for i, want := range []float64{1, 100, 0, 1e4} { // channel 0 of steps 0 to 3
		if got := win.grads["x"][2*i]; got != want {
			t.Errorf("dx[step %d, channel 0] = %v, want %v", i, got, want)
		}
	}
	glob := mustRun(t, tensor.Float64, ins, []string{"x"}, []float64{1, 10}, globalBuild(GlobalMaxPool1D, 1))
	if glob.y[0] != 5 || !math.IsNaN(glob.y[1]) {
		t.Errorf("global max = %v, want [5 NaN]", glob.y)
	}
	for i, want := range []float64{1, 0, 0, 0} {
		if got := glob.grads["x"][2*i]; got != want {
			t.Errorf("global dx[step %d, channel 0] = %v, want %v", i, got, want)
		}
	}
}

var benchPool = Pool1DSpec{Size: 3, Stride: 1, Padding: Padding1D{Mode: PadSame}}

// BenchmarkPool1D times a forward and backward pass of each pooling in a
// float32 graph, 32 sequences of 100 steps and 64 channels.
func BenchmarkPool1D(b *testing.B) {
	s := newSeqBatch(rand.New(rand.NewPCG(1, 1)), fullLengths(benchT, benchB), false, benchK)
	for _, c := range []struct {
		name  string
		build seqBuild
	}{
		{"max", poolBuild(MaxPool1D, benchB, benchPool)},
		{"average", poolBuild(AveragePool1D, benchB, benchPool)},
		{"global max", globalBuild(GlobalMaxPool1D, benchB)},
		{"global average", globalBuild(GlobalAveragePool1D, benchB)},
		// The test graph's own cost, Σ gy⊙x and its gradient, with no op:
		// what the other timings include besides their op.
		{"no op", func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return in["x"], nil }},
	} {
		b.Run(c.name, func(b *testing.B) { benchOp(b, s.inputs(), []string{"x"}, c.build) })
	}
}
