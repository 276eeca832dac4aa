package nodes

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convInputs returns the inputs of a Conv1D test graph: batch s and k
// filters of the given size.
func convInputs(rng *rand.Rand, s seqBatch, k, size int) []tin {
	return append(s.inputs(), tin{"w", []int{k, s.channels, size}, uniform(rng, k*s.channels*size)}, tin{"b", []int{k}, uniform(rng, k)})
}

func convBuild(batch int, spec Conv1DSpec) seqBuild {
	return func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
		return Conv1D(in["x"], in["w"], in["b"], in["mask"], batch, spec)
	}
}

func TestConv1DRejectsBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newSeqBatch(rng, []int{5, 2, 4}, false, 2)
	good := Conv1DSpec{FilterSize: 3, Stride: 1, Dilation: 1}
	with := func(f func(*Conv1DSpec)) Conv1DSpec { c := good; f(&c); return c }
	cases := []struct {
		name  string
		ins   []tin
		batch int
		spec  Conv1DSpec
		parts []string
	}{
		{"stride 0", convInputs(rng, s, 2, 3), 3, with(func(c *Conv1DSpec) { c.Stride = 0 }), []string{"stride 0"}},
		{"dilation 0", convInputs(rng, s, 2, 3), 3, with(func(c *Conv1DSpec) { c.Dilation = 0 }), []string{"dilation 0"}},
		{"filter size 0", convInputs(rng, s, 2, 3), 3, with(func(c *Conv1DSpec) { c.FilterSize = 0 }), []string{"filter size 0"}},
		{"negative padding", convInputs(rng, s, 2, 3), 3, with(func(c *Conv1DSpec) { c.Padding.Left = -1 }), []string{"negative"}},
		{"same with sides", convInputs(rng, s, 2, 3), 3, with(func(c *Conv1DSpec) { c.Padding = Padding1D{Mode: PadSame, Left: 1} }), []string{"only explicit"}},
		{"unknown mode", convInputs(rng, s, 2, 3), 3, with(func(c *Conv1DSpec) { c.Padding.Mode = 9 }), []string{"mode 9"}},
		{"filter size differs from w", convInputs(rng, s, 2, 2), 3, good, []string{"not K×2×3"}},
		{"batch does not divide rows", convInputs(rng, s, 2, 3), 4, good, []string{"B = 4"}},
		{"filter longer than the batch", convInputs(rng, s, 2, 7), 3, with(func(c *Conv1DSpec) { c.FilterSize = 7 }),
			[]string{"5 steps, 5 with padding", "7 steps the filter spans"}},
		{"filter longer than a sequence", convInputs(rng, s, 2, 3), 3, good,
			[]string{"sequence 1 has 2 real steps", "3 steps the filter spans"}},
		{"dilated filter longer than a sequence", convInputs(rng, s, 2, 2), 3, with(func(c *Conv1DSpec) { c.FilterSize, c.Dilation = 2, 2 }),
			[]string{"sequence 1 has 2 real steps"}},
	}
	for _, c := range cases {
		_, err := runOpGraph(t, tensor.Float64, c.ins, nil, nil, convBuild(c.batch, c.spec))
		wantErr(t, c.name, err, c.parts...)
	}
	bad := s
	bad.mask = append([]float64(nil), s.mask...)
	bad.mask[1*3+0] = 0 // a gap in sequence 0
	_, err := runOpGraph(t, tensor.Float64, convInputs(rng, bad, 2, 1), nil, nil, convBuild(3, Conv1DSpec{FilterSize: 1, Stride: 1, Dilation: 1}))
	wantErr(t, "gap in the mask", err, "sequence 0", "not one run")
	_, _, err = good.OutputMask(s.mask, s.steps, s.batch)
	wantErr(t, "output mask of a too short sequence", err, "sequence 1 has 2 real steps")
}

func TestConv1DRejectsBadNodes(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(3, 4))
	x, w, b := randMatrix(g, rng, "x", 6, 2), randMatrix(g, rng, "w", 3, 2, 2), randMatrix(g, rng, "b", 3)
	mask := randMatrix(g, rng, "mask", 6)
	spec := Conv1DSpec{FilterSize: 2, Stride: 1, Dilation: 1}
	f32 := f32Node(g, rng, "x32", 6, 2)
	cases := map[string]func() (*gorgonia.Node, error){
		"nil bias":      func() (*gorgonia.Node, error) { return Conv1D(x, w, nil, mask, 2, spec) },
		"bias size":     func() (*gorgonia.Node, error) { return Conv1D(x, w, randMatrix(g, rng, "b2", 2), mask, 2, spec) },
		"channels":      func() (*gorgonia.Node, error) { return Conv1D(x, randMatrix(g, rng, "w2", 3, 3, 2), b, mask, 2, spec) },
		"mask length":   func() (*gorgonia.Node, error) { return Conv1D(x, w, b, randMatrix(g, rng, "m2", 4), 2, spec) },
		"batch 0":       func() (*gorgonia.Node, error) { return Conv1D(x, w, b, mask, 0, spec) },
		"dtypes":        func() (*gorgonia.Node, error) { return Conv1D(f32, w, b, mask, 2, spec) },
		"vector input":  func() (*gorgonia.Node, error) { return Conv1D(mask, w, b, mask, 2, spec) },
		"matrix filter": func() (*gorgonia.Node, error) { return Conv1D(x, randMatrix(g, rng, "w3", 3, 4), b, mask, 2, spec) },
	}
	for name, c := range cases {
		if _, err := c(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// directConv1D computes Conv1D's output and gradients by its definition,
// one multiply-add at a time: the naive kernel that the im2col and gemm
// version is measured against.
func directConv1D[T float](p windowPlan, x, w, bias, g, y, dx, dw, db []T, c, k int) {
	taps := p.w.size
	p.each(func(out, u, in int) {
		for f := range k {
			var s T
			for ch := range c {
				s += w[(f*c+ch)*taps+u] * x[in*c+ch]
				dw[(f*c+ch)*taps+u] += g[out*k+f] * x[in*c+ch]
				dx[in*c+ch] += g[out*k+f] * w[(f*c+ch)*taps+u]
			}
			y[out*k+f] += s
		}
	})
	for _, r := range p.out.rows() {
		for f := range k {
			y[r*k+f] += bias[f]
			db[f] += g[r*k+f]
		}
	}
}

// TestConv1DMatchesDirectLoop checks the im2col kernels against
// directConv1D on a batch larger than the fixtures'.
func TestConv1DMatchesDirectLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := newSeqBatch(rng, []int{17, 9, 12, 4, 17}, true, 5)
	const k = 7
	spec := Conv1DSpec{FilterSize: 3, Stride: 2, Dilation: 2, Padding: Padding1D{Mode: PadSame}}
	ins := convInputs(rng, s, k, spec.FilterSize)
	p, err := planOf(spec.window(), s.mask, s.steps, s.batch)
	if err != nil {
		t.Fatal(err)
	}
	rows := p.out.steps * s.batch
	gy := uniform(rng, rows*k)
	y, dx, dw, db := make([]float64, rows*k), make([]float64, len(s.x)), make([]float64, len(ins[2].vals)), make([]float64, k)
	directConv1D(p, s.x, ins[2].vals, ins[3].vals, gy, y, dx, dw, db, s.channels, k)
	r := mustRun(t, tensor.Float64, ins, []string{"x", "w", "b"}, gy, convBuild(s.batch, spec))
	closeTo(t, "y", r.y, y, 1e-12)
	closeTo(t, "dx", r.grads["x"], dx, 1e-12)
	closeTo(t, "dw", r.grads["w"], dw, 1e-12)
	closeTo(t, "db", r.grads["b"], db, 1e-12)
}

// benchConvShape is the benchmark's batch: 32 sequences of 100 steps, 12
// channels, 64 filters of 3 taps.
const benchT, benchB, benchC, benchK, benchFilter = 100, 32, 12, 64, 3

// BenchmarkConv1D times a forward and backward pass of Conv1D in a float32
// graph on the tape machine (∂L/∂x, ∂L/∂w and ∂L/∂bias).
func BenchmarkConv1D(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := newSeqBatch(rng, fullLengths(benchT, benchB), false, benchC)
	spec := Conv1DSpec{FilterSize: benchFilter, Stride: 1, Dilation: 1, Padding: Padding1D{Mode: PadSame}}
	benchOp(b, convInputs(rng, s, benchK, benchFilter), []string{"x", "w", "b"}, convBuild(benchB, spec))
}

// BenchmarkConv1DKernels times the forward and backward kernels alone, in
// float32: im2col and three matrix products against directConv1D's loops.
func BenchmarkConv1DKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := newSeqBatch(rng, fullLengths(benchT, benchB), false, benchC)
	spec := Conv1DSpec{FilterSize: benchFilter, Stride: 1, Dilation: 1, Padding: Padding1D{Mode: PadSame}}
	k := convKernel{spec.window(), benchT, benchT, benchB, benchC, benchK}
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	x, mask := f32(s.x), f32(s.mask)
	w, bias, g := f32(uniform(rng, benchK*benchC*benchFilter)), f32(uniform(rng, benchK)), f32(uniform(rng, benchT*benchB*benchK))
	b.Run("im2col", func(b *testing.B) {
		for b.Loop() {
			y, dx, dw, db := make([]float32, len(g)), make([]float32, len(x)), make([]float32, len(w)), make([]float32, benchK)
			if err := convForward(k, [][]float32{x, w, bias, mask}, y); err != nil {
				b.Fatal(err)
			}
			for i, d := range [][]float32{dx, dw, db} {
				in := [][][]float32{{w, mask, g}, {x, mask, g}, {mask, g}}[i]
				if err := convBackward(convGradKernel{k, i}, in, d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			y, dx, dw, db := make([]float32, len(g)), make([]float32, len(x)), make([]float32, len(w)), make([]float32, benchK)
			p, err := planOf(k.win, mask, benchT, benchB)
			if err != nil {
				b.Fatal(err)
			}
			directConv1D(p, x, w, bias, g, y, dx, dw, db, benchC, benchK)
		}
	})
}

func fullLengths(steps, batch int) []int {
	l := make([]int, batch)
	for i := range l {
		l[i] = steps
	}
	return l
}
