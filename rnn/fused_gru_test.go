package rnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// gruUnrollFunc is Unroll or UnrollGRU.
type gruUnrollFunc func(cell *GRU, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error)

func unrollGRUGates(cell *GRU, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	return Unroll(cell, xs, opts...)
}

var resetModes = []ResetGateMode{AfterMultiplication, BeforeMultiplication}

// mixedPadding returns masks for 4 sequences of 5 steps: right-padded,
// left-padded, full, and padded on both sides.
func mixedPadding() [][]float64 {
	return [][]float64{{1, 0, 1, 0}, {1, 0, 1, 1}, {1, 1, 1, 1}, {0, 1, 1, 1}, {0, 1, 1, 0}}
}

// paddingAtBothEnds returns masks for 2 sequences of 7 steps with steps of
// padding only at the start, inside and at the end.
func paddingAtBothEnds() [][]float64 {
	return [][]float64{{0, 0}, {1, 0}, {0, 0}, {0, 1}, {1, 1}, {0, 0}, {0, 0}}
}

// gruCases are the layers on which the fused path must equal the gate-node
// path: the LSTM's cases (every option a GRU takes too) and mixed padding.
func gruCases() []lstmCase {
	return append(lstmCases(),
		lstmCase{name: "mixed padding sequence", steps: 5, b: 4, mode: Sequence, mask: mixedPadding()},
		lstmCase{name: "mixed padding last", steps: 5, b: 4, mode: Last, mask: mixedPadding()},
		lstmCase{name: "reverse mixed padding sequence", steps: 5, b: 4, mode: Sequence, reverse: true, mask: mixedPadding()},
		lstmCase{name: "reverse mixed padding last", steps: 5, b: 4, mode: Last, reverse: true, mask: mixedPadding()},
		// Steps of padding only at both ends and inside: the fused layer
		// leaves those at the ends out of its whole-sequence products.
		lstmCase{name: "padding only at both ends and inside", steps: 7, b: 2, mode: Sequence, mask: paddingAtBothEnds()},
		lstmCase{name: "reverse padding only at both ends and inside", steps: 7, b: 2, mode: Last, reverse: true, mask: paddingAtBothEnds()},
	)
}

// gruGraph is a case built in a graph: the cost Σ w⊙(every output and the
// final state) with fixed random weights, and the nodes it is
// differentiated against.
type gruGraph struct {
	g    *gorgonia.ExprGraph
	u    *Unrolled
	cell *GRU
	cost *gorgonia.Node
	wrt  gorgonia.Nodes
}

// caseDraws returns a generator of values in U(-1, 1) that two builds of a
// case draw in the same order, so that they hold the same values; with
// round32 the values are rounded to float32, so that a float64 build
// computes from exactly the values of a float32 one.
func caseDraws(round32 bool) func(n int) []float64 {
	rng := rand.New(rand.NewPCG(3, 5))
	return func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 2*rng.Float64() - 1
			if round32 {
				v[i] = float64(float32(v[i]))
			}
		}
		return v
	}
}

// caseInput returns an input node of dtype dt holding v.
func caseInput(g *gorgonia.ExprGraph, dt tensor.Dtype, name string, v []float64, shape ...int) *gorgonia.Node {
	var d *tensor.Dense
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		d = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	} else {
		d = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	return gorgonia.NodeFromAny(g, d, gorgonia.WithName(name))
}

// caseMasks returns the mask nodes of m, nil for none.
func caseMasks(g *gorgonia.ExprGraph, dt tensor.Dtype, m [][]float64) []*gorgonia.Node {
	if m == nil {
		return nil
	}
	masks := make([]*gorgonia.Node, len(m))
	for i := range masks {
		masks[i] = caseInput(g, dt, fmt.Sprintf("mask/t%d", i), m[i], len(m[i]))
	}
	return masks
}

// weighCost returns Σ_k Σ w_k⊙n_k with weights drawn from draw.
func weighCost(t testing.TB, g *gorgonia.ExprGraph, dt tensor.Dtype, draw func(int) []float64, ns []*gorgonia.Node) *gorgonia.Node {
	t.Helper()
	var cost *gorgonia.Node
	for i, n := range ns {
		w := caseInput(g, dt, fmt.Sprintf("cost/w%d", i), draw(n.Shape().TotalSize()), n.Shape()...)
		s, err := gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(n, w)))
		if err != nil {
			t.Fatal(err)
		}
		if cost == nil {
			cost = s
		} else {
			cost = gorgonia.Must(gorgonia.Add(cost, s))
		}
	}
	return cost
}

// buildGRUCase builds c with a GRU in reset gate mode rm, in a new graph of
// dtype dt, with unroll.
func buildGRUCase(t testing.TB, c lstmCase, rm ResetGateMode, dt tensor.Dtype, round32 bool, unroll gruUnrollFunc) *gruGraph {
	t.Helper()
	return buildGRUCaseOfSize(t, c, rm, dt, round32, unroll, caseF, caseH)
}

// buildGRUCaseOfSize is buildGRUCase for a GRU of the given numbers of
// input features and hidden units.
func buildGRUCaseOfSize(t testing.TB, c lstmCase, rm ResetGateMode, dt tensor.Dtype, round32 bool, unroll gruUnrollFunc, features, hidden int) *gruGraph {
	t.Helper()
	draw := caseDraws(round32)
	g := gorgonia.NewGraph()
	p, err := nodes.NewParams(dt, 1)
	if err != nil {
		t.Fatal(err)
	}
	cell, err := NewGRU(g, p, "gru", features, hidden, append([]Option{WithResetGateMode(rm)}, c.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range p.Names() {
		if err := p.Set(name, draw(len(p.Values(name)))); err != nil {
			t.Fatal(err)
		}
	}
	xs := make([]*gorgonia.Node, c.steps)
	for i := range xs {
		xs[i] = caseInput(g, dt, fmt.Sprintf("x/t%d", i), draw(c.b*features), c.b, features)
	}
	opts := []UnrollOption{WithOutputMode(c.mode)}
	if !c.zeroStates {
		opts = append(opts, WithInitialState(State{caseInput(g, dt, "h0", draw(c.b*hidden), c.b, hidden)}))
	}
	if c.mask != nil {
		opts = append(opts, WithMask(caseMasks(g, dt, c.mask)))
	}
	if c.reverse {
		opts = append(opts, WithReverse())
	}
	u, err := unroll(cell, xs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	cost := weighCost(t, g, dt, draw, append(append([]*gorgonia.Node{}, u.Outputs...), u.Final...))
	wrt := append(append(cell.Learnables(), xs...), u.Initial...)
	return &gruGraph{g: g, u: u, cell: cell, cost: cost, wrt: wrt}
}

// runGraph differentiates cost, runs the graph twice (the second run reuses
// every buffer of the first) and returns, by name, the values of reads, the
// cost and the gradient of every node of wrt.
func runGraph(t testing.TB, g *gorgonia.ExprGraph, cost *gorgonia.Node, wrt gorgonia.Nodes, reads map[string]*gorgonia.Node) map[string][]float64 {
	t.Helper()
	if _, err := gorgonia.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	values := map[string]*gorgonia.Value{}
	for name, n := range reads {
		v := new(gorgonia.Value)
		gorgonia.Read(n, v)
		values[name] = v
	}
	v := new(gorgonia.Value)
	gorgonia.Read(cost, v)
	values["cost"] = v
	vm, err := nodes.NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	var first map[string][]float64
	for range 2 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := map[string][]float64{}
		for name, v := range values {
			got[name] = floats(*v)
		}
		for _, n := range wrt {
			d, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			got["d"+n.Name()] = floats(d)
			// The tape machine adds each run's gradient to the last.
			d.(*tensor.Dense).Zero()
		}
		vm.Reset()
		if first == nil {
			first = got
			continue
		}
		compareRuns(t, "second run", got, first, 0)
	}
	return first
}

func (gg *gruGraph) run(t testing.TB) map[string][]float64 {
	t.Helper()
	reads := map[string]*gorgonia.Node{"final hidden": gg.u.Final[0]}
	for i, n := range gg.u.Outputs {
		reads[fmt.Sprintf("output %d", i)] = n
	}
	return runGraph(t, gg.g, gg.cost, gg.wrt, reads)
}

func TestUnrollGRUMatchesUnroll(t *testing.T) {
	worst := 0.0
	for _, rm := range resetModes {
		for _, c := range gruCases() {
			t.Run(rm.String()+"/"+c.name, func(t *testing.T) {
				want := buildGRUCase(t, c, rm, tensor.Float64, false, unrollGRUGates).run(t)
				fused := buildGRUCase(t, c, rm, tensor.Float64, false, UnrollGRU)
				d := compareRuns(t, "fused", fused.run(t), want, 1e-12)
				t.Logf("largest difference %.2g", d)
				worst = math.Max(worst, d)
				if c.zeroStates {
					if n := fused.u.Initial[0].Name(); n != "gru/initial/hidden" {
						t.Errorf("initial state is called %q", n)
					}
				}
			})
		}
	}
	t.Logf("largest difference over every case %.2g", worst)
}

// TestUnrollGRUPaddingChangesBetweenRuns runs a fused layer first without
// padding, then, on the same graph and buffers, with steps of padding only
// (at both ends and inside, or everywhere: a batch on a step bucket's
// graph), and compares the second run to the gate-node path: the rows of
// the gradients that the layer leaves out of its products must not keep
// the first run's values.
func TestUnrollGRUPaddingChangesBetweenRuns(t *testing.T) {
	const steps, b = 7, 2
	for _, rm := range resetModes {
		for _, reverse := range []bool{false, true} {
			for _, second := range []struct {
				name string
				mask [][]float64
			}{
				{"both ends and inside", paddingAtBothEnds()},
				{"padding only", rightPadded(steps, 0, 0)},
			} {
				name := rm.String() + "/" + second.name
				if reverse {
					name += "/reverse"
				}
				t.Run(name, func(t *testing.T) {
					c := lstmCase{steps: steps, b: b, mode: Sequence, reverse: reverse, mask: rightPadded(steps, steps, steps)}
					fused := buildGRUCase(t, c, rm, tensor.Float64, false, UnrollGRU)
					c.mask = second.mask
					want := buildGRUCase(t, c, rm, tensor.Float64, false, unrollGRUGates).run(t)
					setMasks := func() {
						for i, m := range c.mask {
							ns := fused.g.ByName(fmt.Sprintf("mask/t%d", i))
							if len(ns) != 1 {
								t.Fatalf("%d nodes called mask/t%d", len(ns), i)
							}
							copy(ns[0].Value().Data().([]float64), m)
						}
					}
					got := runGraphTwice(t, fused, setMasks)
					t.Logf("largest difference %.2g", compareRuns(t, "fused, second run", got, want, 1e-12))
				})
			}
		}
	}
}

// runGraphTwice runs gg's graph twice on one tape machine, calling between
// before the second run, and returns the values of that run.
func runGraphTwice(t testing.TB, gg *gruGraph, between func()) map[string][]float64 {
	t.Helper()
	return runTwice(t, gg.g, gg.u, gg.cost, gg.wrt, between)
}

// runTwice runs the graph g of the unrolled layer u twice on one tape
// machine, calling between before the second run, and returns the outputs,
// final states, cost and gradients with respect to wrt of that run.
func runTwice(t testing.TB, g *gorgonia.ExprGraph, u *Unrolled, cost *gorgonia.Node, wrt gorgonia.Nodes, between func()) map[string][]float64 {
	t.Helper()
	if _, err := gorgonia.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	reads := map[string]*gorgonia.Node{"cost": cost}
	for i, n := range u.Final {
		reads[[]string{"final hidden", "final cell"}[i]] = n
	}
	for i, n := range u.Outputs {
		reads[fmt.Sprintf("output %d", i)] = n
	}
	values := map[string]*gorgonia.Value{}
	for name, n := range reads {
		v := new(gorgonia.Value)
		gorgonia.Read(n, v)
		values[name] = v
	}
	vm, err := nodes.NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	got := map[string][]float64{}
	for run := range 2 {
		if run == 1 {
			between()
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for name, v := range values {
			got[name] = floats(*v)
		}
		for _, n := range wrt {
			d, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			got["d"+n.Name()] = floats(d)
			// The tape machine adds each run's gradient to the last.
			d.(*tensor.Dense).Zero()
		}
		vm.Reset()
	}
	return got
}

// TestUnrollGRUMatchesUnrollAtSize compares the paths on a layer large
// enough for the GEMM to block and pack its operands, among them the
// strided column blocks of the pre-activations and of Rᵀ that the fused
// layer hands it.
func TestUnrollGRUMatchesUnrollAtSize(t *testing.T) {
	const f, h = 13, 37
	for _, rm := range resetModes {
		for _, c := range []lstmCase{
			{name: "mixed padding sequence", steps: 5, b: 4, mode: Sequence, mask: mixedPadding()},
			{name: "reverse last", steps: 6, b: 17, mode: Last, reverse: true},
		} {
			t.Run(rm.String()+"/"+c.name, func(t *testing.T) {
				want := buildGRUCaseOfSize(t, c, rm, tensor.Float64, false, unrollGRUGates, f, h).run(t)
				got := buildGRUCaseOfSize(t, c, rm, tensor.Float64, false, UnrollGRU, f, h).run(t)
				t.Logf("largest difference %.2g", compareRuns(t, "fused", got, want, 1e-12))
				want = buildGRUCaseOfSize(t, c, rm, tensor.Float32, false, unrollGRUGates, f, h).run(t)
				got = buildGRUCaseOfSize(t, c, rm, tensor.Float32, false, UnrollGRU, f, h).run(t)
				t.Logf("largest difference in float32 %.2g", compareRuns(t, "fused float32", got, want, 1e-4))
			})
		}
	}
}

// TestUnrollGRUNodes checks the nodes UnrollGRU returns: the output after
// the last timestep read is the final hidden state, as with Unroll.
func TestUnrollGRUNodes(t *testing.T) {
	for _, c := range []lstmCase{
		{name: "forward", steps: 4, b: 2, mode: Sequence},
		{name: "reverse", steps: 4, b: 2, mode: Sequence, reverse: true},
		{name: "last", steps: 4, b: 2, mode: Last},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := buildGRUCase(t, c, AfterMultiplication, tensor.Float64, false, UnrollGRU).u
			last := len(u.Outputs) - 1
			if c.reverse {
				last = 0
			}
			if u.Outputs[last] != u.Final[0] {
				t.Errorf("output %d is not the final hidden state", last)
			}
			if len(u.Final) != 1 || len(u.Initial) != 1 {
				t.Errorf("%d final and %d initial state parts, want 1", len(u.Final), len(u.Initial))
			}
			if u.Node("gru/t0/update") != nil || len(u.Record()) != 0 || len(u.NodeNames()) != 0 {
				t.Error("the fused path names nodes")
			}
		})
	}
}

func TestUnrollGRUGradientsAgainstFiniteDifferences(t *testing.T) {
	for _, rm := range resetModes {
		for _, c := range []lstmCase{
			{name: "sequence", steps: 5, b: 3, mode: Sequence},
			{name: "last", steps: 5, b: 3, mode: Last},
			{name: "mixed padding sequence", steps: 5, b: 4, mode: Sequence, mask: mixedPadding()},
			{name: "reverse mixed padding last", steps: 5, b: 4, mode: Last, reverse: true, mask: mixedPadding()},
			{name: "fractional mask", steps: 4, b: 3, mode: Sequence, mask: [][]float64{{1, 0.25, 0}, {0.5, 1, 1}, {1, 0, 0.75}, {0, 1, 1}}},
			{name: "zero initial state last", steps: 4, b: 2, mode: Last, zeroStates: true},
			{name: "relu state softsign gate", steps: 5, b: 3, mode: Sequence, opts: []Option{WithStateActivation(nodes.ReLU), WithGateActivation(nodes.Softsign)}},
		} {
			t.Run(rm.String()+"/"+c.name, func(t *testing.T) {
				gg := buildGRUCase(t, c, rm, tensor.Float64, false, UnrollGRU)
				worst, err := nodes.CheckGradients(gg.cost, gg.wrt, 1e-6, 1e-3)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("worst element: %v", worst)
				if worst.Relative > 1e-6 {
					t.Errorf("worst element: %v", worst)
				}
			})
		}
	}
}

// TestUnrollGRUFloat32 checks a float32 layer against a float64 one that
// starts from the same (float32) values, and against the float32 gate-node
// path.
func TestUnrollGRUFloat32(t *testing.T) {
	for _, rm := range resetModes {
		for _, c := range []lstmCase{
			{name: "sequence", steps: 5, b: 3, mode: Sequence},
			{name: "mixed padding last", steps: 5, b: 4, mode: Last, mask: mixedPadding()},
			{name: "reverse mixed padding", steps: 5, b: 4, mode: Sequence, reverse: true, mask: mixedPadding()},
		} {
			t.Run(rm.String()+"/"+c.name, func(t *testing.T) {
				want := buildGRUCase(t, c, rm, tensor.Float64, true, UnrollGRU).run(t)
				got := buildGRUCase(t, c, rm, tensor.Float32, true, UnrollGRU).run(t)
				t.Logf("largest difference from float64 %.2g", compareRuns(t, "float32", got, want, 1e-4))
				gates := buildGRUCase(t, c, rm, tensor.Float32, true, unrollGRUGates).run(t)
				t.Logf("largest difference from the float32 gate-node path %.2g", compareRuns(t, "float32 gate-node path", got, gates, 1e-4))
			})
		}
	}
}

// biGRUCase is a bidirectional GRU layer over one random batch.
type biGRUCase struct {
	merge    MergeMode
	mode     OutputMode
	fwd, bwd ResetGateMode
	mask     [][]float64
}

func buildBiGRU(t testing.TB, c biGRUCase, fused bool) (g *gorgonia.ExprGraph, cost *gorgonia.Node, wrt gorgonia.Nodes, reads map[string]*gorgonia.Node) {
	t.Helper()
	const steps, b = 5, 4
	draw := caseDraws(false)
	g = gorgonia.NewGraph()
	p, err := nodes.NewParams(tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := NewGRU(g, p, "bi/forward", caseF, caseH, WithResetGateMode(c.fwd))
	if err != nil {
		t.Fatal(err)
	}
	bwd, err := NewGRU(g, p, "bi/backward", caseF, caseH, WithResetGateMode(c.bwd))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range p.Names() {
		if err := p.Set(name, draw(len(p.Values(name)))); err != nil {
			t.Fatal(err)
		}
	}
	xs := make([]*gorgonia.Node, steps)
	for i := range xs {
		xs[i] = caseInput(g, tensor.Float64, fmt.Sprintf("x/t%d", i), draw(b*caseF), b, caseF)
	}
	opts := []UnrollOption{WithOutputMode(c.mode)}
	if c.mask != nil {
		opts = append(opts, WithMask(caseMasks(g, tensor.Float64, c.mask)))
	}
	var u *BiUnrolled
	if fused {
		u, err = UnrollBidirectionalGRU(fwd, bwd, xs, c.merge, opts...)
	} else {
		u, err = UnrollBidirectional(fwd, bwd, xs, c.merge, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	ns := append(append(append([]*gorgonia.Node{}, u.Outputs...), u.Forward.Final...), u.Backward.Final...)
	cost = weighCost(t, g, tensor.Float64, draw, ns)
	wrt = append(append(append(append(fwd.Learnables(), bwd.Learnables()...), xs...), u.Forward.Initial...), u.Backward.Initial...)
	reads = map[string]*gorgonia.Node{"forward final": u.Forward.Final[0], "backward final": u.Backward.Final[0]}
	for i, n := range u.Outputs {
		reads[fmt.Sprintf("output %d", i)] = n
	}
	return g, cost, wrt, reads
}

func TestUnrollBidirectionalGRUMatchesUnrollBidirectional(t *testing.T) {
	var cases []biGRUCase
	for _, merge := range []MergeMode{Concat, Sum, Mean, Product} {
		for _, mode := range []OutputMode{Sequence, Last} {
			cases = append(cases, biGRUCase{merge, mode, AfterMultiplication, AfterMultiplication, mixedPadding()})
		}
	}
	cases = append(cases,
		biGRUCase{Concat, Sequence, BeforeMultiplication, BeforeMultiplication, nil},
		biGRUCase{Concat, Last, BeforeMultiplication, BeforeMultiplication, mixedPadding()},
		biGRUCase{Sum, Sequence, AfterMultiplication, BeforeMultiplication, mixedPadding()},
		biGRUCase{Concat, Last, BeforeMultiplication, AfterMultiplication, nil},
	)
	worst := 0.0
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%v/%v-%v/masked=%t", c.merge, c.mode, c.fwd, c.bwd, c.mask != nil), func(t *testing.T) {
			g, cost, wrt, reads := buildBiGRU(t, c, false)
			want := runGraph(t, g, cost, wrt, reads)
			g, cost, wrt, reads = buildBiGRU(t, c, true)
			got := runGraph(t, g, cost, wrt, reads)
			d := compareRuns(t, "fused", got, want, 1e-12)
			t.Logf("largest difference %.2g", d)
			worst = math.Max(worst, d)
		})
	}
	t.Logf("largest difference over every case %.2g", worst)
}

// TestGRUMatchesPyTorchOnTheFusedPath runs PyTorch's nn.GRU fixtures (reset
// gate after multiplication) through UnrollGRU, as TestGRUMatchesPyTorch
// does through Unroll.
func TestGRUMatchesPyTorchOnTheFusedPath(t *testing.T) {
	for _, fx := range loadFixtures(t, "cell_fixtures.json", "gru") {
		t.Run(fx.name(t), func(t *testing.T) {
			F, H, B, T := fx.int(t, "F"), fx.int(t, "H"), fx.int(t, "B"), fx.int(t, "T")
			pt := newParity(t)
			params := newTestParams(t)
			cell, err := NewGRU(pt.g, params, "gru", F, H)
			if err != nil {
				t.Fatal(err)
			}
			setParams(t, params, map[string][]float64{
				"gru/InputWeights": fx.floats(t, "W"), "gru/RecurrentWeights": fx.floats(t, "R"),
				"gru/Bias": fx.floats(t, "b"), "gru/RecurrentBias": fx.floats(t, "bR"),
			})
			xs := pt.inputs(fx.floats(t, "x"), B, T, F)
			h0 := matrix(pt.g, "h0", B, H, fx.floats(t, "h0"))
			u, err := UnrollGRU(cell, xs, WithInitialState(State{h0}))
			if err != nil {
				t.Fatal(err)
			}
			y, gy, dx := fx.floats(t, "y"), fx.floats(t, "gy"), fx.floats(t, "dx")
			for i, out := range u.Outputs {
				pt.weigh(out, atTime(gy, B, T, H, i))
				pt.value(fmt.Sprintf("y at t=%d", i), out, atTime(y, B, T, H, i), nil)
				pt.grad(fmt.Sprintf("dx at t=%d", i), xs[i], atTime(dx, B, T, F, i))
			}
			pt.weigh(u.Final[0], fx.floats(t, "gh"))
			pt.value("hT", u.Final[0], fx.floats(t, "hT"), nil)
			pt.grad("dh0", h0, fx.floats(t, "dh0"))
			for name, n := range map[string]*gorgonia.Node{"dW": cell.W, "dR": cell.R, "db": cell.B, "dbR": cell.RB} {
				pt.grad(name, n, fx.floats(t, name))
			}
			var loss float64
			fx.get(t, "loss", &loss)
			pt.run(append(append(cell.Learnables(), h0), xs...), loss)
		})
	}
}

func TestUnrollGRURejectsBadInput(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	c, err := NewGRU(g, p, "gru1", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	before, err := NewGRU(g, p, "gru2", 2, 3, WithResetGateMode(BeforeMultiplication))
	if err != nil {
		t.Fatal(err)
	}
	noBias := *c
	noBias.RB = nil
	extraBias := *before
	extraBias.RB = c.RB
	good := sequenceInputs(g, rng, 3, 2, 2)
	other := gorgonia.NewGraph()
	cases := []struct {
		name string
		cell *GRU
		xs   []*gorgonia.Node
		opts []UnrollOption
	}{
		{"nil cell", nil, good, nil},
		{"cell not made by NewGRU", &GRU{}, good, nil},
		{"no recurrent bias after multiplication", &noBias, good, nil},
		{"recurrent bias before multiplication", &extraBias, good, nil},
		{"no timesteps", c, nil, nil},
		{"nil input", c, []*gorgonia.Node{good[0], nil}, nil},
		{"wrong feature count", c, []*gorgonia.Node{good[0], randInput(g, rng, "bad", 2, 5)}, nil},
		{"batch size changes", c, []*gorgonia.Node{good[0], randInput(g, rng, "bad2", 3, 2)}, nil},
		{"inputs in another graph", c, sequenceInputs(other, rng, 3, 2, 2), nil},
		{"too few masks", c, good, []UnrollOption{WithMask([]*gorgonia.Node{randInput(g, rng, "m", 2)})}},
		{"mask of wrong length", before, good, []UnrollOption{WithMask([]*gorgonia.Node{randInput(g, rng, "m1", 3), randInput(g, rng, "m2", 3), randInput(g, rng, "m3", 3)})}},
		{"initial state of wrong width", c, good, []UnrollOption{WithInitialState(State{randInput(g, rng, "h", 2, 4)})}},
		{"initial state of two parts", c, good, []UnrollOption{WithInitialState(State{randInput(g, rng, "h1", 2, 3), randInput(g, rng, "c1", 2, 3)})}},
		{"bad output mode", c, good, []UnrollOption{WithOutputMode(OutputMode(9))}},
	}
	for _, tc := range cases {
		if _, err := UnrollGRU(tc.cell, tc.xs, tc.opts...); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if !strings.HasPrefix(err.Error(), "rnn: ") {
			t.Errorf("%s: error %q does not say where", tc.name, err)
		}
	}
	bad := []struct {
		name     string
		fwd, bwd *GRU
		opts     []UnrollOption
	}{
		{"nil forward cell", nil, before, nil},
		{"nil backward cell", c, nil, nil},
		{"one cell both ways", c, c, nil},
		{"reverse", c, before, []UnrollOption{WithReverse()}},
		{"initial state", c, before, []UnrollOption{WithInitialState(State{randInput(g, rng, "h2", 2, 3)})}},
		{"cell not made by NewGRU", c, &GRU{CellBase: CellBase{name: "x", in: 2, out: 3}}, nil},
	}
	for _, tc := range bad {
		if _, err := UnrollBidirectionalGRU(tc.fwd, tc.bwd, good, Concat, tc.opts...); err == nil {
			t.Errorf("bidirectional, %s: no error", tc.name)
		}
	}
}

// BenchmarkGRULayer times a forward and backward run of one GRU layer of
// 100 hidden units over a batch of 32 sequences of 12 features, with the
// cost Σ h_T, built from gate nodes (Unroll) or fused (UnrollGRU), in both
// reset gate modes. The graph is compiled once; every iteration is one
// RunAll and Reset.
func BenchmarkGRULayer(b *testing.B) {
	for _, path := range []struct {
		name   string
		unroll gruUnrollFunc
	}{{"gates", unrollGRUGates}, {"fused", UnrollGRU}} {
		for _, rm := range resetModes {
			for _, steps := range []int{30, 100} {
				for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
					b.Run(fmt.Sprintf("%s/%v/T=%d/%v", path.name, rm, steps, dt), func(b *testing.B) {
						benchmarkLayer(b, dt, steps, func(g *gorgonia.ExprGraph, p *nodes.Params, xs []*gorgonia.Node) (Cell, *Unrolled, error) {
							cell, err := NewGRU(g, p, "gru", benchFeatures, benchHidden, WithResetGateMode(rm))
							if err != nil {
								return nil, nil, err
							}
							u, err := path.unroll(cell, xs, WithOutputMode(Last))
							return cell, u, err
						})
					})
				}
			}
		}
	}
}
