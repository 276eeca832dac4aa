package rnn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// randInput returns an input node with values drawn from U(-1, 1).
func randInput(g *gorgonia.ExprGraph, rng *rand.Rand, name string, shape ...int) *gorgonia.Node {
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), gorgonia.WithName(name))
}

// sequenceInputs returns T inputs of B×F called x/t0, x/t1, ...
func sequenceInputs(g *gorgonia.ExprGraph, rng *rand.Rand, t, b, f int) []*gorgonia.Node {
	xs := make([]*gorgonia.Node, t)
	for i := range xs {
		xs[i] = randInput(g, rng, fmt.Sprintf("x/t%d", i), b, f)
	}
	return xs
}

// weightedCost returns Σ_k Σ w_k⊙n_k with fixed random weights, so that the
// gradient reaching each node is a different, known-nonzero matrix.
func weightedCost(t *testing.T, g *gorgonia.ExprGraph, rng *rand.Rand, ns ...*gorgonia.Node) *gorgonia.Node {
	t.Helper()
	var cost *gorgonia.Node
	for i, n := range ns {
		w := randInput(g, rng, fmt.Sprintf("cost/w%d", i), n.Shape()...)
		p, err := gorgonia.HadamardProd(n, w)
		if err != nil {
			t.Fatal(err)
		}
		s, err := gorgonia.Sum(p)
		if err != nil {
			t.Fatal(err)
		}
		if cost == nil {
			cost = s
		} else if cost, err = gorgonia.Add(cost, s); err != nil {
			t.Fatal(err)
		}
	}
	return cost
}

// randomizeParams overwrites every learnable of p with U(-a, a) values: the
// default biases and orthogonal weights would leave parts of the gradient
// trivially structured.
func randomizeParams(p *nodes.Params, rng *rand.Rand, a float64) {
	for _, name := range p.Names() {
		v := p.Values(name)
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * a
		}
		if err := p.Set(name, v); err != nil {
			panic(err)
		}
	}
}

func TestLSTMGradientsAgainstFiniteDifferences(t *testing.T) {
	const T, B, F, H = 5, 3, 4, 3
	cases := []struct {
		name   string
		mode   OutputMode
		layers int
		masked bool
		opts   []Option
	}{
		{"sequence", Sequence, 1, false, nil},
		{"last", Last, 1, false, nil},
		{"two layers sequence", Sequence, 2, false, nil},
		{"two layers last", Last, 2, false, nil},
		{"masked last", Last, 1, true, nil},
		{"masked two layers sequence", Sequence, 2, true, nil},
		{"relu state softsign gate", Sequence, 1, false, []Option{WithStateActivation(nodes.ReLU), WithGateActivation(nodes.Softsign)}},
		{"sigmoid state tanh gate", Last, 1, false, []Option{WithStateActivation(nodes.Sigmoid), WithGateActivation(nodes.Tanh)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(7, 11))
			p, err := nodes.NewParams(tensor.Float64, 1)
			if err != nil {
				t.Fatal(err)
			}
			cells := make([]Cell, c.layers)
			in := F
			for l := range cells {
				if cells[l], err = NewLSTM(g, p, fmt.Sprintf("lstm%d", l+1), in, H, c.opts...); err != nil {
					t.Fatal(err)
				}
				in = H
			}
			var cell Cell = cells[0]
			if c.layers > 1 {
				if cell, err = NewStack("stack", cells); err != nil {
					t.Fatal(err)
				}
			}
			randomizeParams(p, rng, 0.8)
			xs := sequenceInputs(g, rng, T, B, F)
			var initial State
			for i, n := range cell.StateSizes() {
				initial = append(initial, randInput(g, rng, fmt.Sprintf("initial%d", i), B, n))
			}
			opts := []UnrollOption{WithOutputMode(c.mode), WithInitialState(initial)}
			if c.masked {
				// Sequence 0 is right-padded to length 3, sequence 2
				// left-padded to length 4.
				mv := [T][B]float64{{1, 1, 0}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}}
				masks := make([]*gorgonia.Node, T)
				for i := range masks {
					masks[i] = gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(mv[i][:])), gorgonia.WithName(fmt.Sprintf("mask/t%d", i)))
				}
				opts = append(opts, WithMask(masks))
			}
			u, err := Unroll(cell, xs, opts...)
			if err != nil {
				t.Fatal(err)
			}
			wantOut := 1
			if c.mode == Sequence {
				wantOut = T
			}
			if len(u.Outputs) != wantOut {
				t.Fatalf("%d outputs, want %d", len(u.Outputs), wantOut)
			}
			cost := weightedCost(t, g, rng, append(append([]*gorgonia.Node{}, u.Outputs...), u.Final...)...)
			wrt := append(append(cell.Learnables(), xs...), initial...)
			worst, err := nodes.CheckGradients(cost, wrt, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

func TestGateNodesAreNamed(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	c, err := NewLSTM(g, p, "lstm1", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Unroll(c, sequenceInputs(g, rng, 8, 2, 2), WithOutputMode(Last))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lstm1/t7/input", "lstm1/t7/forget", "lstm1/t0/candidate", "lstm1/t3/output", "lstm1/t7/cell", "lstm1/t7/hidden"} {
		n := u.Node(name)
		if n == nil {
			t.Errorf("no node %q", name)
			continue
		}
		if found := g.ByName(name); len(found) != 1 || found[0] != n {
			t.Errorf("graph.ByName(%q) = %v, want the unrolled node", name, found)
		}
	}
	if u.Node("lstm1/t8/input") != nil {
		t.Error("found a gate beyond the last timestep")
	}
	if got := u.Initial[0].Name(); got != "lstm1/initial/hidden" {
		t.Errorf("initial hidden state is called %q", got)
	}
}

func TestUnrollRejectsBadInput(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	c, err := NewLSTM(g, p, "lstm1", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	good := sequenceInputs(g, rng, 3, 2, 2)
	cases := []struct {
		name string
		xs   []*gorgonia.Node
		opts []UnrollOption
	}{
		{"no timesteps", nil, nil},
		{"wrong feature count", []*gorgonia.Node{good[0], randInput(g, rng, "bad", 2, 5)}, nil},
		{"batch size changes", []*gorgonia.Node{good[0], randInput(g, rng, "bad2", 3, 2)}, nil},
		{"too few masks", good, []UnrollOption{WithMask([]*gorgonia.Node{randInput(g, rng, "m", 2)})}},
		{"initial state of wrong width", good, []UnrollOption{WithInitialState(State{randInput(g, rng, "h", 2, 4), randInput(g, rng, "c", 2, 3)})}},
		{"bad output mode", good, []UnrollOption{WithOutputMode(OutputMode(9))}},
	}
	for _, tc := range cases {
		if _, err := Unroll(c, tc.xs, tc.opts...); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := NewLSTM(g, p, "lstm1", 3, 3); err == nil {
		t.Error("an existing learnable of another shape gave no error")
	}
	if _, err := NewLSTM(g, p, "lstm2", 0, 3); err == nil {
		t.Error("a zero input size gave no error")
	}
	if _, err := NewLSTM(g, p, "lstm3", 2, 3, WithGateActivation(nodes.Activation(0))); err == nil {
		t.Error("an invalid activation gave no error")
	}
}

// panicky is a cell whose Step panics, as a custom cell using gorgonia.Must
// on a shape error would.
type panicky struct{ *LSTM }

func (panicky) Step(Step, *gorgonia.Node, State) (State, error) { panic("shape mismatch") }

func TestUnrollTurnsACellPanicIntoAnError(t *testing.T) {
	g := gorgonia.NewGraph()
	p, _ := nodes.NewParams(tensor.Float64, 1)
	c, err := NewLSTM(g, p, "lstm1", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Unroll(panicky{c}, sequenceInputs(g, rand.New(rand.NewPCG(1, 1)), 2, 1, 2))
	if err == nil || !strings.Contains(err.Error(), `cell "lstm1" failed at t=0: shape mismatch`) {
		t.Errorf("error %v", err)
	}
}
