package graph

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestParallelTrainingEqualsSerial: training steps with the batch split
// between workers give the weights and losses of serial steps, up to
// rounding, for padded batches of every task.
func TestParallelTrainingEqualsSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	seqs := randomSequences(t, rng, 12, 3, 2, 8)
	labels := make([]int, len(seqs))
	stepLabels := make([][]int, len(seqs))
	for i, s := range seqs {
		labels[i] = i % 3
		for j := 0; j < s.T; j++ {
			stepLabels[i] = append(stepLabels[i], (i+j)%3)
		}
	}
	perSeq, _ := dataset.NewClassification(seqs, labels, 3)
	perStep, _ := dataset.NewStepClassification(seqs, stepLabels, 3)
	cases := map[string]struct {
		layers []Layer
		src    dataset.Source
	}{
		"sequence to label":    {[]Layer{SequenceInput(3), LSTM(5), GRU(4, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()}, perSeq},
		"sequence to sequence": {[]Layer{SequenceInput(3), BiLSTM(3), FullyConnected(3), Softmax(), ClassificationOutput()}, perStep},
	}
	for name, c := range cases {
		for _, workers := range []int{2, 3, 5} {
			t.Run(name, func(t *testing.T) {
				serial, _ := NewNetwork(c.layers, WithDtype(tensor.Float64))
				parallel, _ := NewNetwork(c.layers, WithDtype(tensor.Float64))
				s1, _ := optim.NewSGDM(optim.WithLearnRate(0.1))
				s2, _ := optim.NewSGDM(optim.WithLearnRate(0.1))
				batches, _ := dataset.NewBatcher(c.src, 12, dataset.WithPaddingDirection(dataset.PadLeft))
				for epoch := 0; epoch < 3; epoch++ {
					for b, err := range batches.Epoch(epoch) {
						if err != nil {
							t.Fatal(err)
						}
						l1, err := serial.TrainStep(b, s1)
						if err != nil {
							t.Fatal(err)
						}
						l2, err := parallel.TrainStepParallel(b, s2, workers)
						if err != nil {
							t.Fatal(err)
						}
						if !closeTo(l1, l2, 1e-12) {
							t.Fatalf("%d workers: loss %v, serial %v", workers, l2, l1)
						}
					}
				}
				for _, l := range serial.Learnables() {
					a, _ := serial.Learnable(l)
					b, _ := parallel.Learnable(l)
					for i := range a {
						if !closeTo(b[i], a[i], 1e-12) {
							t.Fatalf("%d workers: %s[%d] = %v, serial %v", workers, l, i, b[i], a[i])
						}
					}
				}
			})
		}
	}
	video, _ := NewNetwork(videoLayers())
	b, _ := dataset.MakeBatch(videoData(t), []int{0, 1, 2})
	if _, err := video.TrainStepParallel(b, &recorder{}, 2); err == nil || !strings.Contains(err.Error(), "batch normalization") {
		t.Errorf("a network with batch normalization: %v", err)
	}
}
