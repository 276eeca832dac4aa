package rnn

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

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
	gate, state nodes.Activation
	set         map[string]bool
}

func (c *cellConfig) mark(name string) {
	if c.set == nil {
		c.set = make(map[string]bool)
	}
	c.set[name] = true
}

// WithGateActivation sets the activation of the gates (MATLAB's
// GateActivationFunction; sigmoid by default).
func WithGateActivation(a nodes.Activation) Option {
	return func(c *cellConfig) { c.gate = a; c.mark("gate activation") }
}

// WithStateActivation sets the activation of the cell and hidden state
// (MATLAB's StateActivationFunction; tanh by default).
func WithStateActivation(a nodes.Activation) Option {
	return func(c *cellConfig) { c.state = a; c.mark("state activation") }
}

// newConfig applies opts over the defaults and rejects options that the cell
// kind does not accept.
func newConfig(kind string, accepted []string, opts []Option) (cellConfig, error) {
	c := cellConfig{gate: nodes.Sigmoid, state: nodes.Tanh}
	for _, o := range opts {
		o(&c)
	}
	for name := range c.set {
		ok := false
		for _, a := range accepted {
			ok = ok || a == name
		}
		if !ok {
			return c, errors.Errorf("rnn: %s does not take a %s", kind, name)
		}
	}
	if !c.gate.Valid() {
		return c, errors.Errorf("rnn: %s: gate activation %v is not valid", kind, c.gate)
	}
	if !c.state.Valid() {
		return c, errors.Errorf("rnn: %s: state activation %v is not valid", kind, c.state)
	}
	return c, nil
}
