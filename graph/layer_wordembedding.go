package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// wordEmbedding maps token indices to vectors.
type wordEmbedding struct {
	base
	dimension, vocabulary int
	opts                  layerOptions
}

// WordEmbedding maps each timestep's token index to a vector of dimension
// values (MATLAB's wordEmbeddingLayer, PyTorch's nn.Embedding with
// padding_idx 0; nodes.Embedding computes it). Its input is one feature per
// timestep holding an index: 0 is padding, which maps to the zero vector and
// gets no gradient; 1 … vocabularySize-1 are tokens (dataset/text's
// vocabularies number words so: 0 padding, 1 the unknown word). An index
// that is not an integer in [0, vocabularySize) is an error that names its
// sequence and step. Weights is dimension×vocabularySize, a vector per
// column (MATLAB's layout; PyTorch's weight is its transpose), initialized
// from a normal distribution of standard deviation 0.01 (MATLAB's
// "narrow-normal") or given WithWeights (pretrained vectors, in row-major
// order). Padded timesteps read as index 0, whatever the padding value.
func WordEmbedding(dimension, vocabularySize int, opts ...LayerOption) Layer {
	o, err := declare("Word Embedding", opts, optWeights)
	return &wordEmbedding{base: newBase("word-embedding", "Word Embedding", "embedding", o, err), dimension: dimension, vocabulary: vocabularySize, opts: o}
}

func (l *wordEmbedding) Output(in Shape) (Shape, error) {
	switch {
	case l.dimension <= 0 || l.vocabulary <= 1:
		return Shape{}, errors.Errorf("dimension %d and vocabulary size %d; want at least 1 and 2 (padding and a token)", l.dimension, l.vocabulary)
	case l.opts.weights != nil && len(l.opts.weights) != l.dimension*l.vocabulary:
		return Shape{}, errors.Errorf("%d initial weights; want %d×%d", len(l.opts.weights), l.dimension, l.vocabulary)
	case in.Features != 1:
		return Shape{}, errors.Errorf("takes one feature per timestep, a token index, but gets %d", in.Features)
	}
	if err := sequenceFeatures(in); err != nil {
		return Shape{}, err
	}
	return Shape{Features: l.dimension, Sequence: true}, nil
}

func (l *wordEmbedding) Build(b *Builder, in Value) (Value, error) {
	init := nodes.NarrowNormal()
	if l.opts.weights != nil {
		init = func(_ *rand.Rand, _ tensor.Shape, out []float64) error { copy(out, l.opts.weights); return nil }
	}
	w, err := b.Learnable("Weights", tensor.Shape{l.dimension, l.vocabulary}, init)
	if err != nil {
		return Value{}, err
	}
	var zeros *gorgonia.Node
	if in.Mask.Steps != nil {
		zeros = b.Input(b.Name()+"/padding", []int{b.BatchSize(), 1}, func(*dataset.Batch, int) float64 { return 0 })
	}
	return b.EachStep(in, func(x *gorgonia.Node, t int) (*gorgonia.Node, error) {
		if zeros != nil {
			var err error
			if x, err = nodes.Masked(x, zeros, in.Mask.Steps[t]); err != nil {
				return nil, err
			}
		}
		return nodes.Embedding(x, w, nodes.EmbeddingSpec{Batch: b.BatchSize(), FirstStep: t})
	})
}

func (l *wordEmbedding) Describe(_, _ Shape) string {
	return describe("dimension %d, vocabulary of %d (0 is padding)", l.dimension, l.vocabulary)
}

// Spec saves the dimension and vocabulary size; the weights, initial or
// trained, are the checkpoint's tensors.
func (l *wordEmbedding) Spec() LayerSpec {
	return l.spec(struct {
		Dimension      int `json:"dimension"`
		VocabularySize int `json:"vocabularySize"`
	}{l.dimension, l.vocabulary})
}

func init() {
	builtinKinds["word-embedding"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			Dimension      *int `json:"dimension"`
			VocabularySize *int `json:"vocabularySize"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("dimension", f.Dimension), need("vocabularySize", f.VocabularySize)); err != nil {
			return nil, err
		}
		return WordEmbedding(*f.Dimension, *f.VocabularySize, decodeName(name)...), nil
	}
}

// torchModule: nn.Embedding(V, D, padding_idx=0), weight (V×D), the
// transpose of WordEmbedding's Weights (D×V).
func (l *wordEmbedding) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	t := n.torchParam("weight", nl.name+"/Weights")
	t.shape = []int{l.vocabulary, l.dimension}
	t.transposed = true
	return torchModule{class: "nn.Embedding", tensors: []torchTensor{t}}, nil
}
