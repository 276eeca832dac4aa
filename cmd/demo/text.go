package main

import (
	"context"
	"fmt"
	"io"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/dataset/text"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// The text demo rebuilds MATLAB's "Classify Text Data Using Deep Learning":
// the category of a factory report (mechanical, electronic or software
// failure, or a leak) from its description. The data is MathWorks'
// factoryReports.csv (480 reports), split by a stratified hold-out of 10%
// for testing. MATLAB's recipe: descriptions tokenized, lower-cased and
// stripped of punctuation; a word encoding built on the training reports
// only (here dataset/text's vocabulary: 0 padding, 1 an unknown word, the
// words from 2, most frequent first), each report a sequence of word
// indices; WordEmbedding(50) -> LSTM(80, output mode last) ->
// FullyConnected(4) -> softmax -> classification; adam, 10 epochs,
// mini-batches of 16 shuffled every epoch and padded to their longest
// report, gradient threshold 2.
const (
	textTestPart  = 0.1 // MATLAB's hold-out
	textDataSeed  = 1   // seed of the split, fixed so that every run tests the same reports
	textBatch     = 16  // MATLAB's mini-batch size
	textEmbedding = 50  // MATLAB's embedding dimension
	textThreshold = 2   // MATLAB's gradient threshold
)

// textNewReports are the new reports that MATLAB's example classifies
// after training.
var textNewReports = []string{
	"Coolant is pooling underneath sorter.",
	"Sorter blows fuses at start up.",
	"There are some very loud rattling sounds coming from the assembler.",
}

// textSet is the prepared data: the training and test reports as word
// index sequences, the vocabulary of the training reports and the classes.
type textSet struct {
	train, test *dataset.InMemory
	vocab       *text.Vocabulary
	classes     []string
}

func loadText(dir string) (*textSet, error) {
	path, err := embeddedFile(dir, "factory_reports/factoryReports.csv")
	if err != nil {
		return nil, err
	}
	cols, err := dataset.ReadCSVColumns(path, "Description", "Category")
	if err != nil {
		return nil, err
	}
	labels, classes, err := dataset.EncodeLabels(cols[1], nil)
	if err != nil {
		return nil, err
	}
	trainIdx, testIdx, err := dataset.StratifiedHoldOut(labels, textTestPart, textDataSeed)
	if err != nil {
		return nil, err
	}
	docs := text.TokenizeAll(cols[0])
	pick := func(idx []int) ([][]string, []int) {
		return collect(len(idx), func(k int) []string { return docs[idx[k]] }), collect(len(idx), func(k int) int { return labels[idx[k]] })
	}
	trainDocs, trainLabels := pick(trainIdx)
	testDocs, testLabels := pick(testIdx)
	set := &textSet{classes: classes}
	if set.vocab, err = text.NewVocabulary(trainDocs); err != nil {
		return nil, err
	}
	if set.train, err = set.vocab.Classification(trainDocs, trainLabels, len(classes)); err != nil {
		return nil, err
	}
	set.test, err = set.vocab.Classification(testDocs, testLabels, len(classes))
	return set, err
}

// textExport is the prepared data as the PyTorch twin reads it: each report
// as its word indices.
type textExport struct {
	TrainX, TestX                     [][]int
	TrainLabels, TestLabels           []int
	Classes                           []string
	VocabularySize, Embedding, Hidden int
	Batch, Epochs, Seed               int
	Threshold                         float64
}

func (s *textSet) export(path string, epochs, hidden int, seed uint64) error {
	indices := func(set *dataset.InMemory) [][]int {
		return collect(set.Len(), func(i int) []int {
			return collect(set.Sequence(i).T, func(t int) int { return int(set.Sequence(i).Data[t]) })
		})
	}
	return exportJSON(path, textExport{TrainX: indices(s.train), TestX: indices(s.test),
		TrainLabels: collect(s.train.Len(), s.train.Label), TestLabels: collect(s.test.Len(), s.test.Label),
		Classes: s.classes, VocabularySize: s.vocab.Size(), Embedding: textEmbedding, Hidden: hidden,
		Batch: textBatch, Epochs: epochs, Seed: int(seed), Threshold: textThreshold})
}

func runText(args []string, w io.Writer) error {
	fl := newCatalogFlags("text", w, 10, "training epochs", 80)
	dir, set, err := shipped(fl, args, loadText)
	if err != nil {
		return err
	}
	epochs, hidden, seed := fl.epochs, fl.hidden, fl.seed
	fmt.Fprintf(w, "factory reports: %d training and %d test reports, %d words in the training reports' vocabulary, classes %v\n",
		set.train.Len(), set.test.Len(), set.vocab.Size()-2, set.classes)

	// The model: declare, train, predict, score.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(1),
		graph.WordEmbedding(textEmbedding, set.vocab.Size()),
		graph.LSTM(*hidden, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(len(set.classes)),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithSeed(*seed), graph.WithClassNames(set.classes))
	if err != nil {
		return err
	}
	fmt.Fprint(w, net)
	net, history, err := graph.Train(context.Background(), net, set.train, graph.WithSolver("adam"), graph.WithMaxEpochs(*epochs),
		graph.WithMiniBatchSize(textBatch), graph.WithGradientThreshold(optim.L2Norm, textThreshold),
		graph.WithShuffle(dataset.ShuffleEveryEpoch), graph.WithTrainSeed(*seed), graph.WithProgressOutput(w))
	if err != nil {
		return err
	}
	_, scores, err := net.Classify(set.test, textBatch)
	if err != nil {
		return err
	}
	pred, truth := metrics.ArgMax(scores), collect(set.test.Len(), set.test.Label)
	acc, err := metrics.Accuracy(pred, truth)
	if err != nil {
		return err
	}

	if err := classifyNewReports(w, net, set.vocab); err != nil {
		return err
	}
	progress, confusion, err := classifierPlots(dir, "text", history, pred, truth, set.classes)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s\n", progress, confusion)
	fmt.Fprintf(w, "test accuracy (%%): %.2f\n", 100*acc)
	return nil
}

// classifyNewReports prints the category that net gives each of MATLAB's
// new reports, encoded with the training vocabulary (words it does not
// hold become the unknown word).
func classifyNewReports(w io.Writer, net *graph.Network, vocab *text.Vocabulary) error {
	seqs, err := vocab.Sequences(text.TokenizeAll(textNewReports))
	if err != nil {
		return err
	}
	reports, err := dataset.NewUnlabeled(seqs)
	if err != nil {
		return err
	}
	labels, _, err := net.Classify(reports, len(seqs))
	if err != nil {
		return err
	}
	for i, r := range textNewReports {
		fmt.Fprintf(w, "new report %q: %s\n", r, labels[i])
	}
	return nil
}
