package rnn

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/options"
	"github.com/seqgraph/seqgraph/nodes"
)

// State is the recurrent state of a cell between two timesteps, one B×n
// matrix per part: an LSTM's is {hidden, cell}.
type State []*gorgonia.Node

// A Cell computes one timestep of a recurrent layer. It owns its learnables
// (bound in one graph) and knows nothing about sequences: Unroll applies it
// over time, and masking, initial and final states and output modes come
// for free.
//
// The output of a cell is a function of its state alone (an LSTM outputs its
// hidden state). That is what lets Unroll hold the state still on padded
// timesteps and have the output follow exactly.
type Cell interface {
	// Name is unique in the graph; it prefixes the names of the cell's
	// learnables and of the nodes of every timestep.
	Name() string
	// InputSize is the number of features of x at each timestep.
	InputSize() int
	// OutputSize is the number of columns of Output.
	OutputSize() int
	// StateNames names the parts of the state ("hidden", "cell").
	StateNames() []string
	// StateSizes gives the number of columns of each part of the state.
	StateSizes() []int
	// Step returns the state after timestep s.T, given the input x
	// (B×InputSize) and the state before it.
	Step(s Step, x *gorgonia.Node, prev State) (State, error)
	// Output returns the cell's output (B×OutputSize) for a state.
	Output(st State) *gorgonia.Node
	// Learnables returns the nodes the cell learns, in a fixed order.
	Learnables() gorgonia.Nodes
}

// Step tells a cell which timestep it computes and lets it name that
// timestep's nodes so that users can find them.
type Step struct {
	// T is the timestep, from 0.
	T int

	named map[string]*gorgonia.Node
}

// NodeName returns the name Step.Name gives to part of cell at this
// timestep: "lstm1/t7/forget" for part "forget" of cell "lstm1" at T = 7.
func (s Step) NodeName(cell, part string) string {
	return fmt.Sprintf("%s/t%d/%s", cell, s.T, part)
}

// Name names n after part of cell at this timestep, records it for
// Unrolled.Node and gorgonia's ExprGraph.ByName, and returns n.
func (s Step) Name(cell, part string, n *gorgonia.Node) *gorgonia.Node {
	name := s.NodeName(cell, part)
	gorgonia.WithName(name)(n)
	if s.named != nil {
		s.named[name] = n
	}
	return n
}

// Option configures a cell. Each cell says which options it accepts; giving
// it another is an error.
type Option func(*cellConfig)

type cellConfig struct {
	gate, state                     nodes.Activation
	inputInit, recurrentInit, bInit nodes.Initializer
	resetMode                       ResetGateMode
	given                           options.Given
}

func (c *cellConfig) mark(name string) { c.given.Mark(name) }

// WithGateActivation sets the activation of the gates (MATLAB's
// GateActivationFunction; sigmoid by default).
func WithGateActivation(a nodes.Activation) Option {
	return func(c *cellConfig) { c.gate = a; c.mark(optGate) }
}

// WithStateActivation sets the activation of the cell and hidden state
// (MATLAB's StateActivationFunction; tanh by default).
func WithStateActivation(a nodes.Activation) Option {
	return func(c *cellConfig) { c.state = a; c.mark(optState) }
}

// WithInputWeightsInitializer sets how the input weights start (MATLAB's
// InputWeightsInitializer; Glorot by default). See nodes.ParseInitializer
// for MATLAB's names.
func WithInputWeightsInitializer(init nodes.Initializer) Option {
	return func(c *cellConfig) { c.inputInit = init; c.mark(optInputInit) }
}

// WithRecurrentWeightsInitializer sets how the recurrent weights start
// (MATLAB's RecurrentWeightsInitializer; orthogonal by default).
func WithRecurrentWeightsInitializer(init nodes.Initializer) Option {
	return func(c *cellConfig) { c.recurrentInit = init; c.mark(optRecurrentInit) }
}

// WithBiasInitializer sets how the biases start (MATLAB's BiasInitializer;
// for an LSTM, 1 for the forget gate and 0 elsewhere, zeros for other cells).
func WithBiasInitializer(init nodes.Initializer) Option {
	return func(c *cellConfig) { c.bInit = init; c.mark(optBiasInit) }
}

// WithResetGateMode sets where a GRU's reset gate acts (after the recurrent
// multiplication by default, as in cuDNN and PyTorch).
func WithResetGateMode(m ResetGateMode) Option {
	return func(c *cellConfig) { c.resetMode = m; c.mark(optResetMode) }
}

const (
	optGate          = "gate activation"
	optState         = "state activation"
	optInputInit     = "input weights initializer"
	optRecurrentInit = "recurrent weights initializer"
	optBiasInit      = "bias initializer"
	optResetMode     = "reset gate mode"
)

// initOptions are the options every built-in cell takes.
var initOptions = []string{optInputInit, optRecurrentInit, optBiasInit}

// newConfig applies opts over the defaults and rejects options that the cell
// kind does not accept.
func newConfig(kind string, accepted []string, opts []Option) (cellConfig, error) {
	c := cellConfig{gate: nodes.Sigmoid, state: nodes.Tanh, resetMode: AfterMultiplication}
	for _, o := range opts {
		if o == nil {
			return c, errors.Errorf("rnn: %s: nil option", kind)
		}
		o(&c)
	}
	if err := c.given.Check("rnn: "+kind, accepted...); err != nil {
		return c, err
	}
	if !c.gate.Valid() {
		return c, errors.Errorf("rnn: %s: gate activation %v is not valid", kind, c.gate)
	}
	if !c.state.Valid() {
		return c, errors.Errorf("rnn: %s: state activation %v is not valid", kind, c.state)
	}
	if c.resetMode != AfterMultiplication && c.resetMode != BeforeMultiplication {
		return c, errors.Errorf("rnn: %s: reset gate mode %v is not valid", kind, c.resetMode)
	}
	for _, in := range []struct {
		name string
		set  bool
		init nodes.Initializer
	}{{optInputInit, c.given.Has(optInputInit), c.inputInit}, {optRecurrentInit, c.given.Has(optRecurrentInit), c.recurrentInit}, {optBiasInit, c.given.Has(optBiasInit), c.bInit}} {
		if in.set && in.init == nil {
			return c, errors.Errorf("rnn: %s: nil %s", kind, in.name)
		}
	}
	return c, nil
}

// or returns init, or def when init is nil.
func or(init, def nodes.Initializer) nodes.Initializer {
	if init != nil {
		return init
	}
	return def
}

// CellBase implements the bookkeeping methods of a Cell, for cells whose
// state parts all have the width of the output and whose output is the
// first part (the hidden state). A cell type embeds it and adds Step.
type CellBase struct {
	name       string
	in, out    int
	parts      []string
	learnables gorgonia.Nodes
}

// NewCellBase returns the base of a cell called name, taking inputSize
// features and keeping state parts of hiddenSize columns, called parts
// ("hidden" when none are given).
func NewCellBase(name string, inputSize, hiddenSize int, parts ...string) (CellBase, error) {
	if name == "" {
		return CellBase{}, errors.New("rnn: a cell needs a name")
	}
	if inputSize <= 0 || hiddenSize <= 0 {
		return CellBase{}, errors.Errorf("rnn: cell %q: input size %d and hidden size %d must be positive", name, inputSize, hiddenSize)
	}
	if len(parts) == 0 {
		parts = []string{"hidden"}
	}
	return CellBase{name: name, in: inputSize, out: hiddenSize, parts: parts}, nil
}

// Learnable is a learnable a cell binds: the field it goes into, its name
// after the cell's ("InputWeights" becomes "lstm1/InputWeights"), its shape
// and its initializer.
type Learnable struct {
	Node  **gorgonia.Node
	Name  string
	Shape tensor.Shape
	Init  nodes.Initializer
}

// NewLearnable describes a learnable for Bind: the field it goes into, its
// name after the cell's, its shape and its initializer.
func NewLearnable(node **gorgonia.Node, name string, shape tensor.Shape, init nodes.Initializer) Learnable {
	return Learnable{Node: node, Name: name, Shape: shape, Init: init}
}

// Bind binds ls in graph g, creating them in p on first use, and records
// them, in order, as the cell's learnables.
func (c *CellBase) Bind(g *gorgonia.ExprGraph, p *nodes.Params, ls ...Learnable) error {
	if p == nil {
		return errors.Errorf("rnn: cell %q: nil params", c.name)
	}
	names, shapes := make([]string, len(ls)), make([]tensor.Shape, len(ls))
	for i, l := range ls {
		names[i], shapes[i] = c.name+"/"+l.Name, l.Shape
	}
	if err := p.CheckSizes(names, shapes); err != nil {
		return err
	}
	for _, l := range ls {
		n, err := p.Node(g, c.name+"/"+l.Name, l.Shape, l.Init)
		if err != nil {
			return err
		}
		*l.Node = n
		c.learnables = append(c.learnables, n)
	}
	return nil
}

func (c *CellBase) Name() string                   { return c.name }
func (c *CellBase) InputSize() int                 { return c.in }
func (c *CellBase) OutputSize() int                { return c.out }
func (c *CellBase) StateNames() []string           { return append([]string(nil), c.parts...) }
func (c *CellBase) Output(st State) *gorgonia.Node { return st[0] }
func (c *CellBase) Learnables() gorgonia.Nodes     { return append(gorgonia.Nodes(nil), c.learnables...) }
func (c *CellBase) StateSizes() []int {
	s := make([]int, len(c.parts))
	for i := range s {
		s[i] = c.out
	}
	return s
}

// checkState returns an error unless prev has n parts.
func (c *CellBase) checkState(prev State, n int) error {
	if len(prev) != n {
		return errors.Errorf("rnn: cell %q: state has %d parts, want %d", c.name, len(prev), n)
	}
	return nil
}

// Affine returns x·Wᵀ + h·Rᵀ + b, the pre-activation most cells start from:
// x is the B×F input, h the B×H state, W has a row per output and F
// columns, R a row per output and H columns, b one value per output.
func Affine(x, w, h, r, b *gorgonia.Node) (*gorgonia.Node, error) {
	xw, err := nodes.MatMul(x, w, false, true)
	if err != nil {
		return nil, err
	}
	hr, err := nodes.MatMul(h, r, false, true)
	if err != nil {
		return nil, err
	}
	z, err := gorgonia.Add(xw, hr)
	if err != nil {
		return nil, err
	}
	return nodes.AddBias(z, b)
}
