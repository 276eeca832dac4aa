package rnn_test

import (
	"fmt"
	"log"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// An LSTM inside a graph that the caller owns: the caller's own input nodes
// and readout weights sit beside the LSTM's, and the caller's own tape
// machine and Gorgonia solver train them all.
func Example_callersGraph() {
	g := gorgonia.NewGraph()

	// The caller's nodes: 4 timesteps of 2 sequences with 1 feature, the
	// targets, and a readout from 8 hidden units to 1 output.
	inputs := [][]float64{{0.1, -0.4}, {0.3, 0.2}, {-0.2, 0.5}, {0.4, -0.1}}
	xs := make([]*gorgonia.Node, len(inputs))
	for t, v := range inputs {
		xs[t] = gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 1), tensor.WithBacking(v)), gorgonia.WithName(fmt.Sprintf("x%d", t)))
	}
	target := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{0.5, -0.5})), gorgonia.WithName("target"))
	readout := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, 8), tensor.WithBacking([]float64{0.1, -0.1, 0.2, -0.2, 0.1, -0.1, 0.2, -0.2})), gorgonia.WithName("readout"))

	// seqgraph's LSTM in the same graph.
	params, err := nodes.NewParams(tensor.Float64, 1)
	if err != nil {
		log.Fatal(err)
	}
	lstm, err := rnn.NewLSTM(g, params, "lstm1", 1, 8)
	if err != nil {
		log.Fatal(err)
	}
	u, err := rnn.Unroll(lstm, xs, rnn.WithOutputMode(rnn.Last))
	if err != nil {
		log.Fatal(err)
	}

	// The caller's loss: squared error of the readout of the last output.
	y := gorgonia.Must(nodes.MatMul(u.Outputs[0], readout, false, true))
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(y, target))))))

	learnables := append(lstm.Learnables(), readout)
	if _, err := gorgonia.Grad(loss, learnables...); err != nil {
		log.Fatal(err)
	}
	var lossVal gorgonia.Value
	gorgonia.Read(loss, &lossVal)
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(learnables...))
	defer vm.Close()
	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.05))

	var first float64
	for i := 0; i < 300; i++ {
		if err := vm.RunAll(); err != nil {
			log.Fatal(err)
		}
		if i == 0 {
			first = lossVal.Data().(float64)
		}
		if err := solver.Step(gorgonia.NodesToValueGrads(learnables)); err != nil {
			log.Fatal(err)
		}
		vm.Reset()
	}
	last := lossVal.Data().(float64)
	fmt.Printf("loss at the first step: %.3f\n", first)
	fmt.Printf("loss fell below 1e-3: %t\n", last < 1e-3 && !math.IsNaN(last))
	fmt.Println("forget gate of the last step:", u.Node("lstm1/t3/forget").Name())

	// Output:
	// loss at the first step: 0.509
	// loss fell below 1e-3: true
	// forget gate of the last step: lstm1/t3/forget
}
