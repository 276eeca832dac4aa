package rnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// Elman is the simple recurrent cell (Elman, 1990) of PyTorch's nn.RNN:
//
//	InputWeights     W  H×F  (Glorot)
//	RecurrentWeights R  H×H  (orthogonal)
//	Bias             b  H    (zeros; PyTorch's two biases add up to b)
//
// Its activation is the state activation, tanh by default or relu.
type Elman struct {
	CellBase
	act nodes.Activation

	W, R, B *gorgonia.Node
}

// NewElman binds the learnables of the Elman cell called name in graph g,
// creating them in p on first use. It takes WithStateActivation and the
// initializer options.
func NewElman(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, hiddenSize int, opts ...Option) (*Elman, error) {
	cfg, err := newConfig("elman "+name, append([]string{optState}, initOptions...), opts)
	if err != nil {
		return nil, err
	}
	base, err := NewCellBase(name, inputSize, hiddenSize)
	if err != nil {
		return nil, err
	}
	c := &Elman{CellBase: base, act: cfg.state}
	err = c.Bind(g, p,
		Learnable{&c.W, "InputWeights", tensor.Shape{hiddenSize, inputSize}, or(cfg.inputInit, nodes.GlorotUniform(inputSize, hiddenSize))},
		Learnable{&c.R, "RecurrentWeights", tensor.Shape{hiddenSize, hiddenSize}, or(cfg.recurrentInit, nodes.Orthogonal())},
		Learnable{&c.B, "Bias", tensor.Shape{hiddenSize}, or(cfg.bInit, nodes.Zeros())},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Step computes h_t = σ(W x_t + R h_{t-1} + b) and names it hidden.
func (c *Elman) Step(s Step, x *gorgonia.Node, prev State) (State, error) {
	if err := c.checkState(prev, 1); err != nil {
		return nil, err
	}
	z, err := Affine(x, c.W, prev[0], c.R, c.B)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: elman %q at t=%d", c.name, s.T)
	}
	h, err := c.act.Apply(z)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: elman %q at t=%d", c.name, s.T)
	}
	return State{s.Name(c.name, "hidden", h)}, nil
}
