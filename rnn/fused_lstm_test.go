package rnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// unrollFunc is Unroll or UnrollLSTM.
type unrollFunc func(cell *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error)

func unrollGates(cell *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	return Unroll(cell, xs, opts...)
}

// lstmCase is one LSTM layer over one random batch.
type lstmCase struct {
	name       string
	steps, b   int
	mode       OutputMode
	reverse    bool
	mask       [][]float64 // [T][B], nil for none
	zeroStates bool        // start from Unroll's zero-valued initial nodes
	opts       []Option
}

const caseF, caseH = 4, 3

// rightPadded returns masks where sequence b has lengths[b] real steps
// followed by padding; leftPadded puts the padding first.
func rightPadded(steps int, lengths ...int) [][]float64 {
	m := make([][]float64, steps)
	for t := range m {
		m[t] = make([]float64, len(lengths))
		for b, l := range lengths {
			if t < l {
				m[t][b] = 1
			}
		}
	}
	return m
}

func leftPadded(steps int, lengths ...int) [][]float64 {
	m := make([][]float64, steps)
	for t := range m {
		m[t] = make([]float64, len(lengths))
		for b, l := range lengths {
			if t >= steps-l {
				m[t][b] = 1
			}
		}
	}
	return m
}

// lstmCases are the layers on which the fused path must equal the
// gate-node path.
func lstmCases() []lstmCase {
	mixed := rightPadded(5, 3, 5, 1)
	mixed[0][2], mixed[1][2], mixed[4][2] = 0, 1, 1 // a gap inside sequence 2
	return []lstmCase{
		{name: "sequence", steps: 5, b: 3, mode: Sequence},
		{name: "last", steps: 5, b: 3, mode: Last},
		{name: "zero initial state", steps: 4, b: 2, mode: Sequence, zeroStates: true},
		{name: "right padded sequence", steps: 5, b: 3, mode: Sequence, mask: rightPadded(5, 3, 5, 1)},
		{name: "right padded last", steps: 5, b: 3, mode: Last, mask: rightPadded(5, 3, 5, 1)},
		{name: "left padded sequence", steps: 5, b: 3, mode: Sequence, mask: leftPadded(5, 2, 5, 4)},
		{name: "left padded last", steps: 5, b: 3, mode: Last, mask: leftPadded(5, 2, 5, 4)},
		{name: "gaps and an empty sequence", steps: 5, b: 4, mode: Sequence, mask: append(mixed[:0:0], [][]float64{
			{1, 1, 0, 0}, {1, 1, 1, 0}, {1, 1, 0, 0}, {0, 1, 0, 0}, {0, 1, 1, 0},
		}...)},
		{name: "fractional mask", steps: 4, b: 3, mode: Sequence, mask: [][]float64{{1, 0.25, 0}, {0.5, 1, 1}, {1, 0, 0.75}, {0, 1, 1}}},
		{name: "reverse sequence", steps: 5, b: 3, mode: Sequence, reverse: true},
		{name: "reverse last", steps: 5, b: 3, mode: Last, reverse: true},
		{name: "reverse right padded", steps: 5, b: 3, mode: Sequence, reverse: true, mask: rightPadded(5, 3, 5, 1)},
		{name: "reverse left padded last", steps: 5, b: 3, mode: Last, reverse: true, mask: leftPadded(5, 2, 5, 4)},
		{name: "one sequence", steps: 4, b: 1, mode: Sequence},
		{name: "one sequence masked", steps: 4, b: 1, mode: Last, mask: rightPadded(4, 2)},
		// Steps of padding only, which the fused layer skips, at the start,
		// the end and both ends read in reverse.
		{name: "leading steps of padding only", steps: 6, b: 2, mode: Sequence, mask: leftPadded(6, 3, 2)},
		{name: "trailing steps of padding only", steps: 6, b: 2, mode: Last, mask: rightPadded(6, 3, 2)},
		{name: "reverse steps of padding only", steps: 6, b: 2, mode: Sequence, reverse: true, mask: leftPadded(6, 2, 3)},
		{name: "padding only", steps: 3, b: 2, mode: Sequence, mask: [][]float64{{0, 0}, {0, 0}, {0, 0}}},
		{name: "one timestep", steps: 1, b: 3, mode: Sequence},
		{name: "one timestep masked last", steps: 1, b: 3, mode: Last, mask: [][]float64{{1, 0, 1}}},
		{name: "relu state softsign gate", steps: 5, b: 3, mode: Sequence, opts: []Option{WithStateActivation(nodes.ReLU), WithGateActivation(nodes.Softsign)}},
		{name: "sigmoid state tanh gate masked", steps: 5, b: 3, mode: Last, mask: rightPadded(5, 3, 5, 1), opts: []Option{WithStateActivation(nodes.Sigmoid), WithGateActivation(nodes.Tanh)}},
		{name: "softsign state relu gate reverse", steps: 5, b: 3, mode: Sequence, reverse: true, opts: []Option{WithStateActivation(nodes.Softsign), WithGateActivation(nodes.ReLU)}},
	}
}

// lstmGraph is a case built in a graph: the cost Σ w⊙(every output and
// final state) with fixed random weights, and the nodes it is
// differentiated against, by name.
type lstmGraph struct {
	g    *gorgonia.ExprGraph
	u    *Unrolled
	cell *LSTM
	cost *gorgonia.Node
	wrt  gorgonia.Nodes
}

// buildLSTMCase builds c in a new graph of dtype dt with unroll. Every value
// is drawn from one generator in a fixed order, so two builds of a case
// hold the same values; with round32 they are rounded to float32 first, so
// that a float64 build computes from exactly the values of a float32 one.
func buildLSTMCase(t testing.TB, c lstmCase, dt tensor.Dtype, round32 bool, unroll unrollFunc) *lstmGraph {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 5))
	draw := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 2*rng.Float64() - 1
			if round32 {
				v[i] = float64(float32(v[i]))
			}
		}
		return v
	}
	g := gorgonia.NewGraph()
	input := func(name string, v []float64, shape ...int) *gorgonia.Node {
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
	p, err := nodes.NewParams(dt, 1)
	if err != nil {
		t.Fatal(err)
	}
	cell, err := NewLSTM(g, p, "lstm", caseF, caseH, c.opts...)
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
		xs[i] = input(fmt.Sprintf("x/t%d", i), draw(c.b*caseF), c.b, caseF)
	}
	opts := []UnrollOption{WithOutputMode(c.mode)}
	var initial State
	if !c.zeroStates {
		initial = State{input("h0", draw(c.b*caseH), c.b, caseH), input("c0", draw(c.b*caseH), c.b, caseH)}
		opts = append(opts, WithInitialState(initial))
	}
	if c.mask != nil {
		masks := make([]*gorgonia.Node, c.steps)
		for i := range masks {
			masks[i] = input(fmt.Sprintf("mask/t%d", i), c.mask[i], c.b)
		}
		opts = append(opts, WithMask(masks))
	}
	if c.reverse {
		opts = append(opts, WithReverse())
	}
	u, err := unroll(cell, xs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var cost *gorgonia.Node
	for i, n := range append(append([]*gorgonia.Node{}, u.Outputs...), u.Final...) {
		w := input(fmt.Sprintf("cost/w%d", i), draw(n.Shape().TotalSize()), n.Shape()...)
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
	wrt := append(append(cell.Learnables(), xs...), u.Initial...)
	return &lstmGraph{g: g, u: u, cell: cell, cost: cost, wrt: wrt}
}

// run differentiates the cost, runs the graph twice (the second run reuses
// every buffer of the first) and returns, by name, the outputs, the final
// state, the cost and the gradient of every node of wrt.
func (lg *lstmGraph) run(t testing.TB) map[string][]float64 {
	t.Helper()
	if _, err := gorgonia.Grad(lg.cost, lg.wrt...); err != nil {
		t.Fatal(err)
	}
	reads := map[string]*gorgonia.Value{}
	read := func(name string, n *gorgonia.Node) {
		v := new(gorgonia.Value)
		gorgonia.Read(n, v)
		reads[name] = v
	}
	for i, n := range lg.u.Outputs {
		read(fmt.Sprintf("output %d", i), n)
	}
	read("final hidden", lg.u.Final[0])
	read("final cell", lg.u.Final[1])
	read("cost", lg.cost)
	vm, err := nodes.NewTapeMachine(lg.g, gorgonia.BindDualValues(lg.wrt...))
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
		for name, v := range reads {
			got[name] = floats(*v)
		}
		for _, n := range lg.wrt {
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

func floats(v gorgonia.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	panic(fmt.Sprintf("value of %T", v.Data()))
}

// compareRuns fails unless got and want hold the same names and every value
// of got is within tol·max(1, |want|) of want's. It returns the largest
// |got-want|/max(1, |want|).
func compareRuns(t testing.TB, what string, got, want map[string][]float64, tol float64) float64 {
	t.Helper()
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for _, n := range names {
		g, w := got[n], want[n]
		if len(g) != len(w) {
			t.Errorf("%s: %s has %d values, want %d", what, n, len(g), len(w))
			continue
		}
		for i := range w {
			d := math.Abs(g[i]-w[i]) / math.Max(1, math.Abs(w[i]))
			if !(d <= tol) {
				t.Errorf("%s: %s[%d] = %.17g, want %.17g", what, n, i, g[i], w[i])
				break
			}
			worst = math.Max(worst, d)
		}
	}
	return worst
}

func TestUnrollLSTMMatchesUnroll(t *testing.T) {
	for _, c := range lstmCases() {
		t.Run(c.name, func(t *testing.T) {
			want := buildLSTMCase(t, c, tensor.Float64, false, unrollGates).run(t)
			fused := buildLSTMCase(t, c, tensor.Float64, false, UnrollLSTM)
			got := fused.run(t)
			t.Logf("largest difference %.2g", compareRuns(t, "fused", got, want, 1e-12))
			if c.zeroStates {
				if n := fused.u.Initial[1].Name(); n != "lstm/initial/cell" {
					t.Errorf("initial cell state is called %q", n)
				}
			}
		})
	}
}

// TestUnrollLSTMPaddingChangesBetweenRuns runs a fused layer without
// padding, then with steps of padding only at both ends and inside (or
// padding only) on the same graph and buffers: what the second run leaves
// out of its products must not keep the first run's values.
func TestUnrollLSTMPaddingChangesBetweenRuns(t *testing.T) {
	const steps, b = 7, 2
	for _, reverse := range []bool{false, true} {
		for _, second := range []struct {
			name string
			mask [][]float64
		}{
			{"both ends and inside", paddingAtBothEnds()},
			{"padding only", rightPadded(steps, 0, 0)},
		} {
			name := second.name
			if reverse {
				name += "/reverse"
			}
			t.Run(name, func(t *testing.T) {
				c := lstmCase{steps: steps, b: b, mode: Sequence, reverse: reverse, mask: rightPadded(steps, steps, steps)}
				fused := buildLSTMCase(t, c, tensor.Float64, false, UnrollLSTM)
				c.mask = second.mask
				want := buildLSTMCase(t, c, tensor.Float64, false, unrollGates)
				setMasks := func() {
					for i, m := range c.mask {
						ns := fused.g.ByName(fmt.Sprintf("mask/t%d", i))
						if len(ns) != 1 {
							t.Fatalf("%d nodes called mask/t%d", len(ns), i)
						}
						copy(ns[0].Value().Data().([]float64), m)
					}
				}
				got := runTwice(t, fused.g, fused.u, fused.cost, fused.wrt, setMasks)
				wantVals := runTwice(t, want.g, want.u, want.cost, want.wrt, func() {})
				t.Logf("largest difference %.2g", compareRuns(t, "fused, second run", got, wantVals, 1e-12))
			})
		}
	}
}

// TestUnrollLSTMNodes checks the nodes UnrollLSTM returns: the output after
// the last timestep read is the final hidden state, as with Unroll.
func TestUnrollLSTMNodes(t *testing.T) {
	for _, c := range []lstmCase{
		{name: "forward", steps: 4, b: 2, mode: Sequence},
		{name: "reverse", steps: 4, b: 2, mode: Sequence, reverse: true},
		{name: "last", steps: 4, b: 2, mode: Last},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := buildLSTMCase(t, c, tensor.Float64, false, UnrollLSTM).u
			last := len(u.Outputs) - 1
			if c.reverse {
				last = 0
			}
			if u.Outputs[last] != u.Final[0] {
				t.Errorf("output %d is not the final hidden state", last)
			}
			if u.Node("lstm/t0/forget") != nil || len(u.Record()) != 0 || len(u.NodeNames()) != 0 {
				t.Error("the fused path names nodes")
			}
		})
	}
}

func TestUnrollLSTMGradientsAgainstFiniteDifferences(t *testing.T) {
	for _, c := range []lstmCase{
		{name: "sequence", steps: 5, b: 3, mode: Sequence},
		{name: "last", steps: 5, b: 3, mode: Last},
		{name: "right padded last", steps: 5, b: 3, mode: Last, mask: rightPadded(5, 3, 5, 1)},
		{name: "left padded sequence", steps: 5, b: 3, mode: Sequence, mask: leftPadded(5, 2, 5, 4)},
		{name: "fractional mask", steps: 4, b: 3, mode: Sequence, mask: [][]float64{{1, 0.25, 0}, {0.5, 1, 1}, {1, 0, 0.75}, {0, 1, 1}}},
		{name: "reverse right padded", steps: 5, b: 3, mode: Sequence, reverse: true, mask: rightPadded(5, 3, 5, 1)},
		{name: "zero initial state last", steps: 4, b: 2, mode: Last, zeroStates: true},
		{name: "relu state softsign gate", steps: 5, b: 3, mode: Sequence, opts: []Option{WithStateActivation(nodes.ReLU), WithGateActivation(nodes.Softsign)}},
		{name: "sigmoid state tanh gate", steps: 5, b: 3, mode: Last, opts: []Option{WithStateActivation(nodes.Sigmoid), WithGateActivation(nodes.Tanh)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lg := buildLSTMCase(t, c, tensor.Float64, false, UnrollLSTM)
			worst, err := nodes.CheckGradients(lg.cost, lg.wrt, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

// TestUnrollLSTMFloat32 checks a float32 layer against a float64 one that
// starts from the same (float32) values.
func TestUnrollLSTMFloat32(t *testing.T) {
	for _, c := range []lstmCase{
		{name: "sequence", steps: 5, b: 3, mode: Sequence},
		{name: "right padded last", steps: 5, b: 3, mode: Last, mask: rightPadded(5, 3, 5, 1)},
		{name: "reverse left padded", steps: 5, b: 3, mode: Sequence, reverse: true, mask: leftPadded(5, 2, 5, 4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := buildLSTMCase(t, c, tensor.Float64, true, UnrollLSTM).run(t)
			got := buildLSTMCase(t, c, tensor.Float32, true, UnrollLSTM).run(t)
			t.Logf("largest difference %.2g", compareRuns(t, "float32", got, want, 1e-4))
		})
	}
}

func TestUnrollLSTMRejectsBadInput(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	c, err := NewLSTM(g, p, "lstm1", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	good := sequenceInputs(g, rng, 3, 2, 2)
	other := gorgonia.NewGraph()
	cases := []struct {
		name string
		cell *LSTM
		xs   []*gorgonia.Node
		opts []UnrollOption
	}{
		{"nil cell", nil, good, nil},
		{"cell not made by NewLSTM", &LSTM{}, good, nil},
		{"no timesteps", c, nil, nil},
		{"nil input", c, []*gorgonia.Node{good[0], nil}, nil},
		{"wrong feature count", c, []*gorgonia.Node{good[0], randInput(g, rng, "bad", 2, 5)}, nil},
		{"batch size changes", c, []*gorgonia.Node{good[0], randInput(g, rng, "bad2", 3, 2)}, nil},
		{"inputs in another graph", c, sequenceInputs(other, rng, 3, 2, 2), nil},
		{"too few masks", c, good, []UnrollOption{WithMask([]*gorgonia.Node{randInput(g, rng, "m", 2)})}},
		{"mask of wrong length", c, good, []UnrollOption{WithMask([]*gorgonia.Node{randInput(g, rng, "m1", 3), randInput(g, rng, "m2", 3), randInput(g, rng, "m3", 3)})}},
		{"initial state of wrong width", c, good, []UnrollOption{WithInitialState(State{randInput(g, rng, "h", 2, 4), randInput(g, rng, "c", 2, 3)})}},
		{"initial state of one part", c, good, []UnrollOption{WithInitialState(State{randInput(g, rng, "h1", 2, 3)})}},
		{"bad output mode", c, good, []UnrollOption{WithOutputMode(OutputMode(9))}},
	}
	for _, tc := range cases {
		if _, err := UnrollLSTM(tc.cell, tc.xs, tc.opts...); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// BenchmarkLSTMLayer times a forward and backward run of one LSTM layer of
// 100 hidden units over a batch of 32 sequences of 12 features, with the
// cost Σ h_T, built from gate nodes (Unroll) or fused (UnrollLSTM). The
// graph is compiled once; every iteration is one RunAll and Reset.
func BenchmarkLSTMLayer(b *testing.B) {
	for _, path := range []struct {
		name   string
		unroll unrollFunc
	}{{"gates", unrollGates}, {"fused", UnrollLSTM}} {
		for _, steps := range []int{30, 100} {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				b.Run(fmt.Sprintf("%s/T=%d/%v", path.name, steps, dt), func(b *testing.B) {
					benchmarkLayer(b, dt, steps, func(g *gorgonia.ExprGraph, p *nodes.Params, xs []*gorgonia.Node) (Cell, *Unrolled, error) {
						cell, err := NewLSTM(g, p, "lstm", benchFeatures, benchHidden)
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

// The shape of the layer benchmarks: 32 sequences of 12 features, 100
// hidden units.
const benchBatch, benchFeatures, benchHidden = 32, 12, 100

// benchmarkLayer times a forward and backward run of the layer that build
// unrolls over steps random timesteps, with the cost Σ h_T. The graph is
// compiled once; every iteration is one RunAll and Reset.
func benchmarkLayer(b *testing.B, dt tensor.Dtype, steps int, build func(*gorgonia.ExprGraph, *nodes.Params, []*gorgonia.Node) (Cell, *Unrolled, error)) {
	g := gorgonia.NewGraph()
	p, err := nodes.NewParams(dt, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]*gorgonia.Node, steps)
	for t := range xs {
		x := tensor.New(tensor.WithShape(benchBatch, benchFeatures), tensor.Of(dt))
		for i := range benchBatch * benchFeatures {
			x.Set(i, castTo(dt, rng.NormFloat64()))
		}
		xs[t] = gorgonia.NodeFromAny(g, x, gorgonia.WithName(fmt.Sprintf("x/t%d", t)))
	}
	cell, u, err := build(g, p, xs)
	if err != nil {
		b.Fatal(err)
	}
	cost, err := gorgonia.Sum(u.Outputs[0])
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gorgonia.Grad(cost, cell.Learnables()...); err != nil {
		b.Fatal(err)
	}
	vm, err := nodes.NewTapeMachine(g, gorgonia.BindDualValues(cell.Learnables()...))
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}

func castTo(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

// TestUnrollWithFusedKernels: Unroll with WithFusedKernels runs a Fusable
// cell (LSTM, GRU) on its fused op, which names no gate nodes, and any other
// cell on gate nodes; both directions of UnrollBidirectional likewise.
func TestUnrollWithFusedKernels(t *testing.T) {
	g := gorgonia.NewGraph()
	p, err := nodes.NewParams(tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := sequenceInputs(g, rng, 3, 2, 2)
	lstm, _ := NewLSTM(g, p, "lstm", 2, 3)
	gru, _ := NewGRU(g, p, "gru", 2, 3)
	peep, _ := NewPeepholeLSTM(g, p, "peep", 2, 3)
	for _, c := range []struct {
		cell  Cell
		fused bool
	}{{lstm, true}, {gru, true}, {peep, false}} {
		u, err := Unroll(c.cell, xs, WithFusedKernels())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(u.NodeNames()) == 0; got != c.fused {
			t.Errorf("%s: fused %v (%d named nodes), want %v", c.cell.Name(), got, len(u.NodeNames()), c.fused)
		}
		if u, _ := Unroll(c.cell, xs); len(u.NodeNames()) == 0 {
			t.Errorf("%s: no named nodes without WithFusedKernels", c.cell.Name())
		}
	}
	back, _ := NewLSTM(g, p, "back", 2, 3)
	bi, err := UnrollBidirectional(lstm, back, xs, Concat, WithFusedKernels())
	if err != nil {
		t.Fatal(err)
	}
	if len(bi.Forward.NodeNames())+len(bi.Backward.NodeNames()) != 0 {
		t.Error("a bidirectional LSTM with fused kernels has named nodes")
	}
}
