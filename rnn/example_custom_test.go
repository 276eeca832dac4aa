package rnn_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// docs/custom-cells.md shows this file's MGU and Example_customCell; a test
// checks that the document's code stands here verbatim.

// MGU is the minimal gated unit (Zhou et al., 2016): a GRU with a single
// gate. For input x_t and state h_{t-1},
//
//	f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//	h̃_t = tanh(W_h x_t + U_h (f_t ⊙ h_{t-1}) + b_h)
//	h_t = (1 - f_t) ⊙ h_{t-1} + f_t ⊙ h̃_t
type MGU struct {
	name                   string
	in, hidden             int
	Wf, Uf, Bf, Wh, Uh, Bh *gorgonia.Node
}

// NewMGU binds the cell's learnables in g, creating them in p on first use.
func NewMGU(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, hidden int) (rnn.Cell, error) {
	c := &MGU{name: name, in: in, hidden: hidden}
	var err error
	for _, l := range []struct {
		node  **gorgonia.Node
		name  string
		shape tensor.Shape
		init  nodes.Initializer
	}{
		{&c.Wf, "/ForgetInputWeights", tensor.Shape{hidden, in}, nodes.GlorotUniform(in, hidden)},
		{&c.Uf, "/ForgetRecurrentWeights", tensor.Shape{hidden, hidden}, nodes.Orthogonal()},
		{&c.Bf, "/ForgetBias", tensor.Shape{hidden}, nodes.Constant(1)},
		{&c.Wh, "/CandidateInputWeights", tensor.Shape{hidden, in}, nodes.GlorotUniform(in, hidden)},
		{&c.Uh, "/CandidateRecurrentWeights", tensor.Shape{hidden, hidden}, nodes.Orthogonal()},
		{&c.Bh, "/CandidateBias", tensor.Shape{hidden}, nodes.Zeros()},
	} {
		if *l.node, err = p.Node(g, name+l.name, l.shape, l.init); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *MGU) Name() string                       { return c.name }
func (c *MGU) InputSize() int                     { return c.in }
func (c *MGU) OutputSize() int                    { return c.hidden }
func (c *MGU) StateNames() []string               { return []string{"hidden"} }
func (c *MGU) StateSizes() []int                  { return []int{c.hidden} }
func (c *MGU) Output(st rnn.State) *gorgonia.Node { return st[0] }
func (c *MGU) Learnables() gorgonia.Nodes {
	return gorgonia.Nodes{c.Wf, c.Uf, c.Bf, c.Wh, c.Uh, c.Bh}
}

// Step computes the equations of the type's comment. gorgonia.Must keeps it
// short: Unroll turns a panic here into an error naming the cell and step.
func (c *MGU) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	h := prev[0]
	affine := func(w, u, b, hIn *gorgonia.Node) *gorgonia.Node {
		xw := gorgonia.Must(nodes.MatMul(x, w, false, true))
		hu := gorgonia.Must(nodes.MatMul(hIn, u, false, true))
		return gorgonia.Must(nodes.AddBias(gorgonia.Must(gorgonia.Add(xw, hu)), b))
	}
	f := s.Name(c.name, "forget", gorgonia.Must(nodes.Sigmoid.Apply(affine(c.Wf, c.Uf, c.Bf, h))))
	fh := gorgonia.Must(gorgonia.HadamardProd(f, h))
	cand := s.Name(c.name, "candidate", gorgonia.Must(nodes.Tanh.Apply(affine(c.Wh, c.Uh, c.Bh, fh))))
	// (1 - f) ⊙ h + f ⊙ h̃ = h + f ⊙ (h̃ - h): one node fewer.
	delta := gorgonia.Must(gorgonia.HadamardProd(f, gorgonia.Must(gorgonia.Sub(cand, h))))
	return rnn.State{s.Name(c.name, "hidden", gorgonia.Must(gorgonia.Add(h, delta)))}, nil
}

// The minimal gated unit above: its gradients checked against finite
// differences, its gates found by name, and the cell trained in a network.
func Example_customCell() {
	// 1. Gradients: unroll the cell over 5 steps and compare the tape's
	// gradients with central finite differences.
	g := gorgonia.NewGraph()
	params, _ := nodes.NewParams(tensor.Float64, 1)
	cell, err := NewMGU(g, params, "mgu1", 2, 3)
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]*gorgonia.Node, 5)
	for t := range xs {
		v := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		xs[t] = gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(v)), gorgonia.WithName(fmt.Sprintf("x%d", t)))
	}
	u, err := rnn.Unroll(cell, xs, rnn.WithOutputMode(rnn.Last))
	if err != nil {
		log.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(u.Outputs[0]))))
	worst, err := nodes.CheckGradients(cost, append(cell.Learnables(), xs...), 1e-6, 1e-3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("gradients agree with finite differences:", worst.Relative < 1e-6)
	fmt.Println("gate found by name:", u.Node("mgu1/t4/forget") != nil)

	// 2. Training: the cell as a layer of a network, on a toy task (is
	// the sum of the sequence positive?).
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(1),
		graph.Recurrent(8, NewMGU, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2),
		graph.Softmax(),
		graph.ClassificationOutput(),
	})
	if err != nil {
		log.Fatal(err)
	}
	seqs := make([]dataset.Sequence, 64)
	labels := make([]int, len(seqs))
	for i := range seqs {
		rows, sum := make([][]float64, 6), 0.0
		for t := range rows {
			rows[t] = []float64{rng.NormFloat64()}
			sum += rows[t][0]
		}
		seqs[i], _ = dataset.NewSequence(rows)
		if sum > 0 {
			labels[i] = 1
		}
	}
	data, _ := dataset.NewClassification(seqs, labels, 2)
	batches, _ := dataset.NewBatcher(data, 16, dataset.WithShuffle(1))
	solver, _ := optim.NewAdam(optim.WithLearnRate(0.01))
	var firstLoss, lastLoss float64 // mean loss of the first and last epochs
	for epoch := 0; epoch < 40; epoch++ {
		sum := 0.0
		for b, err := range batches.Epoch(epoch) {
			if err != nil {
				log.Fatal(err)
			}
			loss, err := net.TrainStep(b, solver)
			if err != nil {
				log.Fatal(err)
			}
			sum += loss
		}
		if lastLoss = sum / float64(batches.NumBatches()); epoch == 0 {
			firstLoss = lastLoss
		}
	}
	fmt.Println("learnables:", net.Learnables()[2:])
	fmt.Println("training loss fell by half:", lastLoss < firstLoss/2)

	// Output:
	// gradients agree with finite differences: true
	// gate found by name: true
	// learnables: [rnn1/CandidateBias rnn1/CandidateInputWeights rnn1/CandidateRecurrentWeights rnn1/ForgetBias rnn1/ForgetInputWeights rnn1/ForgetRecurrentWeights]
	// training loss fell by half: true
}
