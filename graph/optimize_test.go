package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// testCells are the cells the graph optimizer is checked and measured
// with: the built-in cells on their gate nodes (as Recurrent layers, which
// never take the fused path), and two cells of docs/custom-cells.md.
func testCells() []struct {
	name string
	cell CellFactory
} {
	return []struct {
		name string
		cell CellFactory
	}{
		{"lstm-gates", func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			c, err := rnn.NewLSTM(g, p, name, in, out)
			return gateNodes{c}, err
		}},
		{"peephole-lstm", func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			return rnn.NewPeepholeLSTM(g, p, name, in, out)
		}},
		{"gru-gates", func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			c, err := rnn.NewGRU(g, p, name, in, out)
			return gateNodes{c}, err
		}},
		{"gru-before-gates", func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			c, err := rnn.NewGRU(g, p, name, in, out, rnn.WithResetGateMode(rnn.BeforeMultiplication))
			return gateNodes{c}, err
		}},
		{"elman", func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			return rnn.NewElman(g, p, name, in, out)
		}},
		{"mgu", newTestMGU},
		{"cifg", newTestCIFG},
	}
}

// gateNodes hides the type of a built-in LSTM or GRU cell, which networks
// would otherwise run on their fused ops, so that it unrolls into gate
// nodes as a custom cell does.
type gateNodes struct{ rnn.Cell }

// testMGU is the minimal gated unit of docs/custom-cells.md:
//
//	f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//	h̃_t = tanh(W_h x_t + U_h (f_t ⊙ h_{t-1}) + b_h)
//	h_t = h_{t-1} + f_t ⊙ (h̃_t - h_{t-1})
type testMGU struct {
	rnn.CellBase
	w [6]*gorgonia.Node // Wf, Uf, bf, Wh, Uh, bh
}

func newTestMGU(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, hidden int) (rnn.Cell, error) {
	base, err := rnn.NewCellBase(name, in, hidden)
	if err != nil {
		return nil, err
	}
	c := &testMGU{CellBase: base}
	var ls []rnn.Learnable
	for k, part := range []string{"Forget", "Candidate"} {
		ls = append(ls,
			rnn.NewLearnable(&c.w[3*k], part+"InputWeights", tensor.Shape{hidden, in}, nodes.GlorotUniform(in, hidden)),
			rnn.NewLearnable(&c.w[3*k+1], part+"RecurrentWeights", tensor.Shape{hidden, hidden}, nodes.Orthogonal()),
			rnn.NewLearnable(&c.w[3*k+2], part+"Bias", tensor.Shape{hidden}, nodes.Ones()))
	}
	return c, c.Bind(g, p, ls...)
}

func (c *testMGU) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	h := prev[0]
	f := gorgonia.Must(nodes.Sigmoid.Apply(gorgonia.Must(rnn.Affine(x, c.w[0], h, c.w[1], c.w[2]))))
	cand := gorgonia.Must(nodes.Tanh.Apply(gorgonia.Must(rnn.Affine(x, c.w[3], gorgonia.Must(gorgonia.HadamardProd(f, h)), c.w[4], c.w[5]))))
	s.Name(c.Name(), "forget", f)
	next := gorgonia.Must(gorgonia.Add(h, gorgonia.Must(gorgonia.HadamardProd(f, gorgonia.Must(gorgonia.Sub(cand, h))))))
	return rnn.State{s.Name(c.Name(), "hidden", next)}, nil
}

// testCIFG is the LSTM with coupled input and forget gates of
// docs/custom-cells.md: with z = W x_t + R h_{t-1} + b,
//
//	f, g, o = σ(z_f), tanh(z_g), σ(z_o)
//	c_t = g + f ⊙ (c_{t-1} - g)
//	h_t = o ⊙ tanh(c_t)
type testCIFG struct {
	rnn.CellBase
	w, r, b *gorgonia.Node
}

func newTestCIFG(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, hidden int) (rnn.Cell, error) {
	base, err := rnn.NewCellBase(name, in, hidden, "hidden", "cell")
	if err != nil {
		return nil, err
	}
	c := &testCIFG{CellBase: base}
	return c, c.Bind(g, p,
		rnn.NewLearnable(&c.w, "InputWeights", tensor.Shape{3 * hidden, in}, nodes.GlorotUniform(in, 3*hidden)),
		rnn.NewLearnable(&c.r, "RecurrentWeights", tensor.Shape{3 * hidden, hidden}, nodes.Orthogonal()),
		rnn.NewLearnable(&c.b, "Bias", tensor.Shape{3 * hidden}, nodes.Zeros()))
}

func (c *testCIFG) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	z := gorgonia.Must(rnn.Affine(x, c.w, prev[0], c.r, c.b))
	var gate [3]*gorgonia.Node
	for k, a := range []nodes.Activation{nodes.Sigmoid, nodes.Tanh, nodes.Sigmoid} {
		gate[k] = gorgonia.Must(nodes.ActivateBlock(z, a, k, 3))
	}
	s.Name(c.Name(), "forget", gate[0])
	cell := gorgonia.Must(gorgonia.Add(gate[1], gorgonia.Must(gorgonia.HadamardProd(gate[0], gorgonia.Must(gorgonia.Sub(prev[1], gate[1]))))))
	h := gorgonia.Must(gorgonia.HadamardProd(gate[2], gorgonia.Must(nodes.Tanh.Apply(cell))))
	return rnn.State{s.Name(c.Name(), "hidden", h), s.Name(c.Name(), "cell", cell)}, nil
}

// trainRun is what one training run of a program computes.
type trainRun struct {
	loss   float64
	values [][]float64 // outputs, final states, then gradients
}

// runTraining feeds b to the training program of net, runs it once and
// returns its loss, outputs, final states and gradients, leaving the
// gradients zero.
func runTraining(t *testing.T, net *Network, b *dataset.Batch, wantOptimized bool) trainRun {
	t.Helper()
	p, err := net.acquire(programKey{batch: b.B, steps: b.T, train: true, masked: b.Padded()})
	if err != nil {
		t.Fatal(err)
	}
	defer net.release(p)
	if (p.exec != nil) != wantOptimized {
		t.Fatalf("the program runs on the optimizer: %v, want %v", p.exec != nil, wantOptimized)
	}
	if err := p.feed(b, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	r := trainRun{loss: scalar(p.lossVal), values: runValues(p)}
	for _, vg := range p.valueGrads {
		r.values = append(r.values, appendFloat64s(nil, vg.(learnable).grad))
	}
	p.zeroGrads()
	p.reset()
	return r
}

// TestGraphOptimizerEqualsPlainPath runs a training step of networks of
// every cell, in both output modes, padded left and right, one way and
// bidirectional, in float64, on the graph optimizer and on the plain path
// (gorgonia.Grad's gradient graph, each op's Do) from the same weights:
// the loss, outputs, final states and every gradient must agree to 1e-12.
// The plain path is the reference that the finite-difference and PyTorch
// tests check.
func TestGraphOptimizerEqualsPlainPath(t *testing.T) {
	const f, k, hidden = 3, 4, 5
	rng := rand.New(rand.NewPCG(7, 8))
	seqs := randomSequences(t, rng, 4, f, 2, 5)
	labels := []int{0, 3, 1, 2}
	var stepLabels [][]int
	var responses []dataset.Sequence
	for i, s := range seqs {
		var ls []int
		for j := range s.T {
			ls = append(ls, (i+j)%k)
		}
		stepLabels = append(stepLabels, ls)
		responses = append(responses, dataset.Sequence{T: s.T, F: 2, Data: append([]float64(nil), s.Data[:2*s.T]...)})
	}
	perSeq, _ := dataset.NewClassification(seqs, labels, k)
	perStep, _ := dataset.NewStepClassification(seqs, stepLabels, k)
	regression, _ := dataset.NewStepRegression(seqs, responses)
	head := []Layer{FullyConnected(k), Softmax(), ClassificationOutput()}
	stack := func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
		lower, err := rnn.NewElman(g, p, name+"/lower", in, out)
		if err != nil {
			return nil, err
		}
		upper, err := rnn.NewPeepholeLSTM(g, p, name+"/upper", out, out)
		if err != nil {
			return nil, err
		}
		return rnn.NewStack(name, []rnn.Cell{lower, upper})
	}
	cells := append(testCells(), struct {
		name string
		cell CellFactory
	}{"stack", stack})
	for _, c := range cells {
		nets := []struct {
			name   string
			layers []Layer
			src    dataset.Source
		}{
			{"last", append([]Layer{SequenceInput(f), Recurrent(hidden, c.cell, WithOutputMode(rnn.Last))}, head...), perSeq},
			{"sequence", append([]Layer{SequenceInput(f), Recurrent(hidden, c.cell)}, head...), perStep},
			{"bidirectional", append([]Layer{SequenceInput(f), Bidirectional(hidden, c.cell, WithOutputMode(rnn.Last))}, head...), perSeq},
			{"bidirectional-sum", append([]Layer{SequenceInput(f), Bidirectional(hidden, c.cell, WithMergeMode(rnn.Sum))}, head...), perStep},
			{"regression", []Layer{SequenceInput(f), Recurrent(hidden, c.cell), FullyConnected(2), RegressionOutput()}, regression},
			{"dropout", append([]Layer{SequenceInput(f), Recurrent(hidden, c.cell), Dropout(0.4), Recurrent(hidden, c.cell, WithOutputMode(rnn.Last))}, head...), perSeq},
		}
		for _, n := range nets {
			for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
				name := fmt.Sprintf("%s/%s/%v", c.name, n.name, dir)
				opt, err := NewNetwork(n.layers, WithDtype(tensor.Float64))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				plain, err := NewNetwork(n.layers, WithDtype(tensor.Float64), WithGraphOptimizer(false))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				b, err := dataset.MakeBatch(n.src, []int{0, 1, 2, 3}, dataset.WithPaddingDirection(dir))
				if err != nil {
					t.Fatal(err)
				}
				got, want := runTraining(t, opt, b, true), runTraining(t, plain, b, false)
				if d := math.Abs(got.loss - want.loss); !(d <= 1e-12) {
					t.Errorf("%s: loss %v, plain path %v", name, got.loss, want.loss)
				}
				compareValues(t, name, got.values, want.values, 1e-12)
			}
		}
	}
}

// compareValues requires got and want to agree element by element to tol.
func compareValues(t *testing.T, name string, got, want [][]float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: value %d has %d elements, want %d", name, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if d := math.Abs(got[i][j] - want[i][j]); !(d <= tol) {
				t.Errorf("%s: value %d[%d] = %v, plain path %v", name, i, j, got[i][j], want[i][j])
				break
			}
		}
	}
}

// TestActivationsOptimizedEqualsPlainPath reads every named node of
// networks of every cell with Activations, on the graph optimizer and on
// the plain path (a tape machine): the values must agree to 1e-12 in
// float64, padded left and right.
func TestActivationsOptimizedEqualsPlainPath(t *testing.T) {
	const f, k, hidden = 3, 4, 5
	rng := rand.New(rand.NewPCG(9, 10))
	seqs := randomSequences(t, rng, 3, f, 2, 4)
	src, _ := dataset.NewClassification(seqs, []int{0, 1, 3}, k)
	for _, c := range testCells() {
		layers := []Layer{SequenceInput(f), Bidirectional(hidden, c.cell), Recurrent(hidden, c.cell, WithOutputMode(rnn.Last)),
			FullyConnected(k), Softmax(), ClassificationOutput()}
		opt, err := NewNetwork(layers, WithDtype(tensor.Float64))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := NewNetwork(layers, WithDtype(tensor.Float64), WithGraphOptimizer(false))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			name := fmt.Sprintf("%s/%v", c.name, dir)
			b, err := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir))
			if err != nil {
				t.Fatal(err)
			}
			got, err := opt.Activations(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, err := plain.Activations(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			p, _ := opt.acquire(programKey{batch: b.B, steps: b.T, masked: b.Padded(), observed: true})
			opt.release(p)
			if p.exec == nil {
				t.Fatalf("%s: the Activations program does not run on the optimizer", name)
			}
			if len(got) != len(want) || len(want) < 10 {
				t.Fatalf("%s: %d values, plain path %d", name, len(got), len(want))
			}
			for n, w := range want {
				g, ok := got[n]
				if !ok {
					t.Fatalf("%s: no %s", name, n)
				}
				compareValues(t, name+"/"+n, [][]float64{appendFloat64s(nil, g)}, [][]float64{appendFloat64s(nil, w)}, 1e-12)
			}
		}
	}
}
