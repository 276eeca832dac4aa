package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// recorder is a solver that keeps a copy of the gradients it is given and
// zeroes them without updating anything: it lets a test read the gradients
// of a training step.
type recorder struct{ grads map[string][]float64 }

func (r *recorder) Step(vgs []gorgonia.ValueGrad) error {
	r.grads = make(map[string][]float64)
	for _, vg := range vgs {
		g, err := vg.Grad()
		if err != nil {
			return err
		}
		d := g.(*tensor.Dense)
		r.grads[vg.(interface{ Name() string }).Name()] = append([]float64(nil), d.Data().([]float64)...)
		d.Zero()
	}
	return nil
}

// randomSequences returns n sequences of f features with lengths in
// [minT, maxT].
func randomSequences(t testing.TB, rng *rand.Rand, n, f, minT, maxT int) []dataset.Sequence {
	t.Helper()
	seqs := make([]dataset.Sequence, n)
	for i := range seqs {
		rows := make([][]float64, minT+rng.IntN(maxT-minT+1))
		for j := range rows {
			rows[j] = make([]float64, f)
			for k := range rows[j] {
				rows[j][k] = rng.NormFloat64()
			}
		}
		s, err := dataset.NewSequence(rows)
		if err != nil {
			t.Fatal(err)
		}
		seqs[i] = s
	}
	return seqs
}

func classifierLayers(f, k int) []Layer {
	return []Layer{
		SequenceInput(f),
		LSTM(4),
		LSTM(3, WithOutputMode(rnn.Last)),
		FullyConnected(k),
		Softmax(),
		ClassificationOutput(),
	}
}

// checkNetworkGradients compares the gradients of one training step on b
// with central differences of the loss TrainStep reports, for every element
// of every learnable, and returns the worst relative error.
func checkNetworkGradients(t *testing.T, net *Network, b *dataset.Batch) float64 {
	t.Helper()
	worst, err := CheckGradients(net, b)
	if err != nil {
		t.Fatal(err)
	}
	if worst.Relative > 1e-6 {
		t.Errorf("%v", worst)
	}
	return worst.Relative
}

// TestNetworkGradientsAgainstFiniteDifferences checks a whole training step,
// padded batch, mask, stacked layers, fully connected layer, softmax and
// loss, against central differences of the loss that TrainStep reports:
// fused LSTM layers on the plain path, and gate-node cells (peephole LSTM,
// a bidirectional CIFG) on the graph optimizer.
func TestNetworkGradientsAgainstFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	seqs := randomSequences(t, rng, 3, 2, 3, 5)
	cases := []struct {
		name   string
		layers []Layer
		src    func() (dataset.Source, error)
	}{
		{"classification", classifierLayers(2, 3), func() (dataset.Source, error) {
			return dataset.NewClassification(seqs, []int{2, 0, 1}, 3)
		}},
		{"regression", []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(2), RegressionOutput()},
			func() (dataset.Source, error) {
				return dataset.NewRegression(seqs, [][]float64{{1, -1}, {0.5, 2}, {-0.3, 0.1}})
			}},
		// Gate-node cells, on the graph optimizer.
		{"peephole", []Layer{SequenceInput(2), Recurrent(3, testCells()[1].cell, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()},
			func() (dataset.Source, error) {
				return dataset.NewClassification(seqs, []int{2, 0, 1}, 3)
			}},
		{"bidirectional cifg", []Layer{SequenceInput(2), Bidirectional(3, newTestCIFG, WithOutputMode(rnn.Last)), FullyConnected(2), RegressionOutput()},
			func() (dataset.Source, error) {
				return dataset.NewRegression(seqs, [][]float64{{1, -1}, {0.5, 2}, {-0.3, 0.1}})
			}},
	}
	for _, c := range cases {
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			t.Run(c.name+"/"+dir.String(), func(t *testing.T) {
				net, err := NewNetwork(c.layers, WithDtype(tensor.Float64), WithSeed(3))
				if err != nil {
					t.Fatal(err)
				}
				src, err := c.src()
				if err != nil {
					t.Fatal(err)
				}
				b, err := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0.7))
				if err != nil {
					t.Fatal(err)
				}
				if !b.Padded() {
					t.Fatal("test batch is not padded")
				}
				t.Logf("worst relative error %.3g", checkNetworkGradients(t, net, b))
			})
		}
	}
}

func TestCompilesOncePerShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := randomSequences(t, rng, 64, 3, 6, 6)
	labels := make([]int, len(seqs))
	for i := range labels {
		labels[i] = i % 2
	}
	src, err := dataset.NewClassification(seqs, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(classifierLayers(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	solver, err := optim.NewAdam()
	if err != nil {
		t.Fatal(err)
	}
	batcher, err := dataset.NewBatcher(src, 8, dataset.WithShuffle(1))
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for epoch := 0; epoch < 3; epoch++ {
		for b, err := range batcher.Epoch(epoch) {
			if err != nil {
				t.Fatal(err)
			}
			if _, err := net.TrainStep(b, solver); err != nil {
				t.Fatal(err)
			}
			steps++
		}
	}
	if got := net.Compilations(); got != 1 {
		t.Errorf("%d training steps on one shape compiled %d graphs, want 1", steps, got)
	}
	if _, err := net.Predict(src, 8); err != nil {
		t.Fatal(err)
	}
	if got := net.Compilations(); got != 2 {
		t.Errorf("prediction on the same shape: %d compilations, want 2 (one training, one inference graph)", got)
	}
	if _, err := net.Predict(src, 5); err != nil { // batches of 5 and a last one of 4
		t.Fatal(err)
	}
	if got := net.Compilations(); got != 4 {
		t.Errorf("after two new batch sizes: %d compilations, want 4", got)
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 3, 2, 2, 4))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(classifierLayers(2, 2), WithCacheSize(1))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		for _, idx := range [][]int{{0}, {0, 1}} {
			if _, err := net.Predict(src, len(idx)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := net.cache.count.Load(); n != 1 {
		t.Errorf("cache holds programs of %d keys, want 1", n)
	}
}

// TestPaddingChangesNothing: each sequence's prediction in a padded batch,
// padded either way with a non-zero padding value, equals its prediction
// alone.
func TestPaddingChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 5, 3, 1, 9))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(classifierLayers(3, 4), WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	alone, err := net.Predict(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		batched, err := net.Predict(src, 5, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(-3))
		if err != nil {
			t.Fatal(err)
		}
		for i := range alone {
			for k := range alone[i] {
				if d := math.Abs(alone[i][k] - batched[i][k]); d > 1e-12 {
					t.Errorf("%v: sequence %d class %d: alone %v, in the batch %v", dir, i, k, alone[i][k], batched[i][k])
				}
			}
		}
	}
}

func TestBadInputIsAnError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := randomSequences(t, rng, 2, 3, 3, 4)
	src, err := dataset.NewClassification(seqs, []int{0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(classifierLayers(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	good, err := dataset.MakeBatch(src, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	solver, _ := optim.NewAdam()
	mutate := func(f func(b *dataset.Batch)) *dataset.Batch {
		b := good.Clone()
		f(b)
		return b
	}
	cases := []struct {
		name  string
		batch *dataset.Batch
		want  string
	}{
		{"nil batch", nil, "nil batch"},
		{"empty batch", &dataset.Batch{F: 3}, "empty batch"},
		{"wrong feature count", mutate(func(b *dataset.Batch) { b.F = 2; b.X = b.X[:b.B*b.T*2] }), "network's sequence input takes 3"},
		{"NaN", mutate(func(b *dataset.Batch) { b.X[b.T*b.F+b.F+2] = math.NaN() }), "sequence 1 of the batch (observation 1): input at timestep 1, value 2 is NaN"},
		{"beyond float32", mutate(func(b *dataset.Batch) { b.X[3] = 1e39 }), "input at timestep 1, value 0 is 1e+39, beyond the range of the network's float32"},
		{"label out of range", mutate(func(b *dataset.Batch) { b.Labels[1] = 2 }), "label 2 is outside"},
		{"negative label", mutate(func(b *dataset.Batch) { b.Labels[0] = -1 }), "label -1 is outside"},
		{"missing labels", mutate(func(b *dataset.Batch) { b.Labels = nil }), "0 labels for 2 sequences"},
		{"all-padding sequence", mutate(func(b *dataset.Batch) {
			for t := 0; t < b.T; t++ {
				b.Mask[t] = 0
			}
			b.Lengths[0] = 0
		}), "sequence 0 of the batch (observation 0) is empty"},
		{"mask with a hole", mutate(func(b *dataset.Batch) { b.Mask[1] = 0 }),
			"sequence 0 of the batch (observation 0): mask at timestep 1 is 0, but its length 3 padded on the right makes it 1"},
		{"lengths disagree with the mask", mutate(func(b *dataset.Batch) { b.Lengths[1]-- }),
			"sequence 1 of the batch (observation 1): mask at timestep 3 is 1, but its length 3 padded on the right makes it 0"},
		{"no lengths", mutate(func(b *dataset.Batch) { b.Lengths = nil }), "malformed batch"},
	}
	before, _ := net.Learnable("lstm1/InputWeights")
	for _, c := range cases {
		_, err := net.TrainStep(c.batch, solver)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	after, _ := net.Learnable("lstm1/InputWeights")
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("a rejected batch changed the weights")
		}
	}
	if err := net.SetLearnable("lstm1/InputWeights", make([]float64, 5)); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("weights of the wrong shape: error %v", err)
	}
	if err := net.SetLearnable("lstm9/Bias", nil); err == nil {
		t.Error("an unknown learnable gave no error")
	}
	if _, err := net.TrainStep(good, nil); err == nil {
		t.Error("a nil solver gave no error")
	}
}

func TestBadLayerArraysAreErrors(t *testing.T) {
	cases := []struct {
		name   string
		layers []Layer
		want   string
	}{
		{"too short", []Layer{SequenceInput(2)}, "needs an input"},
		{"no input", []Layer{LSTM(3), FullyConnected(1), RegressionOutput()}, "starts with the one sequence input"},
		{"zero hidden units", []Layer{SequenceInput(2), LSTM(0, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "0 hidden units"},
		{"lstm after last", []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), LSTM(3), FullyConnected(1), RegressionOutput()}, "needs sequences"},
		{"no softmax", []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(2), ClassificationOutput()}, "softmax layer before"},
		{"output not last", []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), RegressionOutput(), FullyConnected(1)}, "must come last"},
		{"duplicate name", []Layer{SequenceInput(2), LSTM(3, WithName("a")), LSTM(3, WithName("a"), WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, "already used"},
		{"option on wrong layer", []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(1, WithOutputMode(rnn.Last)), RegressionOutput()}, "does not take a output mode"},
		{"dropout probability", []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), Dropout(1), FullyConnected(1), RegressionOutput()}, "outside [0, 1)"},
		{"nil layer", []Layer{SequenceInput(2), nil, FullyConnected(1), RegressionOutput()}, "layer 2 is nil"},
	}
	for _, c := range cases {
		_, err := NewNetwork(c.layers)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestBiasesAreNotRegularized: every learnable whose name ends in "Bias"
// has L2 factor 0 (MATLAB's BiasL2Factor 0, its GRU's recurrent bias being
// part of its Bias), every other 1.
func TestBiasesAreNotRegularized(t *testing.T) {
	net, err := NewNetwork([]Layer{SequenceInput(2), GRU(3), LayerNormalization(), FullyConnected(2), RegressionOutput()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := net.acquire(programKey{batch: 1, steps: 2, train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.release(p)
	want := map[string]float64{"gru1/InputWeights": 1, "gru1/RecurrentWeights": 1, "gru1/Bias": 0, "gru1/RecurrentBias": 0,
		"layernorm1/Scale": 1, "layernorm1/Offset": 1, "fc1/Weights": 1, "fc1/Bias": 0}
	for _, vg := range p.valueGrads {
		l := vg.(learnable)
		if f, ok := want[l.Name()]; !ok || l.L2Factor() != f {
			t.Errorf("%s: L2 factor %v, want %v", l.Name(), l.L2Factor(), f)
		}
		delete(want, l.Name())
	}
	if len(want) > 0 {
		t.Errorf("learnables %v are not trained", want)
	}
}
