package graph

import (
	"fmt"
	"math"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/internal/options"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// LayerOption sets a property of a built-in layer, MATLAB's name-value
// arguments. Each layer says which options it takes; giving it another is
// an error of NewNetwork. The values the options set are the layer's
// declaration: they build it and they are what a checkpoint saves.
type LayerOption func(*layerOptions)

// layerOptions holds the values of every layer option and which were
// given; each layer reads those it takes.
type layerOptions struct {
	name                              string
	mode                              rnn.OutputMode
	merge                             rnn.MergeMode
	gate, state                       nodes.Activation
	reset                             rnn.ResetGateMode
	inits                             []rnn.Option // the initializers given, for the cell
	cellType                          string
	norm                              dataset.Normalization
	pad, stride                       []int
	samePadding, causalPadding        bool
	dilation                          int
	epsilon, meanDecay, varianceDecay float64
	weights                           []float64
	given                             options.Given
}

// The names of the options, as errors give them.
const (
	optName     = "name"
	optMode     = "output mode"
	optGate     = "gate activation"
	optState    = "state activation"
	optInit     = "initializer"
	optReset    = "reset gate mode"
	optMerge    = "merge mode"
	optCellType = "cell type"
	optNorm     = "normalization"
	optPadding  = "padding"
	optStride   = "stride"
	optDilation = "dilation"
	optEpsilon  = "epsilon"
	optDecay    = "decay"
	optWeights  = "weights"
)

// declare applies opts over the defaults for a layer called title that
// takes the options accepted (and a name, which every layer takes).
func declare(title string, opts []LayerOption, accepted ...string) (layerOptions, error) {
	o := layerOptions{
		gate: nodes.Sigmoid, state: nodes.Tanh, dilation: 1,
		epsilon: nodes.LayerNormEpsilon, meanDecay: 0.1, varianceDecay: 0.1,
	}
	for _, opt := range opts {
		if opt == nil {
			return o, errors.Errorf("%s: nil option", title)
		}
		opt(&o)
	}
	return o, o.given.Check(title, append(accepted, optName)...)
}

func (o *layerOptions) mark(name string) { o.given.Mark(name) }

// WithName names the layer. Names must be unique; by default a layer is
// called by its kind and its rank among the layers of that kind ("lstm1",
// "fc2"). Learnables are named after their layer: "lstm1/InputWeights";
// a bidirectional layer's after its directions: "bilstm1/forward/Bias".
func WithName(name string) LayerOption {
	return func(o *layerOptions) { o.name = name; o.mark(optName) }
}

// WithOutputMode sets a recurrent layer's OutputMode: rnn.Sequence (the
// default, as in MATLAB), rnn.Last (MATLAB's 'last': the output at each
// sequence's last real timestep; for a bidirectional layer the backward
// half of it has read that timestep only, as in MATLAB's bilstmLayer) or
// rnn.Final (each direction's final state: the same as Last for one
// direction; for a bidirectional layer PyTorch's h_n, both halves having
// read the whole sequence).
func WithOutputMode(m rnn.OutputMode) LayerOption {
	return func(o *layerOptions) { o.mode = m; o.mark(optMode) }
}

// WithGateActivation sets the GateActivationFunction of an LSTM, GRU or
// BiLSTM layer (sigmoid by default).
func WithGateActivation(a nodes.Activation) LayerOption {
	return func(o *layerOptions) { o.gate = a; o.mark(optGate) }
}

// WithStateActivation sets the StateActivationFunction of an LSTM, GRU or
// BiLSTM layer (tanh by default).
func WithStateActivation(a nodes.Activation) LayerOption {
	return func(o *layerOptions) { o.state = a; o.mark(optState) }
}

// WithResetGateMode sets a GRU layer's ResetGateMode.
func WithResetGateMode(m rnn.ResetGateMode) LayerOption {
	return func(o *layerOptions) { o.reset = m; o.mark(optReset) }
}

// WithCellType names the cell of a Recurrent or Bidirectional layer ("mgu"),
// so that a saved network can be loaded again: Load finds the cell's factory
// by this name among those it is given (WithCellFactory).
func WithCellType(name string) LayerOption {
	return func(o *layerOptions) { o.cellType = name; o.mark(optCellType) }
}

// WithInputWeightsInitializer sets how an LSTM, GRU or BiLSTM layer's input
// weights start (Glorot by default; nodes.ParseInitializer takes MATLAB's
// names). A checkpoint keeps the trained values, not the initializers.
func WithInputWeightsInitializer(init nodes.Initializer) LayerOption {
	return initOption(rnn.WithInputWeightsInitializer(init))
}

// WithRecurrentWeightsInitializer sets how the recurrent weights start
// (orthogonal by default).
func WithRecurrentWeightsInitializer(init nodes.Initializer) LayerOption {
	return initOption(rnn.WithRecurrentWeightsInitializer(init))
}

// WithBiasInitializer sets how the biases start (unit forget gate for LSTM
// layers, zeros for GRU layers, by default).
func WithBiasInitializer(init nodes.Initializer) LayerOption {
	return initOption(rnn.WithBiasInitializer(init))
}

// initOption is the layer option that hands the cell option of an
// initializer on to the cell, which checks it.
func initOption(opt rnn.Option) LayerOption {
	return func(o *layerOptions) { o.inits = append(o.inits, opt); o.mark(optInit) }
}

// WithMergeMode sets how a bidirectional layer combines its directions
// (rnn.Concat by default, as MATLAB and PyTorch).
func WithMergeMode(m rnn.MergeMode) LayerOption {
	return func(o *layerOptions) { o.merge = m; o.mark(optMerge) }
}

// WithInputNormalization sets how a sequence input layer normalizes its
// data (MATLAB's Normalization: dataset.ZeroCenter, ZScore,
// RescaleSymmetric, RescaleZeroOne; none by default). The statistics come
// from the training data through Network.FitNormalization and stay with the
// network, which applies them to every batch it trains on or predicts.
func WithInputNormalization(mode dataset.Normalization) LayerOption {
	return func(o *layerOptions) { o.norm = mode; o.mark(optNorm) }
}

// WithPadding pads a convolution or pooling layer's input explicitly. For a
// 2-D convolution WithPadding(rows, columns) adds rows above and below and
// columns left and right of every frame; for a layer over time
// WithPadding(before, after) adds steps before and after each sequence
// (MATLAB's [left right]). No padding by default.
func WithPadding(a, b int) LayerOption {
	return func(o *layerOptions) { o.pad = []int{a, b}; o.mark(optPadding) }
}

// WithSamePadding pads a convolution or pooling layer's input so that, with
// stride 1, the output has the input's size (MATLAB's 'Padding','same'); a
// layer over time pads each sequence for its own length, the extra step
// after it.
func WithSamePadding() LayerOption {
	return func(o *layerOptions) { o.samePadding = true; o.mark(optPadding) }
}

// WithCausalPadding pads a layer over time before each sequence only, by
// (filter size - 1)·dilation steps, so that an output step depends on that
// step and earlier ones alone (MATLAB's 'Padding','causal').
func WithCausalPadding() LayerOption {
	return func(o *layerOptions) { o.causalPadding = true; o.mark(optPadding) }
}

// WithStride sets the step of a convolution or pooling layer: two values,
// vertical and horizontal, for a 2-D convolution; one, in timesteps, for a
// layer over time. 1 by default.
func WithStride(s ...int) LayerOption {
	return func(o *layerOptions) { o.stride = append([]int(nil), s...); o.mark(optStride) }
}

// WithDilation sets the dilation of a 1-D convolution (MATLAB's
// DilationFactor; 1 by default): its filter reads every d-th step.
func WithDilation(d int) LayerOption {
	return func(o *layerOptions) { o.dilation = d; o.mark(optDilation) }
}

// WithEpsilon sets the constant a normalization layer adds to the variance
// before its square root is taken (1e-5 by default, as MATLAB).
func WithEpsilon(e float64) LayerOption {
	return func(o *layerOptions) { o.epsilon = e; o.mark(optEpsilon) }
}

// WithDecay sets how much each training batch weighs in a batch
// normalization layer's running mean and variance (MATLAB's MeanDecay and
// VarianceDecay; 0.1 each by default).
func WithDecay(mean, variance float64) LayerOption {
	return func(o *layerOptions) { o.meanDecay, o.varianceDecay = mean, variance; o.mark(optDecay) }
}

// WithWeights gives a layer its initial weights (a word embedding's
// pretrained vectors), in row-major order of the learnable's shape.
func WithWeights(values []float64) LayerOption {
	return func(o *layerOptions) { o.weights = append([]float64(nil), values...); o.mark(optWeights) }
}

// cellOptions returns the rnn options that build a built-in cell with o's
// values (withReset for a GRU).
func (o layerOptions) cellOptions(withReset bool) []rnn.Option {
	opts := []rnn.Option{rnn.WithGateActivation(o.gate), rnn.WithStateActivation(o.state)}
	if withReset {
		opts = append(opts, rnn.WithResetGateMode(o.reset))
	}
	return append(opts, o.inits...)
}

// oneStride returns the stride of a layer over time: 1, or the one value
// given.
func (o layerOptions) oneStride() (int, error) {
	switch len(o.stride) {
	case 0:
		return 1, nil
	case 1:
		if o.stride[0] < 1 {
			return 0, errors.Errorf("stride %d; want at least 1", o.stride[0])
		}
		return o.stride[0], nil
	}
	return 0, errors.Errorf("stride %v: a layer over time takes one stride", o.stride)
}

// padding1D returns the padding of a layer over time.
func (o layerOptions) padding1D() (nodes.Padding1D, error) {
	switch {
	case o.samePadding:
		return nodes.Padding1D{Mode: nodes.PadSame}, nil
	case o.causalPadding:
		return nodes.Padding1D{Mode: nodes.PadCausal}, nil
	case o.pad == nil:
		return nodes.Padding1D{}, nil
	case o.pad[0] < 0 || o.pad[1] < 0:
		return nodes.Padding1D{}, errors.Errorf("padding %v; want steps before and after of at least 0", o.pad)
	}
	return nodes.Padding1D{Mode: nodes.PadExplicit, Left: o.pad[0], Right: o.pad[1]}, nil
}

// positive returns an error unless every value is at least 1.
func positive(what string, values ...int) error {
	for _, v := range values {
		if v < 1 {
			return errors.Errorf("%s %v; want at least 1", what, values)
		}
	}
	return nil
}

// finiteIn returns an error unless v is finite and in [lo, hi].
func finiteIn(what string, v, lo, hi float64) error {
	if math.IsNaN(v) || v < lo || v > hi {
		return errors.Errorf("%s %v outside [%v, %v]", what, v, lo, hi)
	}
	return nil
}

// base is what every built-in layer keeps of its declaration: its kind,
// title and name prefix, the name given, and the error found declaring it.
type base struct {
	kind, title, prefix string
	name                string
	err                 error
}

func newBase(kind, title, prefix string, o layerOptions, err error) base {
	return base{kind: kind, title: title, prefix: prefix, name: o.name, err: err}
}

func (l base) Title() string           { return l.title }
func (l base) namePrefix() string      { return l.prefix }
func (l base) declarationError() error { return l.err }

// spec returns the layer's spec with the given fields.
func (l base) spec(fields any) LayerSpec {
	return LayerSpec{Kind: l.kind, Name: l.name, Fields: fields}
}

// Describe is the default description: none.
func (l base) Describe(in, out Shape) string { return "" }

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// decodeName returns the option that gives a decoded layer its saved name.
func decodeName(name string) []LayerOption { return []LayerOption{WithName(name)} }

// describe formats details for a listing.
func describe(format string, args ...any) string { return fmt.Sprintf(format, args...) }
