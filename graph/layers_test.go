package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

func peepholeFactory(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
	return rnn.NewPeepholeLSTM(g, p, name, in, out)
}

func gruFactory(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
	return rnn.NewGRU(g, p, name, in, out, rnn.WithResetGateMode(rnn.BeforeMultiplication))
}

// recurrentNetworks are small classifiers with every kind of recurrent layer.
var recurrentNetworks = map[string][]Layer{
	"gru": {SequenceInput(2), GRU(3, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()},
	"bilstm then gru": {SequenceInput(2), BiLSTM(2), GRU(3, WithOutputMode(rnn.Last), WithResetGateMode(rnn.BeforeMultiplication)),
		FullyConnected(3), Softmax(), ClassificationOutput()},
	"bilstm last": {SequenceInput(2), BiLSTM(2, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()},
	"bidirectional gru mean": {SequenceInput(2), Bidirectional(3, gruFactory, WithMergeMode(rnn.Mean), WithOutputMode(rnn.Last)),
		FullyConnected(3), Softmax(), ClassificationOutput()},
	"peephole over lstm": {SequenceInput(2), LSTM(3), Recurrent(2, peepholeFactory, WithOutputMode(rnn.Last)),
		FullyConnected(3), Softmax(), ClassificationOutput()},
}

func TestRecurrentLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	seqs := randomSequences(t, rng, 3, 2, 2, 5)
	src, err := dataset.NewClassification(seqs, []int{2, 0, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for name, layers := range recurrentNetworks {
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			t.Run(name+"/"+dir.String(), func(t *testing.T) {
				net, err := NewNetwork(layers, WithDtype(tensor.Float64), WithSeed(3))
				if err != nil {
					t.Fatal(err)
				}
				// Peephole weights start at zero; move every learnable away
				// from its initialization so that all paths carry gradient.
				for _, l := range net.Learnables() {
					v, _ := net.Learnable(l)
					for i := range v {
						v[i] += 0.3 * rng.NormFloat64()
					}
					if err := net.SetLearnable(l, v); err != nil {
						t.Fatal(err)
					}
				}
				b, err := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0.5))
				if err != nil {
					t.Fatal(err)
				}
				checkNetworkGradients(t, net, b)
			})
		}
	}
}

func TestBidirectionalLayerNamesAndSizes(t *testing.T) {
	net, err := NewNetwork(recurrentNetworks["bilstm then gru"])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bilstm1/backward/Bias", "bilstm1/forward/InputWeights", "gru1/RecurrentWeights", "fc1/Weights"}
	for _, name := range want {
		if net.LearnableShape(name) == nil {
			t.Errorf("no learnable %q in %v", name, net.Learnables())
		}
	}
	if s := net.LearnableShape("gru1/InputWeights"); s[1] != 4 {
		t.Errorf("gru1 reads %d features, want the BiLSTM's 2×2", s[1])
	}
	if net.LearnableShape("gru1/RecurrentBias") != nil {
		t.Error("a GRU before multiplication has a recurrent bias")
	}
	if !strings.Contains(net.String(), "merge concat") {
		t.Errorf("layer listing:\n%v", net)
	}
	_, err = NewNetwork([]Layer{SequenceInput(2), LSTM(3, WithMergeMode(rnn.Sum), WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()})
	if err == nil || !strings.Contains(err.Error(), "does not take a merge mode") {
		t.Errorf("a merge mode on an LSTM layer: %v", err)
	}
	_, err = NewNetwork([]Layer{SequenceInput(2), Recurrent(3, nil, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()})
	if err == nil || !strings.Contains(err.Error(), "nil cell factory") {
		t.Errorf("a nil cell factory: %v", err)
	}
	wrongSize := func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
		return rnn.NewGRU(g, p, name, in, out+1)
	}
	_, err = NewNetwork([]Layer{SequenceInput(2), Recurrent(3, wrongSize, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()})
	if err == nil || !strings.Contains(err.Error(), "the layer needs") {
		t.Errorf("a cell of the wrong size: %v", err)
	}
}

// trainedWeights trains a network with dropout between stacked layers for
// two shuffled epochs and returns all its learnables.
func trainedWeights(t *testing.T, seed uint64) map[string][]float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 4))
	seqs := randomSequences(t, rng, 24, 3, 2, 7)
	labels := make([]int, len(seqs))
	for i := range labels {
		labels[i] = rng.IntN(3)
	}
	src, err := dataset.NewClassification(seqs, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork([]Layer{
		SequenceInput(3), LSTM(6), Dropout(0.2), GRU(5), Dropout(0.2), BiLSTM(4, WithOutputMode(rnn.Last)),
		FullyConnected(3), Softmax(), ClassificationOutput(),
	}, WithSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	solver, _ := optim.NewAdam(optim.WithLearnRate(0.01))
	batches, err := dataset.NewBatcher(src, 8, dataset.WithShuffle(int64(seed)))
	if err != nil {
		t.Fatal(err)
	}
	for epoch := 0; epoch < 2; epoch++ {
		for b, err := range batches.Epoch(epoch) {
			if err != nil {
				t.Fatal(err)
			}
			if _, err := net.TrainStep(b, solver); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := map[string][]float64{}
	for _, name := range net.Learnables() {
		out[name], _ = net.Learnable(name)
	}
	return out
}

func TestSameSeedTrainsBitIdentically(t *testing.T) {
	a, b, c := trainedWeights(t, 11), trainedWeights(t, 11), trainedWeights(t, 12)
	differs := false
	for name, va := range a {
		for i := range va {
			if math.Float64bits(va[i]) != math.Float64bits(b[name][i]) {
				t.Fatalf("%s[%d]: %v and %v from one seed", name, i, va[i], b[name][i])
			}
			differs = differs || va[i] != c[name][i]
		}
	}
	if !differs {
		t.Error("two seeds trained the same weights")
	}
}

func TestActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 3, 2, 2, 4))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(recurrentNetworks["bilstm then gru"], WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dataset.MakeBatch(src, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := net.Activations(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string]tensor.Shape{
		"bilstm1/forward/t0/forget": {3, 2},
		"bilstm1/backward/t0/cell":  {3, 2},
		"bilstm1/t1":                {3, 4},
		"gru1/t3/update":            {3, 3},
		"gru1":                      {3, 3},
		"fc1":                       {3, 3},
		"softmax1":                  {3, 3},
	} {
		v, ok := acts[name]
		if !ok {
			t.Errorf("no activation %q", name)
			continue
		}
		if !v.Shape().Eq(shape) {
			t.Errorf("%s has shape %v, want %v", name, v.Shape(), shape)
		}
	}
	pred, err := net.PredictBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	probs := acts["softmax1"].Data().([]float64)
	for i := range pred {
		for k := range pred[i] {
			if math.Abs(pred[i][k]-probs[i*3+k]) > 1e-15 {
				t.Fatalf("softmax1 activation %v differs from the prediction %v", probs, pred)
			}
		}
	}
	// The last GRU output is the hidden state of each sequence's last
	// real step.
	gru, last := acts["gru1"].Data().([]float64), map[int]int{}
	for s := 0; s < 3; s++ {
		last[s] = b.Lengths[s] - 1
	}
	for s := 0; s < 3; s++ {
		h := acts[rnnNodeName("gru1", last[s], "hidden")].Data().([]float64)
		for j := 0; j < 3; j++ {
			if gru[s*3+j] != h[s*3+j] {
				t.Errorf("sequence %d: gru1 output %v, hidden state at its last step %v", s, gru[s*3:s*3+3], h[s*3:s*3+3])
				break
			}
		}
	}
	if _, err := net.Activations(b, "lstm9/t0/forget"); err == nil || !strings.Contains(err.Error(), "bilstm1/") {
		t.Errorf("an unknown name: %v", err)
	}
}

func rnnNodeName(cell string, t int, part string) string {
	return rnn.Step{T: t}.NodeName(cell, part)
}

// TestLayerInitializers checks that the initializer options of the built-in
// recurrent layers reach their cells: every value of a learnable is the
// constant its option gives, and a nil initializer is an error, as it is
// for the cell (rnn.WithInputWeightsInitializer).
func TestLayerInitializers(t *testing.T) {
	inits := []LayerOption{
		WithInputWeightsInitializer(nodes.Constant(0.25)),
		WithRecurrentWeightsInitializer(nodes.Constant(-0.5)),
		WithBiasInitializer(nodes.Constant(2)),
	}
	for _, c := range []struct {
		name   string
		layer  Layer
		prefix []string
	}{
		{"lstm", LSTM(3, inits...), []string{"lstm1/"}},
		{"gru", GRU(3, inits...), []string{"gru1/"}},
		{"bilstm", BiLSTM(3, inits...), []string{"bilstm1/forward/", "bilstm1/backward/"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			net, err := NewNetwork([]Layer{SequenceInput(2), c.layer, FullyConnected(1), RegressionOutput()})
			if err != nil {
				t.Fatal(err)
			}
			for _, prefix := range c.prefix {
				for part, want := range map[string]float64{"InputWeights": 0.25, "RecurrentWeights": -0.5, "Bias": 2} {
					v, err := net.Learnable(prefix + part)
					if err != nil {
						t.Fatal(err)
					}
					for i, x := range v {
						if x != want {
							t.Fatalf("%s%s[%d] = %v, want %v", prefix, part, i, x, want)
						}
					}
				}
			}
		})
	}
	for _, c := range []struct {
		opt  LayerOption
		want string
	}{
		{WithInputWeightsInitializer(nil), "nil input weights initializer"},
		{WithRecurrentWeightsInitializer(nil), "nil recurrent weights initializer"},
		{WithBiasInitializer(nil), "nil bias initializer"},
	} {
		_, err := NewNetwork([]Layer{SequenceInput(2), LSTM(3, c.opt), FullyConnected(1), RegressionOutput()})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v; want one saying %s", err, c.want)
		}
	}
}
