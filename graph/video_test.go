package graph

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// videoLayers is MATLAB's video classification layer array: frames folded
// into the batch for convolution, batch normalization and ReLU, unfolded and
// flattened for the LSTM.
func videoLayers() []Layer {
	return []Layer{
		ImageSequenceInput(3, 3, 2),
		SequenceFolding(),
		Convolution2D(3, 3, 2, WithSamePadding()),
		BatchNormalization(),
		ReLU(),
		SequenceUnfolding(),
		Flatten(),
		LSTM(3, WithOutputMode(rnn.Last)),
		FullyConnected(3),
		Softmax(),
		ClassificationOutput(),
	}
}

func videoData(t *testing.T) *dataset.InMemory {
	rng := rand.New(rand.NewPCG(6, 7))
	src, err := dataset.NewClassification(randomSequences(t, rng, 3, 2*3*3, 2, 4), []int{0, 2, 1}, 3,
		dataset.WithFrame(dataset.FrameShape{C: 2, H: 3, W: 3}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestVideoNetworkGradients(t *testing.T) {
	src := videoData(t)
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		t.Run(dir.String(), func(t *testing.T) {
			net, err := NewNetwork(videoLayers(), WithDtype(tensor.Float64), WithSeed(2))
			if err != nil {
				t.Fatal(err)
			}
			b, err := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0.4))
			if err != nil {
				t.Fatal(err)
			}
			if !b.Padded() {
				t.Fatal("test batch is not padded")
			}
			// The check trains; it must leave the network as it was,
			// running statistics included, which predictions read.
			before, err := net.PredictBatch(b)
			if err != nil {
				t.Fatal(err)
			}
			checkNetworkGradients(t, net, b)
			after, err := net.PredictBatch(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("predictions before the gradient check %v, after %v", before, after)
			}
		})
	}
}

func TestVideoNetworkPaddingAndRunningStatistics(t *testing.T) {
	src := videoData(t)
	net, err := NewNetwork(videoLayers(), WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	if s := net.String(); !strings.Contains(s, "3x3x2 images") || !strings.Contains(s, "-> 3x3x2") {
		t.Errorf("layer listing:\n%s", s)
	}
	if got := net.LearnableShape("conv1/Weights"); !tensor.Shape(got).Eq(tensor.Shape{2, 2, 3, 3}) {
		t.Errorf("conv1/Weights has shape %v", got)
	}
	// Training moves the running statistics away from 0 and 1.
	b, _ := dataset.MakeBatch(src, []int{0, 1, 2})
	before := *net.batchNorm["batchnorm1"]
	before.Mean = append([]float64(nil), before.Mean...)
	if _, err := net.TrainStep(b, &recorder{}); err != nil {
		t.Fatal(err)
	}
	after := net.batchNorm["batchnorm1"]
	if after.Mean[0] == before.Mean[0] {
		t.Error("a training step left the running mean as it was")
	}
	// Prediction uses the running statistics, so a sequence's prediction
	// does not depend on the batch it is in, nor on padding.
	for i := 0; i < 3; i++ {
		one, _ := dataset.MakeBatch(src, []int{i})
		alone, err := net.PredictBatch(one)
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			all, _ := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(-1))
			batched, err := net.PredictBatch(all)
			if err != nil {
				t.Fatal(err)
			}
			for k := range alone[0] {
				if !closeTo(batched[i][k], alone[0][k], 1e-12) {
					t.Fatalf("%v: sequence %d: %v in the batch, %v alone", dir, i, batched[i], alone[0])
				}
			}
		}
	}
	if mean := after.Mean[0]; mean != net.batchNorm["batchnorm1"].Mean[0] {
		t.Error("prediction changed the running statistics")
	}
	bad := b.Clone()
	bad.Frame = dataset.FrameShape{C: 1, H: 3, W: 6}
	if _, err := net.PredictBatch(bad); err == nil || !strings.Contains(err.Error(), "frames of 1x3x6 (CxHxW)") {
		t.Errorf("frames of the wrong shape: %v", err)
	}
}

func TestVideoLayerOrderIsChecked(t *testing.T) {
	cases := []struct {
		name   string
		layers []Layer
		want   string
	}{
		{"conv without folding", []Layer{ImageSequenceInput(4, 4, 1), Convolution2D(3, 3, 2), SequenceUnfolding(), Flatten(), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "put a sequence folding layer"},
		{"lstm on folded frames", []Layer{ImageSequenceInput(4, 4, 1), SequenceFolding(), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "unfold them first"},
		{"lstm on frames", []Layer{ImageSequenceInput(4, 4, 1), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "flatten them first"},
		{"folding plain features", []Layer{SequenceInput(4), SequenceFolding(), SequenceUnfolding(), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "needs an image sequence input"},
		{"filter too large", []Layer{ImageSequenceInput(2, 2, 1), SequenceFolding(), Convolution2D(3, 3, 2), SequenceUnfolding(), Flatten(), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "do not fit"},
		{"stride on lstm", []Layer{SequenceInput(2), LSTM(2, WithStride(2, 2), WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "does not take a stride"},
	}
	for _, c := range cases {
		_, err := NewNetwork(c.layers)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
