package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestBatchNormGradients(t *testing.T) {
	cases := []struct {
		name      string
		shape     []int
		weights   []float64
		inference bool
	}{
		{name: "training", shape: []int{4, 2, 2, 3}},
		{name: "training with frame weights", shape: []int{5, 2, 2, 2}, weights: []float64{1, 0, 1, 1, 0}},
		{name: "training, features", shape: []int{6, 3}},
		{name: "training, features with frame weights", shape: []int{6, 3}, weights: []float64{0, 1, 1, 0, 1, 1}},
		{name: "inference", shape: []int{3, 2, 2, 2}, inference: true},
		{name: "inference with frame weights", shape: []int{3, 2, 2, 2}, weights: []float64{1, 0, 1}, inference: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(9, 10))
			ch := c.shape[1]
			x := randMatrix(g, rng, "x", c.shape...)
			scale, offset := randMatrix(g, rng, "scale", ch), randMatrix(g, rng, "offset", ch)
			state, err := NewBatchNormState(ch)
			if err != nil {
				t.Fatal(err)
			}
			for k := range ch {
				state.Mean[k], state.Variance[k] = 0.3*float64(k)-0.2, 0.5+0.4*float64(k)
			}
			var phase Phase
			phase.SetInference(c.inference)
			var w *gorgonia.Node
			if c.weights != nil {
				w = gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(c.weights)), gorgonia.WithName("weights"))
			}
			y, err := BatchNorm(x, scale, offset, state, &phase, w)
			if err != nil {
				t.Fatal(err)
			}
			worst, err := CheckGradients(weightedSum(t, g, rng, y), gorgonia.Nodes{x, scale, offset}, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

// bnGraph is y = BatchNorm(x) and cost = Σ costW⊙y, with gradients for x,
// scale and offset.
type bnGraph struct {
	x, scale, offset, y *gorgonia.Node
	state               *BatchNormState
	phase               Phase
	yVal                gorgonia.Value
	vm                  gorgonia.VM
}

func newBNGraph(t *testing.T, dt tensor.Dtype, x []float64, shape []int, scale, offset, weights, costW []float64) *bnGraph {
	t.Helper()
	g := gorgonia.NewGraph()
	b := &bnGraph{}
	b.x = gorgonia.NodeFromAny(g, denseOf(dt, x, shape...), gorgonia.WithName("x"))
	b.scale = gorgonia.NodeFromAny(g, denseOf(dt, scale, len(scale)), gorgonia.WithName("scale"))
	b.offset = gorgonia.NodeFromAny(g, denseOf(dt, offset, len(offset)), gorgonia.WithName("offset"))
	var w *gorgonia.Node
	if weights != nil {
		w = gorgonia.NodeFromAny(g, denseOf(dt, weights, len(weights)), gorgonia.WithName("weights"))
	}
	var err error
	if b.state, err = NewBatchNormState(shape[1]); err != nil {
		t.Fatal(err)
	}
	if b.y, err = BatchNorm(b.x, b.scale, b.offset, b.state, &b.phase, w); err != nil {
		t.Fatal(err)
	}
	cw := gorgonia.NodeFromAny(g, denseOf(dt, costW, shape...), gorgonia.WithName("cost weights"))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(b.y, cw))))
	if _, err := gorgonia.Grad(cost, b.x, b.scale, b.offset); err != nil {
		t.Fatal(err)
	}
	gorgonia.Read(b.y, &b.yVal)
	if b.vm, err = NewTapeMachine(g, gorgonia.BindDualValues(b.x, b.scale, b.offset)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.vm.Close() })
	return b
}

// run returns y and the gradients of x, scale and offset.
func (b *bnGraph) run(t *testing.T) (y, dx, dScale, dOffset []float64) {
	t.Helper()
	defer b.vm.Reset()
	if err := b.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grad := func(n *gorgonia.Node) []float64 {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		out := toFloat64(g.(*tensor.Dense))
		g.(*tensor.Dense).Zero()
		return out
	}
	return toFloat64(b.yVal.(*tensor.Dense)), grad(b.x), grad(b.scale), grad(b.offset)
}

func TestBatchNormPaddingFramesChangeNothing(t *testing.T) {
	const c, inner = 3, 4 // 3 channels of 2×2
	shape := func(n int) []int { return []int{n, c, 2, 2} }
	frame := c * inner
	weights := []float64{1, 0, 1, 1, 0, 0, 1}
	n := len(weights)
	rng := rand.New(rand.NewPCG(11, 12))
	x, costW := uniform(rng, n*frame), uniform(rng, n*frame)
	for f, w := range weights {
		if w == 0 {
			// Padding frames far from the real ones, and with no part in
			// the cost, as masked timesteps downstream would see to.
			for i := f * frame; i < (f+1)*frame; i++ {
				x[i] = 50 + 100*rng.Float64()
				costW[i] = 0
			}
		}
	}
	var realX, realW []float64
	var real []int
	for f, w := range weights {
		if w == 1 {
			real = append(real, f)
			realX = append(realX, x[f*frame:(f+1)*frame]...)
			realW = append(realW, costW[f*frame:(f+1)*frame]...)
		}
	}
	scale, offset := []float64{1.5, -0.5, 2}, []float64{0.1, 0.2, -0.3}
	padded := newBNGraph(t, tensor.Float64, x, shape(n), scale, offset, weights, costW)
	alone := newBNGraph(t, tensor.Float64, realX, shape(len(real)), scale, offset, nil, realW)
	for run := range 2 {
		y, dx, dScale, dOffset := padded.run(t)
		ry, rdx, rdScale, rdOffset := alone.run(t)
		close := func(what string, got, want []float64) {
			t.Helper()
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("run %d: %s[%d] = %v with padding frames, %v without", run, what, i, got[i], want[i])
				}
			}
		}
		for i, f := range real {
			close("y", y[f*frame:(f+1)*frame], ry[i*frame:(i+1)*frame])
			close("dx", dx[f*frame:(f+1)*frame], rdx[i*frame:(i+1)*frame])
		}
		close("dScale", dScale, rdScale)
		close("dOffset", dOffset, rdOffset)
		close("running mean", padded.state.Mean, alone.state.Mean)
		close("running variance", padded.state.Variance, alone.state.Variance)
		// A padding frame is normalized with the real frames' statistics
		// and, with no part in the cost, gets no gradient.
		for f, w := range weights {
			if w == 1 {
				continue
			}
			for i := f * frame; i < (f+1)*frame; i++ {
				k := (i / inner) % c
				mu, v := meanVar(realX, c, inner, k)
				if want := scale[k]*(x[i]-mu)/math.Sqrt(v+1e-5) + offset[k]; math.Abs(y[i]-want) > 1e-9*math.Abs(want) {
					t.Fatalf("padding frame %d: y[%d] = %v, want %v", f, i, y[i], want)
				}
				if dx[i] != 0 {
					t.Fatalf("padding frame %d: dx[%d] = %v, want 0", f, i, dx[i])
				}
			}
		}
	}
}

// meanVar returns the mean and biased variance of channel k of xs, frames of
// c channels of inner values.
func meanVar(xs []float64, c, inner, k int) (mean, variance float64) {
	var vals []float64
	for i, v := range xs {
		if (i/inner)%c == k {
			vals = append(vals, v)
		}
	}
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	for _, v := range vals {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(vals))
}

func TestBatchNormRunningStatistics(t *testing.T) {
	// Two frames of 2 channels of 1×2. Run 1: channel 0 holds 1, 2, 3, 6
	// (mean 3, squared deviations 14), channel 1 holds 10, 10, 14, 10
	// (mean 11, squared deviations 12).
	x1 := []float64{1, 2, 10, 10, 3, 6, 14, 10}
	// Run 2: channel 0 holds 0, 0, 2, 2 (mean 1, squared deviations 4),
	// channel 1 holds -1, 1, -1, 1 (mean 0, squared deviations 4).
	x2 := []float64{0, 0, -1, 1, 2, 2, -1, 1}
	shape := []int{2, 2, 1, 2}
	scale, offset := []float64{2, 0.5}, []float64{1, -1}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		b := newBNGraph(t, dt, x1, shape, scale, offset, nil, make([]float64, 8))
		tol := 1e-15
		if dt == tensor.Float32 {
			tol = 1e-6
		}
		check := func(what string, got, want []float64) {
			t.Helper()
			for i := range want {
				if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("%v: %s = %v, want %v", dt, what, got, want)
				}
			}
		}
		b.run(t)
		// running = 0.9·running + 0.1·batch, from mean 0 and variance 1,
		// with the unbiased variances 14/3 and 12/3.
		check("mean after run 1", b.state.Mean, []float64{0.1 * 3, 0.1 * 11})
		check("variance after run 1", b.state.Variance, []float64{0.9 + 0.1*14/3, 0.9 + 0.1*12/3})

		copyInto(b.x.Value().(*tensor.Dense), x2)
		y, _, _, _ := b.run(t)
		wantMean := []float64{0.9*0.3 + 0.1*1, 0.9*1.1 + 0.1*0}
		wantVar := []float64{0.9*(0.9+0.1*14/3) + 0.1*4/3, 0.9*(0.9+0.1*12/3) + 0.1*4/3}
		check("mean after run 2", b.state.Mean, wantMean)
		check("variance after run 2", b.state.Variance, wantVar)
		// Training normalizes with the batch's biased variance, 1 for both
		// channels.
		s := 1 / math.Sqrt(1+1e-5)
		check("training output", y, []float64{
			2*(0-1)*s + 1, 2*(0-1)*s + 1, 0.5*(-1)*s - 1, 0.5*s - 1,
			2*(2-1)*s + 1, 2*(2-1)*s + 1, 0.5*(-1)*s - 1, 0.5*s - 1,
		})

		// Inference uses the running statistics and leaves them alone.
		b.phase.SetInference(true)
		y, _, _, _ = b.run(t)
		check("mean after inference", b.state.Mean, wantMean)
		check("variance after inference", b.state.Variance, wantVar)
		want := make([]float64, 8)
		for i, v := range x2 {
			k := (i / 2) % 2
			want[i] = scale[k]*(v-wantMean[k])/math.Sqrt(wantVar[k]+1e-5) + offset[k]
		}
		check("inference output", y, want)
	}
}

func TestBatchNormParamsAndErrors(t *testing.T) {
	p, err := NewParams(tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	g := gorgonia.NewGraph()
	scale, offset, err := NewBatchNormParams(g, p, "bn", 3)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"bn/Scale": 1, "bn/Offset": 0} {
		for _, v := range p.Values(name) {
			if v != want {
				t.Fatalf("%s = %v, want all %v", name, p.Values(name), want)
			}
		}
	}
	if _, _, err := NewBatchNormParams(g, p, "bn", 4); err == nil {
		t.Error("asking for bn with 4 channels after 3: no error")
	}
	state, err := NewBatchNormState(3)
	if err != nil {
		t.Fatal(err)
	}
	if state.MeanDecay != 0.1 || state.VarianceDecay != 0.1 || state.Epsilon != 1e-5 || state.Mean[2] != 0 || state.Variance[2] != 1 {
		t.Errorf("new state %+v is not MATLAB's default", state)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := randMatrix(g, rng, "x", 2, 3, 2, 2)
	short, _ := NewBatchNormState(2)
	if _, err := BatchNorm(x, scale, offset, short, nil, nil); err == nil {
		t.Error("state of 2 channels for 3: no error")
	}
	if _, err := BatchNorm(x, scale, offset, state, nil, randMatrix(g, rng, "w", 3)); err == nil {
		t.Error("3 frame weights for 2 frames: no error")
	}
	if _, err := BatchNorm(randMatrix(g, rng, "v", 6), scale, offset, state, nil, nil); err == nil {
		t.Error("vector input: no error")
	}

	// Weights other than 0 and 1, and batches of fewer than 2 values per
	// channel, are run-time errors.
	for _, c := range []struct {
		name    string
		shape   []int
		weights []float64
	}{
		{"weight 0.5", []int{2, 3}, []float64{1, 0.5}},
		{"one real value per channel", []int{2, 3}, []float64{0, 1}},
		{"no real frame", []int{2, 3, 2, 2}, []float64{0, 0}},
	} {
		g := gorgonia.NewGraph()
		x := randMatrix(g, rng, "x", c.shape...)
		sc, off := randMatrix(g, rng, "scale", 3), randMatrix(g, rng, "offset", 3)
		w := gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(c.weights)), gorgonia.WithName("w"))
		st, _ := NewBatchNormState(3)
		if _, err := BatchNorm(x, sc, off, st, nil, w); err != nil {
			t.Fatal(err)
		}
		vm, err := NewTapeMachine(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err == nil {
			t.Errorf("%s: no error", c.name)
		}
		vm.Close()
	}
}
