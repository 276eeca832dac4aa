package graph

import (
	"context"
	"testing"

	"github.com/seqgraph/seqgraph/dataset"
)

// TestTrainPerStepOnBucketedGraph trains sequence-to-sequence networks
// through Train with the default options, where step buckets pad a batch
// of 5 steps to a graph of 8: the mini-batch metrics must read the batch
// that ran (8 steps), not the one Train was given (5). The reproductions of
// a crash in the metrics: one per-step regression sequence of 5 steps, and
// 4 per-step classification sequences of 5 steps with 2 classes.
func TestTrainPerStepOnBucketedGraph(t *testing.T) {
	rows := [][]float64{{1}, {2}, {3}, {4}, {5}}
	x, err := dataset.NewSequence(rows)
	if err != nil {
		t.Fatal(err)
	}
	regression, err := dataset.NewStepRegression([]dataset.Sequence{x}, []dataset.Sequence{x})
	if err != nil {
		t.Fatal(err)
	}
	labels := [][]int{{0, 1, 0, 1, 0}, {1, 1, 0, 0, 1}, {0, 0, 0, 1, 1}, {1, 0, 1, 0, 1}}
	classification, err := dataset.NewStepClassification([]dataset.Sequence{x, x, x, x}, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data   dataset.Source
		layers []Layer
	}{
		"regression":     {regression, []Layer{SequenceInput(1), LSTM(4), FullyConnected(1), RegressionOutput()}},
		"classification": {classification, []Layer{SequenceInput(1), LSTM(4), FullyConnected(2), Softmax(), ClassificationOutput()}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			net, err := NewNetwork(c.layers)
			if err != nil {
				t.Fatal(err)
			}
			if !net.stepBuckets {
				t.Fatal("step buckets are off: the case would not pad to a bucket")
			}
			_, h, err := Train(context.Background(), net, c.data, WithVerbose(false), WithMaxEpochs(2))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range h.Iterations {
				if net.IsClassifier() && !(r.Accuracy >= 0 && r.Accuracy <= 100) || !net.IsClassifier() && !(r.RMSE >= 0) {
					t.Errorf("iteration %d: accuracy %v, RMSE %v", r.Iteration, r.Accuracy, r.RMSE)
				}
			}
		})
	}
}
