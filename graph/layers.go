package graph

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

type layerKind int

const (
	sequenceInputLayer layerKind = iota + 1
	lstmLayer
	gruLayer
	bilstmLayer
	recurrentLayer
	bidirectionalLayer
	dropoutLayer
	imageSequenceInputLayer
	foldingLayer
	convolutionLayer
	batchNormLayer
	reluLayer
	unfoldingLayer
	flattenLayer
	fullyConnectedLayer
	softmaxLayer
	classificationLayer
	regressionLayer
)

// layerInfo is what each kind of layer is called and which options it takes.
var layerInfo = map[layerKind]struct {
	prefix, title string
	options       []string
}{
	sequenceInputLayer:      {"sequenceinput", "Sequence Input", []string{optNorm}},
	lstmLayer:               {"lstm", "LSTM", []string{optMode, optGate, optState, optInit}},
	gruLayer:                {"gru", "GRU", []string{optMode, optGate, optState, optInit, optReset}},
	bilstmLayer:             {"bilstm", "BiLSTM", []string{optMode, optGate, optState, optInit, optMerge}},
	recurrentLayer:          {"rnn", "Recurrent", []string{optMode, optCellType}},
	bidirectionalLayer:      {"birnn", "Bidirectional", []string{optMode, optMerge, optCellType}},
	dropoutLayer:            {"dropout", "Dropout", nil},
	imageSequenceInputLayer: {"sequenceinput", "Image Sequence Input", []string{optNorm}},
	foldingLayer:            {"fold", "Sequence Folding", nil},
	convolutionLayer:        {"conv", "2-D Convolution", []string{optPadding, optStride}},
	batchNormLayer:          {"batchnorm", "Batch Normalization", nil},
	reluLayer:               {"relu", "ReLU", nil},
	unfoldingLayer:          {"unfold", "Sequence Unfolding", nil},
	flattenLayer:            {"flatten", "Flatten", nil},
	fullyConnectedLayer:     {"fc", "Fully Connected", nil},
	softmaxLayer:            {"softmax", "Softmax", nil},
	classificationLayer:     {"classoutput", "Classification Output", nil},
	regressionLayer:         {"regressionoutput", "Regression Output", nil},
}

func (k layerKind) recurrent() bool { return k >= lstmLayer && k <= bidirectionalLayer }

func (k layerKind) bidirectional() bool { return k == bilstmLayer || k == bidirectionalLayer }

const (
	optMode     = "output mode"
	optGate     = "gate activation"
	optState    = "state activation"
	optInit     = "initializer"
	optReset    = "reset gate mode"
	optMerge    = "merge mode"
	optPadding  = "padding"
	optNorm     = "normalization"
	optCellType = "cell type"
	optStride   = "stride"
)

// Layer is one entry of a layer array, declared as in MATLAB:
//
//	layers := []graph.Layer{
//		graph.SequenceInput(12),
//		graph.LSTM(100, graph.WithOutputMode(rnn.Last)),
//		graph.FullyConnected(9),
//		graph.Softmax(),
//		graph.ClassificationOutput(),
//	}
type Layer struct {
	kind    layerKind
	size    int     // features, hidden units, outputs or filters
	p       float64 // dropout probability
	newCell CellFactory
	frame   dataset.FrameShape // image input shape; convolution filter: H and W
	opts    []LayerOption
}

// CellFactory builds the cell of a Recurrent or Bidirectional layer in graph
// g, with its learnables in p under name: rnn.NewLSTM and any custom cell's
// constructor fit it with a one-line closure.
type CellFactory func(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, outputSize int) (rnn.Cell, error)

// LayerOption sets a property of a layer. Giving a layer an option that it
// does not have is an error of NewNetwork.
type LayerOption func(*layerConfig)

type layerConfig struct {
	name  string
	mode  rnn.OutputMode
	merge rnn.MergeMode
	cell  []rnn.Option
	// The values behind the cell options, kept so that a checkpoint can
	// declare the layer again; initializers are not kept (a checkpoint
	// holds the trained values).
	gate, state nodes.Activation
	reset       rnn.ResetGateMode
	cellType    string
	samePadding bool
	norm        dataset.Normalization
	pad, stride [2]int
	set         []string
}

// WithName names the layer. Names must be unique; by default a layer is
// called by its kind and its rank among the layers of that kind ("lstm1",
// "fc2"). Learnables are named after their layer: "lstm1/InputWeights";
// a bidirectional layer's after its directions: "bilstm1/forward/Bias".
func WithName(name string) LayerOption {
	return func(c *layerConfig) { c.name = name }
}

// WithOutputMode sets a recurrent layer's OutputMode: rnn.Sequence (the
// default, as in MATLAB), rnn.Last (MATLAB's 'last': the output at each
// sequence's last real timestep; for a bidirectional layer the backward
// half of it has read that timestep only, as in MATLAB's bilstmLayer) or
// rnn.Final (each direction's final state: the same as Last for one
// direction; for a bidirectional layer PyTorch's h_n, both halves having
// read the whole sequence).
func WithOutputMode(m rnn.OutputMode) LayerOption {
	return func(c *layerConfig) { c.mode = m; c.set = append(c.set, optMode) }
}

// WithGateActivation sets the GateActivationFunction of an LSTM, GRU or
// BiLSTM layer (sigmoid by default).
func WithGateActivation(a nodes.Activation) LayerOption {
	set := cellOption(optGate, rnn.WithGateActivation(a))
	return func(c *layerConfig) { set(c); c.gate = a }
}

// WithStateActivation sets the StateActivationFunction of an LSTM, GRU or
// BiLSTM layer (tanh by default).
func WithStateActivation(a nodes.Activation) LayerOption {
	set := cellOption(optState, rnn.WithStateActivation(a))
	return func(c *layerConfig) { set(c); c.state = a }
}

// WithResetGateMode sets a GRU layer's ResetGateMode.
func WithResetGateMode(m rnn.ResetGateMode) LayerOption {
	set := cellOption(optReset, rnn.WithResetGateMode(m))
	return func(c *layerConfig) { set(c); c.reset = m }
}

// WithCellType names the cell of a Recurrent or Bidirectional layer ("mgu"),
// so that a saved network can be loaded again: Load finds the cell's factory
// by this name among those it is given.
func WithCellType(name string) LayerOption {
	return func(c *layerConfig) { c.cellType = name; c.set = append(c.set, optCellType) }
}

// WithInputWeightsInitializer sets how an LSTM, GRU or BiLSTM layer's input
// weights start (Glorot by default; nodes.ParseInitializer takes MATLAB's
// names).
func WithInputWeightsInitializer(init nodes.Initializer) LayerOption {
	return cellOption(optInit, rnn.WithInputWeightsInitializer(init))
}

// WithRecurrentWeightsInitializer sets how the recurrent weights start
// (orthogonal by default).
func WithRecurrentWeightsInitializer(init nodes.Initializer) LayerOption {
	return cellOption(optInit, rnn.WithRecurrentWeightsInitializer(init))
}

// WithBiasInitializer sets how the biases start (unit forget gate for LSTM
// layers, zeros for GRU layers, by default).
func WithBiasInitializer(init nodes.Initializer) LayerOption {
	return cellOption(optInit, rnn.WithBiasInitializer(init))
}

// WithMergeMode sets how a bidirectional layer combines its directions
// (rnn.Concat by default, as MATLAB and PyTorch).
func WithMergeMode(m rnn.MergeMode) LayerOption {
	return func(c *layerConfig) { c.merge = m; c.set = append(c.set, optMerge) }
}

// WithInputNormalization sets how a sequence input layer normalizes its
// data (MATLAB's Normalization: dataset.ZeroCenter, ZScore,
// RescaleSymmetric, RescaleZeroOne; none by default). The statistics come
// from the training data through Network.FitNormalization and stay with the
// network, which applies them to every batch it trains on or predicts.
func WithInputNormalization(mode dataset.Normalization) LayerOption {
	return func(c *layerConfig) { c.norm = mode; c.set = append(c.set, optNorm) }
}

// WithPadding pads a convolution layer's input with ph rows above and below
// and pw columns left and right (0 by default).
func WithPadding(ph, pw int) LayerOption {
	return func(c *layerConfig) { c.pad = [2]int{ph, pw}; c.set = append(c.set, optPadding) }
}

// WithSamePadding pads a convolution layer's input so that, with stride 1,
// the output has the input's height and width (MATLAB's 'Padding','same').
func WithSamePadding() LayerOption {
	return func(c *layerConfig) { c.samePadding = true; c.set = append(c.set, optPadding) }
}

// WithStride sets a convolution layer's vertical and horizontal step (1
// by default).
func WithStride(sh, sw int) LayerOption {
	return func(c *layerConfig) { c.stride = [2]int{sh, sw}; c.set = append(c.set, optStride) }
}

func cellOption(name string, o rnn.Option) LayerOption {
	return func(c *layerConfig) { c.cell = append(c.cell, o); c.set = append(c.set, name) }
}

// SequenceInput is the input of sequences of the given number of features
// per timestep. It comes first.
func SequenceInput(features int, opts ...LayerOption) Layer {
	return Layer{kind: sequenceInputLayer, size: features, opts: opts}
}

// LSTM is a long short-term memory layer of hidden units (rnn.LSTM).
func LSTM(hidden int, opts ...LayerOption) Layer {
	return Layer{kind: lstmLayer, size: hidden, opts: opts}
}

// GRU is a gated recurrent unit layer of hidden units (rnn.GRU).
func GRU(hidden int, opts ...LayerOption) Layer {
	return Layer{kind: gruLayer, size: hidden, opts: opts}
}

// BiLSTM is MATLAB's bilstmLayer: an LSTM over the sequence forwards and one
// backwards, each of hidden units, their outputs concatenated (2×hidden
// features) unless WithMergeMode says otherwise.
func BiLSTM(hidden int, opts ...LayerOption) Layer {
	return Layer{kind: bilstmLayer, size: hidden, opts: opts}
}

// Recurrent is a recurrent layer of any cell, custom ones included, whose
// output has outputs features. The cell's own options go into the factory.
func Recurrent(outputs int, newCell CellFactory, opts ...LayerOption) Layer {
	return Layer{kind: recurrentLayer, size: outputs, newCell: newCell, opts: opts}
}

// Bidirectional makes any cell bidirectional: one cell (called
// "<layer>/forward") reads the sequence forwards, another
// ("<layer>/backward") backwards from each sequence's last real step, and
// their outputs of hidden features each are merged.
func Bidirectional(hidden int, newCell CellFactory, opts ...LayerOption) Layer {
	return Layer{kind: bidirectionalLayer, size: hidden, newCell: newCell, opts: opts}
}

// Dropout zeroes each input with probability p while training, scaling the
// others by 1/(1-p); it is the identity at prediction. Between recurrent
// layers it gives the seeds' stacked LSTM with dropout.
func Dropout(p float64, opts ...LayerOption) Layer {
	return Layer{kind: dropoutLayer, p: p, opts: opts}
}

// ImageSequenceInput is the input of sequences of images (video) of the
// given height, width and channels: MATLAB's sequenceInputLayer([h w c]).
// Batches carry each frame as C·H·W features in channel, row, column order
// (dataset.FrameShape). It comes first.
func ImageSequenceInput(height, width, channels int, opts ...LayerOption) Layer {
	return Layer{kind: imageSequenceInputLayer, frame: dataset.FrameShape{C: channels, H: height, W: width}, opts: opts}
}

// SequenceFolding folds the timesteps of an image sequence into the batch,
// [T·B, C, H, W], so that the layers after it apply to every frame on its
// own, until SequenceUnfolding.
func SequenceFolding(opts ...LayerOption) Layer { return Layer{kind: foldingLayer, opts: opts} }

// Convolution2D convolves every folded frame with filters filters of
// height×width (Glorot weights, zero bias). It takes WithPadding,
// WithSamePadding and WithStride.
func Convolution2D(height, width, filters int, opts ...LayerOption) Layer {
	return Layer{kind: convolutionLayer, size: filters, frame: dataset.FrameShape{H: height, W: width}, opts: opts}
}

// BatchNormalization normalizes every channel of the folded frames with the
// statistics of the mini-batch's real frames (padding frames are left out),
// then scales and shifts it (learnables Scale, 1, and Offset, 0); prediction
// uses running statistics, kept with the network.
func BatchNormalization(opts ...LayerOption) Layer { return Layer{kind: batchNormLayer, opts: opts} }

// ReLU is max(0, x), elementwise, on folded frames or on features.
func ReLU(opts ...LayerOption) Layer { return Layer{kind: reluLayer, opts: opts} }

// SequenceUnfolding restores the timesteps of folded frames: one
// B×(C·H·W) node per timestep again.
func SequenceUnfolding(opts ...LayerOption) Layer { return Layer{kind: unfoldingLayer, opts: opts} }

// Flatten makes unfolded frames plain features, C·H·W per timestep, for a
// recurrent layer.
func Flatten(opts ...LayerOption) Layer { return Layer{kind: flattenLayer, opts: opts} }

// FullyConnected maps its input to outputs values: at every timestep of a
// sequence, or once after a recurrent layer with OutputMode Last.
func FullyConnected(outputs int, opts ...LayerOption) Layer {
	return Layer{kind: fullyConnectedLayer, size: outputs, opts: opts}
}

// Softmax turns scores into class probabilities; a ClassificationOutput
// follows it.
func Softmax(opts ...LayerOption) Layer { return Layer{kind: softmaxLayer, opts: opts} }

// ClassificationOutput is the cross-entropy loss over classes, averaged over
// the mini-batch. It comes last, after Softmax.
func ClassificationOutput(opts ...LayerOption) Layer {
	return Layer{kind: classificationLayer, opts: opts}
}

// RegressionOutput is the half mean squared error of MATLAB's regression
// layer, averaged over the mini-batch. It comes last.
func RegressionOutput(opts ...LayerOption) Layer {
	return Layer{kind: regressionLayer, opts: opts}
}

// layer is a validated layer of a network.
type layer struct {
	// frame is the image shape of the layer's output: set from the image
	// input to Flatten; folded marks [T·B, C, H, W] output.
	frame       dataset.FrameShape
	folded      bool
	kernel      [2]int
	pad, stride [2]int
	kind        layerKind
	name        string
	in          int // features in
	hidden      int // features of each direction of a recurrent layer
	out         int // features out
	seqIn       bool
	seqOut      bool
	p           float64
	mode        rnn.OutputMode
	merge       rnn.MergeMode
	cell        []rnn.Option
	newCell     CellFactory
	norm        dataset.Normalization // of the input layer
	// decl is the declaration the layer was resolved from, and gate,
	// state, reset and cellType the option values, for checkpoints.
	decl        Layer
	gate, state nodes.Activation
	reset       rnn.ResetGateMode
	cellType    string
}

func (l layer) String() string {
	title := layerInfo[l.kind].title
	switch {
	case l.kind == sequenceInputLayer:
		return fmt.Sprintf("%-18s %-22s %d features", l.name, title, l.out)
	case l.kind == imageSequenceInputLayer:
		return fmt.Sprintf("%-18s %-22s %dx%dx%d images", l.name, title, l.frame.H, l.frame.W, l.frame.C)
	case l.kind == convolutionLayer:
		return fmt.Sprintf("%-18s %-22s %d %dx%d filters, stride %v, padding %v -> %dx%dx%d", l.name, title, l.frame.C, l.kernel[0], l.kernel[1], l.stride, l.pad, l.frame.H, l.frame.W, l.frame.C)
	case l.kind.bidirectional():
		return fmt.Sprintf("%-18s %-22s %d hidden units per direction, merge %v, output mode %v", l.name, title, l.hidden, l.merge, l.mode)
	case l.kind.recurrent():
		return fmt.Sprintf("%-18s %-22s %d hidden units, output mode %v", l.name, title, l.out, l.mode)
	case l.kind == dropoutLayer:
		return fmt.Sprintf("%-18s %-22s probability %g", l.name, title, l.p)
	case l.kind == fullyConnectedLayer:
		return fmt.Sprintf("%-18s %-22s %d -> %d", l.name, title, l.in, l.out)
	}
	return fmt.Sprintf("%-18s %s", l.name, title)
}

// resolve validates a layer array and works out every layer's sizes.
func resolve(ls []Layer) ([]layer, error) {
	if len(ls) < 3 {
		return nil, errors.Errorf("graph: a network needs an input, at least one layer and an output; got %d layers", len(ls))
	}
	out := make([]layer, len(ls))
	count := map[layerKind]int{}
	names := map[string]int{}
	for i, l := range ls {
		info, ok := layerInfo[l.kind]
		if !ok {
			return nil, errors.Errorf("graph: layer %d is not a layer (use the constructors of package graph)", i+1)
		}
		count[l.kind]++
		cfg := layerConfig{name: fmt.Sprintf("%s%d", info.prefix, count[l.kind]), gate: nodes.Sigmoid, state: nodes.Tanh, stride: [2]int{1, 1}}
		for _, o := range l.opts {
			if o == nil {
				return nil, errors.Errorf("graph: layer %d (%s): nil option", i+1, info.title)
			}
			o(&cfg)
		}
		for _, s := range cfg.set {
			if !contains(info.options, s) {
				return nil, errors.Errorf("graph: layer %d (%s) does not take a %s", i+1, info.title, s)
			}
		}
		if j, dup := names[cfg.name]; dup || cfg.name == "" || strings.Contains(cfg.name, "/") {
			return nil, errors.Errorf("graph: layer %d: name %q is empty, has a slash or is already used by layer %d", i+1, cfg.name, j)
		}
		names[cfg.name] = i + 1
		cur := layer{kind: l.kind, name: cfg.name, p: l.p, mode: cfg.mode, merge: cfg.merge, cell: cfg.cell, newCell: l.newCell, norm: cfg.norm,
			decl: l, gate: cfg.gate, state: cfg.state, reset: cfg.reset, cellType: cfg.cellType}
		if i > 0 {
			cur.in, cur.seqIn = out[i-1].out, out[i-1].seqOut
		}
		where := fmt.Sprintf("graph: layer %d (%s %q)", i+1, info.title, cfg.name)
		isInput := l.kind == sequenceInputLayer || l.kind == imageSequenceInputLayer
		if (i == 0) != isInput {
			return nil, errors.Errorf("%s: a network starts with the one sequence input layer", where)
		}
		if i > 0 {
			cur.frame, cur.folded = out[i-1].frame, out[i-1].folded
		}
		needsFolded := l.kind == convolutionLayer || l.kind == batchNormLayer || l.kind == unfoldingLayer
		if needsFolded && !cur.folded {
			return nil, errors.Errorf("%s: works on folded frames: put a sequence folding layer before it", where)
		}
		if cur.folded && !needsFolded && l.kind != reluLayer && l.kind != dropoutLayer {
			return nil, errors.Errorf("%s: gets folded frames: unfold them first (sequence unfolding, then flatten)", where)
		}
		if !cur.frame.IsZero() && !cur.folded && (l.kind.recurrent() || l.kind == fullyConnectedLayer || l.kind == softmaxLayer) {
			return nil, errors.Errorf("%s: gets image frames: flatten them first", where)
		}
		switch {
		case l.kind == sequenceInputLayer:
			if l.size <= 0 {
				return nil, errors.Errorf("%s: %d features; want at least 1", where, l.size)
			}
			cur.out, cur.seqOut = l.size, true
		case l.kind.recurrent():
			if l.size <= 0 {
				return nil, errors.Errorf("%s: %d hidden units; want at least 1", where, l.size)
			}
			if (l.kind == recurrentLayer || l.kind == bidirectionalLayer) && l.newCell == nil {
				return nil, errors.Errorf("%s: nil cell factory", where)
			}
			if !cur.seqIn {
				return nil, errors.Errorf("%s: needs sequences, but the layer before outputs one step (OutputMode last)", where)
			}
			if !cfg.mode.Valid() {
				return nil, errors.Errorf("%s: invalid output mode %v", where, cfg.mode)
			}
			if cfg.merge < rnn.Concat || cfg.merge > rnn.Product {
				return nil, errors.Errorf("%s: invalid merge mode %v", where, cfg.merge)
			}
			cur.hidden, cur.out, cur.seqOut = l.size, l.size, cfg.mode == rnn.Sequence
			if l.kind.bidirectional() {
				cur.out = cfg.merge.OutputSize(l.size)
			}
		case l.kind == imageSequenceInputLayer:
			if l.frame.C <= 0 || l.frame.H <= 0 || l.frame.W <= 0 {
				return nil, errors.Errorf("%s: image size %dx%dx%d; want positive sizes", where, l.frame.H, l.frame.W, l.frame.C)
			}
			cur.frame, cur.out, cur.seqOut = l.frame, l.frame.Size(), true
		case l.kind == foldingLayer:
			if cur.frame.IsZero() || !cur.seqIn {
				return nil, errors.Errorf("%s: folds image sequences: it needs an image sequence input before it", where)
			}
			cur.folded, cur.out, cur.seqOut = true, cur.in, true
		case l.kind == convolutionLayer:
			if l.size <= 0 || l.frame.H <= 0 || l.frame.W <= 0 {
				return nil, errors.Errorf("%s: %d filters of %dx%d; want positive sizes", where, l.size, l.frame.H, l.frame.W)
			}
			cur.kernel, cur.stride, cur.pad = [2]int{l.frame.H, l.frame.W}, cfg.stride, cfg.pad
			if cur.stride[0] <= 0 || cur.stride[1] <= 0 || cur.pad[0] < 0 || cur.pad[1] < 0 {
				return nil, errors.Errorf("%s: stride %v and padding %v; want positive strides and non-negative padding", where, cur.stride, cur.pad)
			}
			if cfg.samePadding {
				pad, err := nodes.SamePadding([2]int{cur.frame.H, cur.frame.W}, cur.kernel, cur.stride)
				if err != nil {
					return nil, errors.Wrap(err, where)
				}
				cur.pad = pad
			}
			h := (cur.frame.H+2*cur.pad[0]-cur.kernel[0])/cur.stride[0] + 1
			w := (cur.frame.W+2*cur.pad[1]-cur.kernel[1])/cur.stride[1] + 1
			if cur.frame.H+2*cur.pad[0] < cur.kernel[0] || cur.frame.W+2*cur.pad[1] < cur.kernel[1] {
				return nil, errors.Errorf("%s: %dx%d filters do not fit %dx%d frames padded by %v", where, cur.kernel[0], cur.kernel[1], cur.frame.H, cur.frame.W, cur.pad)
			}
			cur.frame = dataset.FrameShape{C: l.size, H: h, W: w}
			cur.out, cur.seqOut = cur.frame.Size(), true
		case l.kind == batchNormLayer, l.kind == reluLayer:
			cur.out, cur.seqOut = cur.in, cur.seqIn
		case l.kind == unfoldingLayer:
			cur.folded, cur.out, cur.seqOut = false, cur.in, true
		case l.kind == flattenLayer:
			if cur.frame.IsZero() {
				return nil, errors.Errorf("%s: flattens image frames, but its input is plain features", where)
			}
			cur.frame, cur.out, cur.seqOut = dataset.FrameShape{}, cur.in, cur.seqIn
		case l.kind == dropoutLayer:
			if !(l.p >= 0 && l.p < 1) {
				return nil, errors.Errorf("%s: probability %v is outside [0, 1)", where, l.p)
			}
			cur.out, cur.seqOut = cur.in, cur.seqIn
		case l.kind == fullyConnectedLayer:
			if l.size <= 0 {
				return nil, errors.Errorf("%s: %d outputs; want at least 1", where, l.size)
			}
			cur.out, cur.seqOut = l.size, cur.seqIn
		case l.kind == softmaxLayer:
			if i+1 >= len(ls) || ls[i+1].kind != classificationLayer {
				return nil, errors.Errorf("%s: a classification output layer must follow softmax", where)
			}
			cur.out, cur.seqOut = cur.in, cur.seqIn
		default: // classificationLayer, regressionLayer
			if i != len(ls)-1 {
				return nil, errors.Errorf("%s: the output layer must come last", where)
			}
			if l.kind == classificationLayer && ls[i-1].kind != softmaxLayer {
				return nil, errors.Errorf("%s: needs a softmax layer before it", where)
			}
			if l.kind == regressionLayer && ls[i-1].kind == softmaxLayer {
				return nil, errors.Errorf("%s: a regression output after softmax is not supported; use a classification output", where)
			}
			cur.out, cur.seqOut = cur.in, cur.seqIn
		}
		out[i] = cur
	}
	last := out[len(out)-1]
	if last.kind != classificationLayer && last.kind != regressionLayer {
		return nil, errors.Errorf("graph: layer %d (%q): a network ends with a classification or regression output layer", len(out), last.name)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
