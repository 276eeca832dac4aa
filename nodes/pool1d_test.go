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
// pool), and a NaN wins.
func TestMaxPoolTiesAndNaN(t *testing.T) {
	nan := math.NaN()
	// One sequence of 4 steps, 2 channels: channel 0 ties at steps 1 and 2,
	// channel 1 has a NaN at step 2.
	x := []float64{0, 0, 3, 1, 3, nan, -1, 2}
	ins := []tin{{"x", []int{4, 2}, x}, {"mask", []int{4}, []float64{1, 1, 1, 1}}}
	gy := []float64{1, 10, 100, 1000, 1e4, 1e5}
	win := mustRun(t, tensor.Float64, ins, []string{"x"}, gy, poolBuild(MaxPool1D, 1, Pool1DSpec{Size: 2, Stride: 1}))
	// Windows {0,1}, {1,2}, {2,3}: channel 0 maxima 3 (step 1), 3 (step 1,
	// first of the tie), 3 (step 2); channel 1 maxima 1, NaN, NaN.
	wantY := []float64{3, 1, 3, nan, 3, nan}
	wantDx := []float64{0, 0, 1 + 100, 10, 1e4, 1000 + 1e5, 0, 0}
	for i := range wantY {
		if !(win.y[i] == wantY[i] || math.IsNaN(win.y[i]) && math.IsNaN(wantY[i])) {
			t.Errorf("window max y[%d] = %v, want %v", i, win.y[i], wantY[i])
		}
	}
	closeTo(t, "window max dx", win.grads["x"], wantDx, 0)
	glob := mustRun(t, tensor.Float64, ins, []string{"x"}, []float64{1, 10}, globalBuild(GlobalMaxPool1D, 1))
	if glob.y[0] != 3 || !math.IsNaN(glob.y[1]) {
		t.Errorf("global max = %v, want [3 NaN]", glob.y)
	}
	closeTo(t, "global max dx", glob.grads["x"], []float64{0, 0, 1, 0, 0, 10, 0, 0}, 0)
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
	} {
		b.Run(c.name, func(b *testing.B) { benchOp(b, s.inputs(), []string{"x"}, c.build) })
	}
}
