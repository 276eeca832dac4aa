package graph

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestTimeLayerGradients checks whole training steps of networks with the
// layers over time, word embedding and layer normalization against central
// finite differences of the loss (float64), on batches padded on either
// side, where the padding must add nothing.
func TestTimeLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	seqs := randomSequences(t, rng, 3, 2, 4, 7)
	labelled, err := dataset.NewClassification(seqs, []int{0, 2, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]dataset.Sequence, 3)
	for i := range tokens {
		rows := make([][]float64, 3+2*i)
		for j := range rows {
			rows[j] = []float64{float64(1 + (i+j)%5)}
		}
		tokens[i], _ = dataset.NewSequence(rows)
	}
	tokenSet, _ := dataset.NewClassification(tokens, []int{1, 0, 2}, 3)
	head := []Layer{FullyConnected(3), Softmax(), ClassificationOutput()}
	cases := map[string]struct {
		layers []Layer
		data   dataset.Source
	}{
		"conv1d causal, layer norm, global average": {append([]Layer{SequenceInput(2), Convolution1D(2, 3, WithCausalPadding(), WithDilation(2)),
			LayerNormalization(), GlobalAveragePooling1D()}, head...), labelled},
		"conv1d strided, max pooling, lstm": {append([]Layer{SequenceInput(2), Convolution1D(2, 3, WithStride(2), WithSamePadding()),
			MaxPooling1D(2, WithPadding(1, 0)), LSTM(2, WithOutputMode(rnn.Last))}, head...), labelled},
		"average pooling, global max": {append([]Layer{SequenceInput(2), AveragePooling1D(2, WithSamePadding()), GlobalMaxPooling1D()}, head...), labelled},
		"word embedding":              {append([]Layer{SequenceInput(1), WordEmbedding(3, 6), GRU(2, WithOutputMode(rnn.Last))}, head...), tokenSet},
	}
	for name, c := range cases {
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			t.Run(name+"/"+dir.String(), func(t *testing.T) {
				net, err := NewNetwork(c.layers, WithDtype(tensor.Float64), WithSeed(4))
				if err != nil {
					t.Fatal(err)
				}
				b, err := dataset.MakeBatch(c.data, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0))
				if err != nil {
					t.Fatal(err)
				}
				if !b.Padded() {
					t.Fatal("the batch is not padded")
				}
				checkNetworkGradients(t, net, b)
			})
		}
	}
}

// TestTimeLayerErrors: bad declarations and bad input to the new layers are
// errors that say what and where, through NewNetwork, Train and Predict.
func TestTimeLayerErrors(t *testing.T) {
	in := func(ls ...Layer) []Layer {
		return append(append([]Layer{SequenceInput(2)}, ls...), FullyConnected(1), RegressionOutput())
	}
	declarations := map[string]struct {
		layers []Layer
		want   string
	}{
		"stride 0":              {in(Convolution1D(2, 3, WithStride(0)), LSTM(2)), `layer 2 (1-D Convolution "conv1d1"): stride 0; want at least 1`},
		"two strides":           {in(MaxPooling1D(2, WithStride(2, 1)), LSTM(2)), "a layer over time takes one stride"},
		"pool size 0":           {in(MaxPooling1D(0), LSTM(2)), "pool size [0]; want at least 1"},
		"dilation 0":            {in(Convolution1D(2, 3, WithDilation(0)), LSTM(2)), "dilation [0]; want at least 1"},
		"no filters":            {in(Convolution1D(2, 0), LSTM(2)), "filter size and filters [2 0]; want at least 1"},
		"negative padding":      {in(AveragePooling1D(2, WithPadding(-1, 0)), LSTM(2)), "padding [-1 0]"},
		"dilation on a pool":    {in(MaxPooling1D(2, WithDilation(2)), LSTM(2)), "1-D Max Pooling does not take a dilation"},
		"pool after last":       {in(LSTM(2, WithOutputMode(rnn.Last)), MaxPooling1D(2)), "needs sequences"},
		"embedding of features": {in(WordEmbedding(3, 5), LSTM(2)), "takes one feature per timestep, a token index, but gets 2"},
		"embedding weights": {[]Layer{SequenceInput(1), WordEmbedding(2, 3, WithWeights([]float64{1, 2})), LSTM(2), FullyConnected(1), RegressionOutput()},
			"2 initial weights; want 2×3"},
		"layer norm epsilon": {in(LayerNormalization(WithEpsilon(0)), LSTM(2)), "epsilon 0; want more than 0"},
	}
	for name, c := range declarations {
		t.Run(name, func(t *testing.T) {
			_, err := NewNetwork(c.layers)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v; want one containing %q", err, c.want)
			}
		})
	}

	rng := rand.New(rand.NewPCG(3, 4))
	short := randomSequences(t, rng, 2, 2, 2, 2)
	long := randomSequences(t, rng, 1, 2, 6, 6)
	data, _ := dataset.NewUnlabeled(append(short, long...))
	net, err := NewNetwork(in(Convolution1D(4, 2), LSTM(2, WithOutputMode(rnn.Last))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Predict(data, 3); err == nil || !strings.Contains(err.Error(), `layer "conv1d1"`) || !strings.Contains(err.Error(), "sequence 0") {
		t.Errorf("a filter longer than a sequence: error %v; want one naming the layer and the sequence", err)
	}
	words, _ := dataset.NewSequence([][]float64{{1}, {9}, {2}})
	tokens, _ := dataset.NewUnlabeled([]dataset.Sequence{words})
	emb, err := NewNetwork([]Layer{SequenceInput(1), WordEmbedding(2, 5), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emb.Predict(tokens, 1); err == nil || !strings.Contains(err.Error(), "sequence 0, step 1") {
		t.Errorf("an index beyond the vocabulary: error %v; want one naming the sequence and step", err)
	}
}
