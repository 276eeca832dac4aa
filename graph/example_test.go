package graph_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// Sequence-to-label classification, MATLAB style: does a sequence of 2
// features trend up or down? The README's quick start is this example.
func Example() {
	// Sequences of lengths 5 to 15, two features, and a label per sequence.
	rng := rand.New(rand.NewPCG(1, 2))
	var seqs []dataset.Sequence
	var labels []int
	for i := 0; i < 200; i++ {
		label, slope := i%2, 0.2
		if label == 0 {
			slope = -0.2
		}
		rows := make([][]float64, 5+rng.IntN(11))
		for t := range rows {
			rows[t] = []float64{slope*float64(t) + 0.3*rng.NormFloat64(), rng.NormFloat64()}
		}
		seq, err := dataset.NewSequence(rows)
		if err != nil {
			log.Fatal(err)
		}
		seqs, labels = append(seqs, seq), append(labels, label)
	}
	data, err := dataset.NewClassification(seqs, labels, 2)
	if err != nil {
		log.Fatal(err)
	}

	// The layer array, as in MATLAB.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(2),
		graph.LSTM(16, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithSeed(1))
	if err != nil {
		log.Fatal(err)
	}

	// Train: mini-batches of 20, padded on the right, shuffled every epoch.
	solver, err := optim.NewAdam(optim.WithLearnRate(0.01))
	if err != nil {
		log.Fatal(err)
	}
	batches, err := dataset.NewBatcher(data, 20, dataset.WithShuffle(1))
	if err != nil {
		log.Fatal(err)
	}
	for epoch := 0; epoch < 15; epoch++ {
		for batch, err := range batches.Epoch(epoch) {
			if err != nil {
				log.Fatal(err)
			}
			if _, err := net.TrainStep(batch, solver); err != nil {
				log.Fatal(err)
			}
		}
	}

	// Predict class probabilities and count the right answers.
	scores, err := net.Predict(data, 50)
	if err != nil {
		log.Fatal(err)
	}
	right := 0
	for i, s := range scores {
		if (s[1] > s[0]) == (labels[i] == 1) {
			right++
		}
	}
	fmt.Printf("training accuracy above 90%%: %t\n", right > 180)
	// Output:
	// training accuracy above 90%: true
}

// ExampleNetwork_Summary lists a network's layers with their outputs and
// learnables, as Keras's model.summary does.
func ExampleNetwork_Summary() {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(12),
		graph.LSTM(100, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(9),
		graph.Softmax(),
		graph.ClassificationOutput(),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(net.Summary())
	// Output:
	// layer           kind                   output          learnables                                               parameters
	// sequenceinput1  Sequence Input         sequence of 12                                                           0
	// lstm1           LSTM                   100             Bias 400, InputWeights 400×12, RecurrentWeights 400×100  45200
	// fc1             Fully Connected        9               Bias 9, Weights 9×100                                    909
	// softmax1        Softmax                9                                                                        0
	// classoutput1    Classification Output  9                                                                        0
	// total parameters: 46109
}
