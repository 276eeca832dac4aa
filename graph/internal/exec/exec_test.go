package exec

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// testGraph is a graph of a cell unrolled over a random batch, with a
// loss that reads every kind of op the executor computes.
type testGraph struct {
	g       *gorgonia.ExprGraph
	loss    *gorgonia.Node
	wrt     gorgonia.Nodes
	outputs []*gorgonia.Node
}

// newInput returns an input node of the given shape with values drawn
// from rng, or set by fill when it is not nil.
func newInput(g *gorgonia.ExprGraph, dt tensor.Dtype, name string, rng *rand.Rand, fill func(i int) float64, shape ...int) *gorgonia.Node {
	v := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	for i := range v.Shape().TotalSize() {
		x := rng.Float64()*2 - 1
		if fill != nil {
			x = fill(i)
		}
		if dt == tensor.Float64 {
			v.Float64s()[i] = x
		} else {
			v.Float32s()[i] = float32(x)
		}
	}
	return gorgonia.NodeFromAny(g, v, gorgonia.WithName(name))
}

// buildTestGraph unrolls the cell newCell over steps timesteps of a batch of
// 3 with a mask (the last sequence padded, the middle one half-weighted at
// one step, to reach Masked's blend), in both directions, and adds a loss
// through ConcatColumns, Rows, Affine, LogSoftmax, CrossEntropy, Sub,
// Square, Exp and Sum.
func buildTestGraph(t testing.TB, dt tensor.Dtype, steps int, newCell func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error)) *testGraph {
	t.Helper()
	const b, f, k = 3, 4, 3
	rng := rand.New(rand.NewPCG(3, 4))
	g := gorgonia.NewGraph()
	p, err := nodes.NewParams(dt, 5)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]*gorgonia.Node, steps)
	masks := make([]*gorgonia.Node, steps)
	for i := range xs {
		xs[i] = newInput(g, dt, fmt.Sprintf("x%d", i), rng, nil, b, f)
		masks[i] = newInput(g, dt, fmt.Sprintf("m%d", i), rng, func(r int) float64 {
			switch {
			case r == 2 && i >= steps-1:
				return 0
			case r == 1 && i == 1:
				return 0.5
			}
			return 1
		}, b)
	}
	fwd, err := newCell(g, p, "fwd")
	if err != nil {
		t.Fatal(err)
	}
	bwd, err := newCell(g, p, "bwd")
	if err != nil {
		t.Fatal(err)
	}
	u, err := rnn.UnrollBidirectional(fwd, bwd, xs, rnn.Concat, rnn.WithMask(masks), rnn.WithOutputMode(rnn.Last))
	if err != nil {
		t.Fatal(err)
	}
	h := u.Outputs[0]
	fc, err := nodes.NewFullyConnected(g, p, "fc", h.Shape()[1], k)
	if err != nil {
		t.Fatal(err)
	}
	// Values away from the initializations' zeros.
	for _, n := range append(append(fwd.Learnables(), bwd.Learnables()...), fc.Learnables()...) {
		if err := p.Set(n.Name(), randomValues(rng, n.Shape().TotalSize())); err != nil {
			t.Fatal(err)
		}
	}
	y := gorgonia.Must(fc.Apply(h))
	logp := gorgonia.Must(nodes.LogSoftmax(y))
	target := newInput(g, dt, "target", rng, func(i int) float64 { return float64(i % 2) }, b, k)
	ce := gorgonia.Must(nodes.CrossEntropy(logp, target))
	top := gorgonia.Must(nodes.Rows(y, 0, 2))
	sq := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(top, gorgonia.Must(gorgonia.Exp(top))))))))
	loss := gorgonia.Must(gorgonia.Add(ce, sq))
	wrt := append(append(fwd.Learnables(), bwd.Learnables()...), fc.Learnables()...)
	return &testGraph{g: g, loss: loss, wrt: wrt, outputs: append([]*gorgonia.Node{y}, u.Forward.Final...)}
}

func randomValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 0.8 * (rng.Float64()*2 - 1)
	}
	return v
}

// peephole and the other cells the tests unroll.
var testCells = []struct {
	name string
	cell func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error)
}{
	{"peephole", func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error) {
		return rnn.NewPeepholeLSTM(g, p, name, 4, 5)
	}},
	{"lstm", func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error) {
		return rnn.NewLSTM(g, p, name, 4, 5, rnn.WithGateActivation(nodes.Softsign))
	}},
	{"gru", func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error) {
		return rnn.NewGRU(g, p, name, 4, 5)
	}},
	{"gru-before", func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error) {
		return rnn.NewGRU(g, p, name, 4, 5, rnn.WithResetGateMode(rnn.BeforeMultiplication))
	}},
	{"elman-relu", func(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error) {
		return rnn.NewElman(g, p, name, 4, 5, rnn.WithStateActivation(nodes.ReLU))
	}},
	{"recurrent-first", newRecurrentFirst},
}

// recurrentFirst is an Elman cell whose sum takes h·Rᵀ before x·Wᵀ, so
// that the products of R come first in the executor's order and the
// hoisted products of W share R's stack of gradients in R's order:
// h_t = tanh(h_{t-1}·Rᵀ + x_t·Wᵀ + b).
type recurrentFirst struct {
	rnn.CellBase
	w, r, b *gorgonia.Node
}

func newRecurrentFirst(g *gorgonia.ExprGraph, p *nodes.Params, name string) (rnn.Cell, error) {
	base, err := rnn.NewCellBase(name, 4, 5)
	if err != nil {
		return nil, err
	}
	c := &recurrentFirst{CellBase: base}
	return c, c.Bind(g, p,
		rnn.NewLearnable(&c.w, "InputWeights", tensor.Shape{5, 4}, nodes.GlorotUniform(4, 5)),
		rnn.NewLearnable(&c.r, "RecurrentWeights", tensor.Shape{5, 5}, nodes.Orthogonal()),
		rnn.NewLearnable(&c.b, "Bias", tensor.Shape{5}, nodes.Zeros()))
}

func (c *recurrentFirst) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	hr := gorgonia.Must(nodes.MatMul(prev[0], c.r, false, true))
	xw := gorgonia.Must(nodes.MatMul(x, c.w, false, true))
	z := gorgonia.Must(nodes.AddBias(gorgonia.Must(gorgonia.Add(hr, xw)), c.b))
	return rnn.State{s.Name(c.Name(), "hidden", gorgonia.Must(nodes.Tanh.Apply(z)))}, nil
}

// reference returns the loss, outputs and gradients of tg computed by
// gorgonia.Grad's gradient graph on a tape machine.
func reference(t *testing.T, tg *testGraph) [][]float64 {
	t.Helper()
	grads, err := gorgonia.Grad(tg.loss, tg.wrt...)
	if err != nil {
		t.Fatal(err)
	}
	reads := make([]gorgonia.Value, len(grads)+len(tg.outputs)+1)
	for i, n := range append(append([]*gorgonia.Node{tg.loss}, tg.outputs...), grads...) {
		gorgonia.Read(n, &reads[i])
	}
	vm, err := nodes.NewTapeMachine(tg.g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return floats(reads)
}

func floats(vs []gorgonia.Value) [][]float64 {
	out := make([][]float64, len(vs))
	for i, v := range vs {
		switch x := v.Data().(type) {
		case float64:
			out[i] = []float64{x}
		case float32:
			out[i] = []float64{float64(x)}
		case []float64:
			out[i] = append([]float64(nil), x...)
		case []float32:
			for _, e := range x {
				out[i] = append(out[i], float64(e))
			}
		}
	}
	return out
}

// optimized compiles tg (training) and returns the same values as
// reference after two runs: the second must not see the first's values.
func optimized(t *testing.T, tg *testGraph) ([][]float64, *Program) {
	t.Helper()
	prog, err := Compile(tg.g, Spec{Targets: append([]*gorgonia.Node{tg.loss}, tg.outputs...), Loss: tg.loss, WRT: tg.wrt})
	if err != nil {
		t.Fatal(err)
	}
	var vals []gorgonia.Value
	for range 2 {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		vals = vals[:0]
		for i := range 1 + len(tg.outputs) {
			vals = append(vals, prog.Value(i))
		}
		for j := range tg.wrt {
			vals = append(vals, prog.Grad(j))
		}
	}
	return floats(vals), prog
}

// TestProgramEqualsGradientGraph compares the executor's loss, outputs and
// gradients with those of gorgonia.Grad's gradient graph run on a tape
// machine (the plain path, which the finite-difference and PyTorch tests
// check), in float64, to 1e-12, for cells unrolled both ways over masked
// batches into a loss that uses every op the executor computes.
func TestProgramEqualsGradientGraph(t *testing.T) {
	for _, c := range testCells {
		for _, steps := range []int{1, 4} {
			name := fmt.Sprintf("%s/T=%d", c.name, steps)
			tg := buildTestGraph(t, tensor.Float64, steps, c.cell)
			got, _ := optimized(t, tg)
			want := reference(t, tg)
			if len(got) != len(want) {
				t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
			}
			for i := range want {
				if len(got[i]) != len(want[i]) {
					t.Fatalf("%s: value %d has %d elements, want %d", name, i, len(got[i]), len(want[i]))
				}
				for j := range want[i] {
					if d := math.Abs(got[i][j] - want[i][j]); !(d <= 1e-12) {
						t.Errorf("%s: value %d[%d] = %v, gradient graph %v", name, i, j, got[i][j], want[i][j])
						break
					}
				}
			}
		}
	}
}

// TestPlanFusesAffine checks that the plan of an unrolled peephole LSTM
// takes the shortcuts docs/performance.md describes, and that a run
// allocates nothing: the input projection hoisted with its bias folded,
// h·Rᵀ accumulated into it, the weight gradients batched over the steps,
// sums' gradients aliased.
func TestPlanFusesAffine(t *testing.T) {
	const steps = 6
	tg := buildTestGraph(t, tensor.Float32, steps, testCells[0].cell)
	_, program := optimized(t, tg)
	p := program.impl.(*prog[float32])
	hoisted, batched, folded, accum, aliased, inPlace := 0, 0, 0, 0, 0, 0
	for _, g := range p.groups {
		if g.inPlace {
			inPlace++
		}
		if g.hoisted {
			hoisted++
		}
		if g.batched {
			batched++
		}
		if g.bias >= 0 {
			folded++
		}
	}
	for _, st := range p.steps {
		if st.accum >= 0 {
			accum++
		}
	}
	for i, r := range p.gradRep {
		if r != i {
			aliased++
		}
	}
	// Two directions: x·Wᵀ (hoisted, bias folded) and h·Rᵀ per direction,
	// all four batched, writing their output gradients in place; one
	// accumulated product per step and direction.
	if hoisted != 2 || batched != 4 || folded != 2 || accum != 2*steps || aliased < 4*steps || inPlace != 4 {
		t.Errorf("hoisted %d, batched %d, folded %d, accumulated %d, aliased %d, in place %d; want 2, 4, 2, %d, ≥ %d, 4",
			hoisted, batched, folded, accum, aliased, inPlace, 2*steps, 4*steps)
	}
	if n := testing.AllocsPerRun(5, func() {
		if err := program.Run(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a run allocates %v times", n)
	}
}

// TestCompileRejectsUnknownOps checks that a graph with an op the executor
// does not compute is refused with ErrUnsupported, so that it runs on the
// plain path.
func TestCompileRejectsUnknownOps(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 2))
	x := newInput(g, tensor.Float64, "x", rng, nil, 2, 3)
	y := gorgonia.Must(gorgonia.Tanh(x)) // Gorgonia's, not nodes'
	_, err := Compile(g, Spec{Targets: []*gorgonia.Node{y}})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

// BenchmarkProgram times a training run (forward and backward) of a
// peephole LSTM unrolled over 30 steps in both directions, batch 3, 4
// features, 5 units, float32: the executor's own cost, without a
// network's feeding and solver.
func BenchmarkProgram(b *testing.B) {
	tg := buildTestGraph(b, tensor.Float32, 30, testCells[0].cell)
	prog, err := Compile(tg.g, Spec{Targets: []*gorgonia.Node{tg.loss}, Loss: tg.loss, WRT: tg.wrt})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := prog.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile times Compile of that graph's training program at 30
// and 300 steps: the cost per step stays flat when compiling is linear.
func BenchmarkCompile(b *testing.B) {
	for _, steps := range []int{30, 300} {
		b.Run(fmt.Sprintf("T=%d", steps), func(b *testing.B) {
			tg := buildTestGraph(b, tensor.Float32, steps, testCells[0].cell)
			b.ResetTimer()
			for range b.N {
				if _, err := Compile(tg.g, Spec{Targets: []*gorgonia.Node{tg.loss}, Loss: tg.loss, WRT: tg.wrt}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*steps), "µs/timestep")
		})
	}
}

// TestPlanHoistsUpperLayers checks that the input projection of a layer
// stacked on another is one product too: its inputs, the lower layer's
// outputs, are all computed before its first step; and that the result
// still equals the gradient graph's.
func TestPlanHoistsUpperLayers(t *testing.T) {
	const b, f, h, steps = 2, 3, 4, 5
	rng := rand.New(rand.NewPCG(7, 8))
	g := gorgonia.NewGraph()
	p, err := nodes.NewParams(tensor.Float64, 3)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]*gorgonia.Node, steps)
	for i := range xs {
		xs[i] = newInput(g, tensor.Float64, fmt.Sprintf("x%d", i), rng, nil, b, f)
	}
	lower, err := rnn.NewElman(g, p, "lower", f, h)
	if err != nil {
		t.Fatal(err)
	}
	upper, err := rnn.NewPeepholeLSTM(g, p, "upper", h, h)
	if err != nil {
		t.Fatal(err)
	}
	ul, err := rnn.Unroll(lower, xs)
	if err != nil {
		t.Fatal(err)
	}
	uu, err := rnn.Unroll(upper, ul.Outputs, rnn.WithOutputMode(rnn.Last))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range append(lower.Learnables(), upper.Learnables()...) {
		if err := p.Set(n.Name(), randomValues(rng, n.Shape().TotalSize())); err != nil {
			t.Fatal(err)
		}
	}
	w := newInput(g, tensor.Float64, "w", rng, nil, b, h)
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(uu.Outputs[0], w))))
	tg := &testGraph{g: g, loss: loss, wrt: append(lower.Learnables(), upper.Learnables()...), outputs: uu.Outputs}
	got, program := optimized(t, tg)
	hoisted := 0
	for _, grp := range program.impl.(*prog[float64]).groups {
		if grp.hoisted {
			hoisted++
		}
	}
	if hoisted != 2 {
		t.Errorf("%d hoisted groups, want 2 (x·W of each layer)", hoisted)
	}
	want := reference(t, tg)
	for i := range want {
		for j := range want[i] {
			if d := math.Abs(got[i][j] - want[i][j]); !(d <= 1e-12) {
				t.Fatalf("value %d[%d] = %v, gradient graph %v", i, j, got[i][j], want[i][j])
			}
		}
	}
}
