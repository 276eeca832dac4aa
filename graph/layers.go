package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

type layerKind int

const (
	sequenceInputLayer layerKind = iota + 1
	lstmLayer
	recurrentLayer
	dropoutLayer
	fullyConnectedLayer
	softmaxLayer
	classificationLayer
	regressionLayer
)

var kindNames = map[layerKind]struct{ prefix, title string }{
	sequenceInputLayer:  {"sequenceinput", "Sequence Input"},
	lstmLayer:           {"lstm", "LSTM"},
	recurrentLayer:      {"rnn", "Recurrent"},
	dropoutLayer:        {"dropout", "Dropout"},
	fullyConnectedLayer: {"fc", "Fully Connected"},
	softmaxLayer:        {"softmax", "Softmax"},
	classificationLayer: {"classoutput", "Classification Output"},
	regressionLayer:     {"regressionoutput", "Regression Output"},
}

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
	size    int     // features, hidden units or outputs
	p       float64 // dropout probability
	newCell CellFactory
	opts    []LayerOption
}

// CellFactory builds the cell of a Recurrent layer in graph g, with its
// learnables in p under the layer's name: rnn.NewLSTM and any custom cell's
// constructor fit it with a one-line closure.
type CellFactory func(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, outputSize int) (rnn.Cell, error)

// LayerOption sets a property of a layer. Giving a layer an option that it
// does not have is an error of NewNetwork.
type LayerOption func(*layerConfig)

type layerConfig struct {
	name        string
	mode        rnn.OutputMode
	gate, state nodes.Activation
	set         []string
}

// WithName names the layer. Names must be unique; by default a layer is
// called by its kind and its rank among the layers of that kind ("lstm1",
// "fc2"). Learnables are named after their layer: "lstm1/InputWeights".
func WithName(name string) LayerOption {
	return func(c *layerConfig) { c.name = name; c.set = append(c.set, "name") }
}

// WithOutputMode sets an LSTM layer's OutputMode (rnn.Sequence by default,
// as in MATLAB).
func WithOutputMode(m rnn.OutputMode) LayerOption {
	return func(c *layerConfig) { c.mode = m; c.set = append(c.set, "output mode") }
}

// WithGateActivation sets an LSTM layer's GateActivationFunction (sigmoid by
// default).
func WithGateActivation(a nodes.Activation) LayerOption {
	return func(c *layerConfig) { c.gate = a; c.set = append(c.set, "gate activation") }
}

// WithStateActivation sets an LSTM layer's StateActivationFunction (tanh by
// default).
func WithStateActivation(a nodes.Activation) LayerOption {
	return func(c *layerConfig) { c.state = a; c.set = append(c.set, "state activation") }
}

// SequenceInput is the input of sequences of the given number of features
// per timestep. It comes first.
func SequenceInput(features int, opts ...LayerOption) Layer {
	return Layer{kind: sequenceInputLayer, size: features, opts: opts}
}

// LSTM is a long short-term memory layer of hidden units (rnn.LSTM). It takes
// WithOutputMode, WithGateActivation and WithStateActivation.
func LSTM(hidden int, opts ...LayerOption) Layer {
	return Layer{kind: lstmLayer, size: hidden, opts: opts}
}

// Recurrent is a recurrent layer of any cell, custom ones included, whose
// output has outputs features. It takes WithOutputMode; the cell's own
// options go into the factory.
func Recurrent(outputs int, newCell CellFactory, opts ...LayerOption) Layer {
	return Layer{kind: recurrentLayer, size: outputs, newCell: newCell, opts: opts}
}

// Dropout zeroes each input with probability p while training, scaling the
// others by 1/(1-p); it is the identity at prediction.
func Dropout(p float64, opts ...LayerOption) Layer {
	return Layer{kind: dropoutLayer, p: p, opts: opts}
}

// FullyConnected maps its input to outputs values: at every timestep of a
// sequence, or once after an LSTM layer with OutputMode Last.
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
	kind    layerKind
	name    string
	in      int // features in
	out     int // features out
	seqIn   bool
	seqOut  bool
	p       float64
	mode    rnn.OutputMode
	cell    []rnn.Option
	newCell CellFactory
}

func (l layer) String() string {
	title := kindNames[l.kind].title
	switch l.kind {
	case sequenceInputLayer:
		return fmt.Sprintf("%-18s %-22s %d features", l.name, title, l.out)
	case lstmLayer, recurrentLayer:
		return fmt.Sprintf("%-18s %-22s %d hidden units, output mode %v", l.name, title, l.out, l.mode)
	case dropoutLayer:
		return fmt.Sprintf("%-18s %-22s probability %g", l.name, title, l.p)
	case fullyConnectedLayer:
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
		info, ok := kindNames[l.kind]
		if !ok {
			return nil, errors.Errorf("graph: layer %d is not a layer (use the constructors of package graph)", i+1)
		}
		count[l.kind]++
		cfg := layerConfig{name: fmt.Sprintf("%s%d", info.prefix, count[l.kind]), gate: nodes.Sigmoid, state: nodes.Tanh}
		for _, o := range l.opts {
			o(&cfg)
		}
		for _, s := range cfg.set {
			if s != "name" && l.kind != lstmLayer && !(l.kind == recurrentLayer && s == "output mode") {
				return nil, errors.Errorf("graph: layer %d (%s) does not take a %s", i+1, info.title, s)
			}
		}
		if j, dup := names[cfg.name]; dup || cfg.name == "" {
			return nil, errors.Errorf("graph: layer %d: name %q is empty or already used by layer %d", i+1, cfg.name, j)
		}
		names[cfg.name] = i + 1
		cur := layer{kind: l.kind, name: cfg.name, p: l.p, mode: cfg.mode, newCell: l.newCell}
		if i > 0 {
			cur.in, cur.seqIn = out[i-1].out, out[i-1].seqOut
		}
		where := fmt.Sprintf("graph: layer %d (%s %q)", i+1, info.title, cfg.name)
		if (i == 0) != (l.kind == sequenceInputLayer) {
			return nil, errors.Errorf("%s: a network starts with the one sequence input layer", where)
		}
		switch l.kind {
		case sequenceInputLayer:
			if l.size <= 0 {
				return nil, errors.Errorf("%s: %d features; want at least 1", where, l.size)
			}
			cur.out, cur.seqOut = l.size, true
		case lstmLayer, recurrentLayer:
			if l.size <= 0 {
				return nil, errors.Errorf("%s: %d hidden units; want at least 1", where, l.size)
			}
			if l.kind == recurrentLayer && l.newCell == nil {
				return nil, errors.Errorf("%s: nil cell factory", where)
			}
			if !cur.seqIn {
				return nil, errors.Errorf("%s: needs sequences, but the layer before outputs one step (OutputMode last)", where)
			}
			if cfg.mode != rnn.Sequence && cfg.mode != rnn.Last {
				return nil, errors.Errorf("%s: invalid output mode %v", where, cfg.mode)
			}
			if !cfg.gate.Valid() || !cfg.state.Valid() {
				return nil, errors.Errorf("%s: invalid activation (gate %v, state %v)", where, cfg.gate, cfg.state)
			}
			cur.out, cur.seqOut = l.size, cfg.mode == rnn.Sequence
			cur.cell = []rnn.Option{rnn.WithGateActivation(cfg.gate), rnn.WithStateActivation(cfg.state)}
		case dropoutLayer:
			if !(l.p >= 0 && l.p < 1) {
				return nil, errors.Errorf("%s: probability %v is outside [0, 1)", where, l.p)
			}
			cur.out, cur.seqOut = cur.in, cur.seqIn
		case fullyConnectedLayer:
			if l.size <= 0 {
				return nil, errors.Errorf("%s: %d outputs; want at least 1", where, l.size)
			}
			cur.out, cur.seqOut = l.size, cur.seqIn
		case softmaxLayer:
			if i+1 >= len(ls) || ls[i+1].kind != classificationLayer {
				return nil, errors.Errorf("%s: a classification output layer must follow softmax", where)
			}
			cur.out, cur.seqOut = cur.in, cur.seqIn
		case classificationLayer, regressionLayer:
			if i != len(ls)-1 {
				return nil, errors.Errorf("%s: the output layer must come last", where)
			}
			if l.kind == classificationLayer && ls[i-1].kind != softmaxLayer {
				return nil, errors.Errorf("%s: needs a softmax layer before it", where)
			}
			if l.kind == regressionLayer && ls[i-1].kind == softmaxLayer {
				return nil, errors.Errorf("%s: a regression output after softmax is not supported; use a classification output", where)
			}
			if cur.seqIn {
				return nil, errors.Errorf("%s: gets one output per timestep, but sequence-to-sequence targets are not supported yet; "+
					"give the last LSTM layer OutputMode rnn.Last", where)
			}
			cur.out = cur.in
		}
		out[i] = cur
	}
	last := out[len(out)-1]
	if last.kind != classificationLayer && last.kind != regressionLayer {
		return nil, errors.Errorf("graph: layer %d (%q): a network ends with a classification or regression output layer", len(out), last.name)
	}
	return out, nil
}
