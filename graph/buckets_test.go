package graph

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestStepBucketsAreExact is the property behind WithStepBuckets: a
// training step on a batch padded to its bucket's length gives the loss and
// the weights (so the gradients) of a step on the batch itself, to 1e-12 in
// float64, for LSTM, BiLSTM and GRU networks, sequence-to-label and
// sequence-to-sequence, padded left and right; and the padded batches
// compile one graph per bucket.
func TestStepBucketsAreExact(t *testing.T) {
	const f, k, h = 3, 4, 5
	rng := rand.New(rand.NewPCG(31, 32))
	seqs := randomSequences(t, rng, 5, f, 2, 11)
	labels := make([]int, len(seqs))
	stepLabels := make([][]int, len(seqs))
	for i, s := range seqs {
		labels[i] = i % k
		for j := 0; j < s.T; j++ {
			stepLabels[i] = append(stepLabels[i], (i+j)%k)
		}
	}
	perSeq, err := dataset.NewClassification(seqs, labels, k)
	if err != nil {
		t.Fatal(err)
	}
	perStep, err := dataset.NewStepClassification(seqs, stepLabels, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"lstm", "bilstm", "gru"} {
		for _, mode := range []rnn.OutputMode{rnn.Last, rnn.Sequence} {
			for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
				name := fmt.Sprintf("%s/%v/%v", kind, mode, dir)
				rec := LSTM(h, WithOutputMode(mode))
				switch kind {
				case "bilstm":
					rec = BiLSTM(h, WithOutputMode(mode))
				case "gru":
					rec = GRU(h, WithOutputMode(mode))
				}
				src := dataset.Source(perSeq)
				if mode == rnn.Sequence {
					src = perStep
				}
				layers := []Layer{SequenceInput(f), rec, FullyConnected(k), Softmax(), ClassificationOutput()}
				exact, err := NewNetwork(layers, WithDtype(tensor.Float64), WithStepBuckets(false))
				if err != nil {
					t.Fatal(err)
				}
				bucketed, err := NewNetwork(layers, WithDtype(tensor.Float64))
				if err != nil {
					t.Fatal(err)
				}
				if !bucketed.stepBuckets {
					t.Fatalf("%s: step buckets are off by default", name)
				}
				for _, idx := range [][]int{{0, 1, 2}, {3, 4}, {1, 3}, {2}} {
					b, err := dataset.MakeBatch(src, idx, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(-2))
					if err != nil {
						t.Fatal(err)
					}
					var losses [2]float64
					for i, net := range []*Network{exact, bucketed} {
						solver, err := optim.NewSGDM(optim.WithLearnRate(0.5), optim.WithMomentum(0))
						if err != nil {
							t.Fatal(err)
						}
						if losses[i], err = net.TrainStep(b, solver); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
					}
					if !closeTo(losses[1], losses[0], 1e-12) {
						t.Errorf("%s %v (T=%d): loss %.15g on the bucket's graph, %.15g on the batch's own", name, idx, b.T, losses[1], losses[0])
					}
				}
				for _, l := range exact.Learnables() {
					want, _ := exact.Learnable(l)
					got, _ := bucketed.Learnable(l)
					for j := range want {
						if !closeTo(got[j], want[j], 1e-12) {
							t.Errorf("%s: %s[%d] = %.15g after training on bucket graphs, %.15g on the batches' own", name, l, j, got[j], want[j])
							break
						}
					}
				}
				// Lengths up to 11 fall in the buckets 2, 4, 8 and 16.
				if c := bucketed.Compilations(); c > exact.Compilations() || c > 4 {
					t.Errorf("%s: %d graphs compiled with buckets, %d without", name, c, exact.Compilations())
				}
			}
		}
	}
}

func TestStepBucketDefaults(t *testing.T) {
	for _, c := range []struct {
		layers []Layer
		opts   []Option
		want   bool
	}{
		{[]Layer{SequenceInput(2), LSTM(3), FullyConnected(2), RegressionOutput()}, nil, true},
		{[]Layer{SequenceInput(2), BiLSTM(3), Dropout(0.2), LSTM(3), FullyConnected(2), RegressionOutput()}, nil, true},
		{[]Layer{SequenceInput(2), LSTM(3), FullyConnected(2), RegressionOutput()}, []Option{WithStepBuckets(false)}, false},
		{[]Layer{SequenceInput(2), LSTM(3), GRU(3), FullyConnected(2), RegressionOutput()}, nil, true},
		{[]Layer{SequenceInput(2), GRU(3), Recurrent(3, newCkptMGU, WithCellType("mgu")), FullyConnected(2), RegressionOutput()}, nil, false},
		{[]Layer{SequenceInput(2), Recurrent(3, newCkptMGU, WithCellType("mgu")), FullyConnected(2), RegressionOutput()}, []Option{WithStepBuckets(true)}, true},
		// Every padded frame goes through the convolution, with or
		// without batch normalization after it.
		{[]Layer{ImageSequenceInput(4, 4, 1), SequenceFolding(), Convolution2D(3, 3, 2), ReLU(), SequenceUnfolding(), Flatten(),
			LSTM(3), FullyConnected(2), RegressionOutput()}, nil, false},
		{[]Layer{ImageSequenceInput(4, 4, 1), SequenceFolding(), Convolution2D(3, 3, 2), BatchNormalization(), ReLU(), SequenceUnfolding(), Flatten(),
			LSTM(3), FullyConnected(2), RegressionOutput()}, nil, false},
		{[]Layer{SequenceInput(2), Convolution1D(3, 2, WithCausalPadding()), LSTM(3), FullyConnected(2), RegressionOutput()}, nil, false},
	} {
		net, err := NewNetwork(c.layers, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if net.stepBuckets != c.want {
			t.Errorf("%s: step buckets %v, want %v", layerNames(net), net.stepBuckets, c.want)
		}
	}
	for _, c := range [][2]int{{1, 1}, {2, 2}, {3, 4}, {7, 8}, {8, 8}, {9, 16}, {29, 32}, {1000, 1024}} {
		if got := stepBucket(c[0]); got != c[1] {
			t.Errorf("stepBucket(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}

// layerNames lists a network's layers by name.
func layerNames(net *Network) string {
	names := make([]string, len(net.layers))
	for i, l := range net.layers {
		names[i] = l.name
	}
	return strings.Join(names, " ")
}
