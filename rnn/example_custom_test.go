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

// docs/custom-cells.md shows this file's two cells and how the examples use
// them; a test checks that the document's code stands here verbatim.

// MGU is the minimal gated unit (Zhou et al., 2016), a GRU with one gate:
//
//	f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//	h̃_t = tanh(W_h x_t + U_h (f_t ⊙ h_{t-1}) + b_h)
//	h_t = (1 - f_t) ⊙ h_{t-1} + f_t ⊙ h̃_t
type MGU struct {
	rnn.CellBase
	Wf, Uf, Bf, Wh, Uh, Bh *gorgonia.Node
}

// NewMGU binds the cell's learnables in g, creating them in p on first use.
func NewMGU(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, hidden int) (rnn.Cell, error) {
	base, err := rnn.NewCellBase(name, in, hidden)
	if err != nil {
		return nil, err
	}
	c := &MGU{CellBase: base}
	w, u, b := tensor.Shape{hidden, in}, tensor.Shape{hidden, hidden}, tensor.Shape{hidden}
	err = c.Bind(g, p,
		rnn.NewLearnable(&c.Wf, "ForgetInputWeights", w, nodes.GlorotUniform(in, hidden)),
		rnn.NewLearnable(&c.Uf, "ForgetRecurrentWeights", u, nodes.Orthogonal()),
		rnn.NewLearnable(&c.Bf, "ForgetBias", b, nodes.Ones()),
		rnn.NewLearnable(&c.Wh, "CandidateInputWeights", w, nodes.GlorotUniform(in, hidden)),
		rnn.NewLearnable(&c.Uh, "CandidateRecurrentWeights", u, nodes.Orthogonal()),
		rnn.NewLearnable(&c.Bh, "CandidateBias", b, nodes.Zeros()))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Step computes the equations of the type's comment.
func (c *MGU) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	h := prev[0]
	f := s.Name(c.Name(), "forget", gorgonia.Must(nodes.Sigmoid.Apply(gorgonia.Must(rnn.Affine(x, c.Wf, h, c.Uf, c.Bf)))))
	fh := gorgonia.Must(gorgonia.HadamardProd(f, h))
	cand := s.Name(c.Name(), "candidate", gorgonia.Must(nodes.Tanh.Apply(gorgonia.Must(rnn.Affine(x, c.Wh, fh, c.Uh, c.Bh)))))
	// (1 - f) ⊙ h + f ⊙ h̃ = h + f ⊙ (h̃ - h): one node fewer.
	delta := gorgonia.Must(gorgonia.HadamardProd(f, gorgonia.Must(gorgonia.Sub(cand, h))))
	return rnn.State{s.Name(c.Name(), "hidden", gorgonia.Must(gorgonia.Add(h, delta)))}, nil
}

// CIFG is the LSTM with coupled input and forget gates (Greff et al., 2017):
// the input gate is 1 - f, so three gate blocks take the place of four.
//
//	f_t, g_t, o_t = σ(z_f), tanh(z_g), σ(z_o)   with z = W x_t + R h_{t-1} + b
//	c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ g_t
//	h_t = o_t ⊙ tanh(c_t)
type CIFG struct {
	rnn.CellBase
	W, R, B *gorgonia.Node
}

// NewCIFG binds the cell's learnables in g, creating them in p on first use.
func NewCIFG(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, hidden int) (rnn.Cell, error) {
	base, err := rnn.NewCellBase(name, in, hidden, "hidden", "cell")
	if err != nil {
		return nil, err
	}
	c := &CIFG{CellBase: base}
	h3 := 3 * hidden
	err = c.Bind(g, p,
		rnn.NewLearnable(&c.W, "InputWeights", tensor.Shape{h3, in}, nodes.GlorotUniform(in, h3)),
		rnn.NewLearnable(&c.R, "RecurrentWeights", tensor.Shape{h3, hidden}, nodes.Orthogonal()),
		rnn.NewLearnable(&c.B, "Bias", tensor.Shape{h3}, nodes.Zeros()))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Step computes the equations of the type's comment.
func (c *CIFG) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	h, cPrev := prev[0], prev[1]
	z := gorgonia.Must(rnn.Affine(x, c.W, h, c.R, c.B))
	f := s.Name(c.Name(), "forget", gorgonia.Must(nodes.ActivateBlock(z, nodes.Sigmoid, 0, 3)))
	g := s.Name(c.Name(), "candidate", gorgonia.Must(nodes.ActivateBlock(z, nodes.Tanh, 1, 3)))
	o := s.Name(c.Name(), "output", gorgonia.Must(nodes.ActivateBlock(z, nodes.Sigmoid, 2, 3)))
	// f ⊙ c + (1 - f) ⊙ g = g + f ⊙ (c - g): no constant 1 needed.
	cell := gorgonia.Must(gorgonia.Add(g, gorgonia.Must(gorgonia.HadamardProd(f, gorgonia.Must(gorgonia.Sub(cPrev, g))))))
	hNext := gorgonia.Must(gorgonia.HadamardProd(o, gorgonia.Must(nodes.Tanh.Apply(cell))))
	return rnn.State{s.Name(c.Name(), "hidden", hNext), s.Name(c.Name(), "cell", cell)}, nil
}

// trainToy trains a network with a recurrent layer of the given cell on a
// toy task (is the sum of the sequence positive?) and reports whether the
// mean loss of the last epoch is below half that of the first, and the
// shape of the forget gate at timestep 3 of the first batch.
func trainToy(newCell graph.CellFactory) (halved bool, forget []int) {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(1),
		graph.Recurrent(8, newCell, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2),
		graph.Softmax(),
		graph.ClassificationOutput(),
	})
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seqs, labels := make([]dataset.Sequence, 64), make([]int, 64)
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
	var first, last float64 // mean loss of the first and last epochs
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
		if last = sum / float64(batches.NumBatches()); epoch == 0 {
			first = last
		}
	}
	b, _ := dataset.MakeBatch(data, []int{0, 1, 2, 3})
	acts, err := net.Activations(b, "rnn1/t3/forget")
	if err != nil {
		log.Fatal(err)
	}
	return last < first/2, acts["rnn1/t3/forget"].Shape()
}

// The minimal gated unit: its gradients checked against finite differences
// on a padded batch, then trained as a layer of a network, its forget gate
// read back by name.
func Example_minimalGatedUnit() {
	worst, err := rnn.CheckGradients(func(g *gorgonia.ExprGraph, p *nodes.Params) (rnn.Cell, error) {
		return NewMGU(g, p, "mgu", 2, 3)
	}, rnn.GradientCheck{Masked: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("gradients agree with finite differences:", worst.Relative < 1e-6)
	halved, forget := trainToy(NewMGU)
	fmt.Println("training loss fell by half:", halved)
	fmt.Println("forget gate at t=3:", forget)
	// Output:
	// gradients agree with finite differences: true
	// training loss fell by half: true
	// forget gate at t=3: [4 8]
}

// The LSTM with coupled input and forget gates, checked and trained the same
// way.
func Example_coupledInputForgetGate() {
	worst, err := rnn.CheckGradients(func(g *gorgonia.ExprGraph, p *nodes.Params) (rnn.Cell, error) {
		return NewCIFG(g, p, "cifg", 2, 3)
	}, rnn.GradientCheck{Masked: true, Mode: rnn.Last})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("gradients agree with finite differences:", worst.Relative < 1e-6)
	halved, forget := trainToy(NewCIFG)
	fmt.Println("training loss fell by half:", halved)
	fmt.Println("forget gate at t=3:", forget)
	// Output:
	// gradients agree with finite differences: true
	// training loss fell by half: true
	// forget gate at t=3: [4 8]
}
