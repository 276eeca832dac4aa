package graph_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/rnn"
)

// trendData returns sequences whose class says whether their first feature
// rises ("up") or falls ("down").
func trendData(n int, seed uint64) *dataset.InMemory {
	rng := rand.New(rand.NewPCG(seed, 1))
	var seqs []dataset.Sequence
	var labels []int
	for i := 0; i < n; i++ {
		slope := []float64{-0.3, 0.3}[i%2]
		rows := make([][]float64, 5+rng.IntN(8))
		for t := range rows {
			rows[t] = []float64{slope*float64(t) + 0.3*rng.NormFloat64(), rng.NormFloat64()}
		}
		seq, _ := dataset.NewSequence(rows)
		seqs, labels = append(seqs, seq), append(labels, i%2)
	}
	data, err := dataset.NewClassification(seqs, labels, 2)
	if err != nil {
		log.Fatal(err)
	}
	return data
}

// Training with MATLAB's options, validation and early stopping; then
// classifying new sequences by class name.
func ExampleTrain() {
	train, validation := trendData(200, 1), trendData(60, 2)
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(2, graph.WithInputNormalization(dataset.ZScore)),
		graph.LSTM(16, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithClassNames([]string{"down", "up"}))
	if err != nil {
		log.Fatal(err)
	}
	net, history, err := graph.Train(context.Background(), net, train,
		graph.WithSolver("adam"),
		graph.WithInitialLearnRate(0.01),
		graph.WithMaxEpochs(10),
		graph.WithMiniBatchSize(20),
		graph.WithShuffle(dataset.ShuffleEveryEpoch),
		graph.WithValidationData(validation),
		graph.WithValidationFrequency(20),
		graph.WithValidationPatience(5),
		graph.WithVerbose(false))
	if err != nil {
		log.Fatal(err)
	}
	last := history.Validations[len(history.Validations)-1]
	fmt.Printf("%d iterations, validation accuracy above 90%%: %t\n", len(history.Iterations), last.Accuracy > 90)

	labels, scores, err := net.Classify(trendData(4, 3), 4)
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range labels {
		fmt.Printf("sequence %d: %s (probabilities sum to 1: %t)\n", i, l, math.Abs(scores[i][0]+scores[i][1]-1) < 1e-6)
	}
	// Output:
	// 100 iterations, validation accuracy above 90%: true
	// sequence 0: down (probabilities sum to 1: true)
	// sequence 1: up (probabilities sum to 1: true)
	// sequence 2: down (probabilities sum to 1: true)
	// sequence 3: up (probabilities sum to 1: true)
}

// Stateful prediction: a series fed one timestep at a time gives the
// outputs it gives whole, as MATLAB's predictAndUpdateState.
func ExampleNetwork_PredictAndUpdateState() {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(1),
		graph.LSTM(8),
		graph.FullyConnected(1),
		graph.RegressionOutput(),
	})
	if err != nil {
		log.Fatal(err)
	}
	series := [][]float64{{0.1}, {0.4}, {0.2}, {-0.3}, {0.5}}
	seq, _ := dataset.NewSequence(series)
	data, _ := dataset.NewUnlabeled([]dataset.Sequence{seq})
	whole, _ := dataset.MakeBatch(data, []int{0})
	all, err := net.PredictAndUpdateState(whole)
	if err != nil {
		log.Fatal(err)
	}
	net.ResetState()
	same := true
	for t, x := range series {
		step := &dataset.Batch{B: 1, T: 1, F: 1, X: x, Mask: []float64{1}, Lengths: []int{1}}
		out, err := net.PredictAndUpdateState(step)
		if err != nil {
			log.Fatal(err)
		}
		same = same && out[0][0][0] == all[0][t][0]
	}
	fmt.Println("one step at a time equals the whole series:", same)
	// Output:
	// one step at a time equals the whole series: true
}

// Classify returns class names, as MATLAB's classify does, with the class
// probabilities.
func ExampleNetwork_Classify() {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(2),
		graph.GRU(8, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithClassNames([]string{"down", "up"}))
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := graph.Train(context.Background(), net, trendData(100, 1),
		graph.WithSolver("adam"), graph.WithInitialLearnRate(0.02), graph.WithMaxEpochs(15),
		graph.WithMiniBatchSize(10), graph.WithVerbose(false)); err != nil {
		log.Fatal(err)
	}
	// Padded on the left, so that every sequence ends at the last step.
	labels, _, err := net.Classify(trendData(6, 4), 3, dataset.WithPaddingDirection(dataset.PadLeft))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(labels)
	// Output:
	// [down up down up down up]
}
