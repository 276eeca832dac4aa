package main

import (
	"context"
	"fmt"
	"io"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/dataset/japanesevowels"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
)

// The conv1d demo rebuilds MATLAB's "Sequence Classification Using 1-D
// Convolutions" in its Japanese Vowels version: the speaker of a Japanese
// vowel from its 12 LPC cepstrum coefficients per timestep, as the vowels
// demo, with convolutions instead of a BiLSTM. MATLAB's layers: two blocks
// of a causal 1-D convolution (filters of 3 steps; 32, then 64 filters),
// ReLU and layer normalization, then global average pooling over time ->
// FullyConnected(9) -> softmax -> classification; adam, 15 epochs,
// mini-batches of 27, sequences padded on the left.
const (
	conv1dFilterSize = 3  // MATLAB's filter size
	conv1dFilters    = 32 // filters of the first block; the second has twice as many
	conv1dBatch      = 27 // MATLAB's mini-batch size
)

// conv1dBiLSTM is the test accuracy of the vowels demo (a BiLSTM of 100
// units per direction, 50 epochs, seed 1), printed for comparison.
const conv1dBiLSTM = "97.03% (go run ./cmd/demo vowels: BiLSTM(100), 50 epochs, seed 1)"

// vowelSets returns the Japanese Vowels training and test sets.
func vowelSets() (train, test *dataset.InMemory, err error) {
	if train, err = japanesevowels.Train(); err != nil {
		return nil, nil, err
	}
	test, err = japanesevowels.Test()
	return train, test, err
}

// conv1dExport is what the PyTorch twin reads: every utterance's 12
// coefficients per timestep.
type conv1dExport struct {
	TrainX, TestX              [][][]float64
	TrainLabels, TestLabels    []int
	Classes                    []string
	FilterSize, Filters, Batch int
	Epochs, Seed               int
}

func exportConv1D(path string, train, test *dataset.InMemory, epochs, _ int, seed uint64) error {
	return exportJSON(path, conv1dExport{TrainX: setRows(train), TestX: setRows(test),
		TrainLabels: collect(train.Len(), train.Label), TestLabels: collect(test.Len(), test.Label),
		Classes: japanesevowels.ClassNames(), FilterSize: conv1dFilterSize, Filters: conv1dFilters, Batch: conv1dBatch,
		Epochs: epochs, Seed: int(seed)})
}

func runConv1D(args []string, w io.Writer) error {
	fl := newCatalogFlags("conv1d", w, 15, "training epochs", 0)
	dir, train, test, err := fl.generated(args, vowelSets, exportConv1D)
	if err != nil {
		return err
	}
	epochs, seed := fl.epochs, fl.seed
	classes := japanesevowels.ClassNames()
	fmt.Fprintf(w, "Japanese vowels: %d training and %d test utterances of 12 features, %d speakers\n", train.Len(), test.Len(), len(classes))

	// The model: declare, train, predict, score.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(12),
		graph.Convolution1D(conv1dFilterSize, conv1dFilters, graph.WithCausalPadding()),
		graph.ReLU(),
		graph.LayerNormalization(),
		graph.Convolution1D(conv1dFilterSize, 2*conv1dFilters, graph.WithCausalPadding()),
		graph.ReLU(),
		graph.LayerNormalization(),
		graph.GlobalAveragePooling1D(),
		graph.FullyConnected(len(classes)),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithSeed(*seed), graph.WithClassNames(classes))
	if err != nil {
		return err
	}
	fmt.Fprint(w, net)
	net, history, err := graph.Train(context.Background(), net, train, graph.WithSolver("adam"), graph.WithMaxEpochs(*epochs),
		graph.WithMiniBatchSize(conv1dBatch), graph.WithSequencePadding(dataset.PadLeft, 0),
		graph.WithTrainSeed(*seed), graph.WithProgressOutput(w))
	if err != nil {
		return err
	}
	_, scores, err := net.Classify(test, conv1dBatch, dataset.WithPaddingDirection(dataset.PadLeft))
	if err != nil {
		return err
	}
	pred, truth := metrics.ArgMax(scores), collect(test.Len(), test.Label)
	acc, err := metrics.Accuracy(pred, truth)
	if err != nil {
		return err
	}

	progress, confusion, err := classifierPlots(dir, "conv1d", history, pred, truth, classes)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s\n", progress, confusion)
	fmt.Fprintf(w, "for comparison, the BiLSTM's test accuracy: %s\n", conv1dBiLSTM)
	fmt.Fprintf(w, "test accuracy (%%): %.2f\n", 100*acc)
	return nil
}
