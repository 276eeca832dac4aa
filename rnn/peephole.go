package rnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// PeepholeLSTM is the LSTM with peephole connections of Gers and
// Schmidhuber (2000): the input and forget gates see the previous cell
// state, the output gate the new one, each through a diagonal weight. Its
// learnables are the LSTM's plus
//
//	InputPeepholeWeights  p_i  H  (zeros: the cell starts as a plain LSTM)
//	ForgetPeepholeWeights p_f  H
//	OutputPeepholeWeights p_o  H
type PeepholeLSTM struct {
	CellBase
	gate, state nodes.Activation

	W, R, B    *gorgonia.Node
	Pi, Pf, Po *gorgonia.Node
}

// NewPeepholeLSTM binds the learnables of the peephole LSTM cell called name
// in graph g, creating them in p on first use. It takes the LSTM's options.
func NewPeepholeLSTM(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, hiddenSize int, opts ...Option) (*PeepholeLSTM, error) {
	cfg, err := newConfig("peephole lstm "+name, append([]string{optGate, optState}, initOptions...), opts)
	if err != nil {
		return nil, err
	}
	base, err := NewCellBase(name, inputSize, hiddenSize, "hidden", "cell")
	if err != nil {
		return nil, err
	}
	c := &PeepholeLSTM{CellBase: base, gate: cfg.gate, state: cfg.state}
	h, h4 := hiddenSize, 4*hiddenSize
	err = c.Bind(g, p,
		Learnable{&c.W, "InputWeights", tensor.Shape{h4, inputSize}, or(cfg.inputInit, nodes.GlorotUniform(inputSize, h4))},
		Learnable{&c.R, "RecurrentWeights", tensor.Shape{h4, h}, or(cfg.recurrentInit, nodes.Orthogonal())},
		Learnable{&c.B, "Bias", tensor.Shape{h4}, or(cfg.bInit, nodes.UnitForgetGateBias(h))},
		Learnable{&c.Pi, "InputPeepholeWeights", tensor.Shape{h}, nodes.Zeros()},
		Learnable{&c.Pf, "ForgetPeepholeWeights", tensor.Shape{h}, nodes.Zeros()},
		Learnable{&c.Po, "OutputPeepholeWeights", tensor.Shape{h}, nodes.Zeros()},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Step computes, with σg the gate and σc the state activation,
//
//	z   = W x_t + R h_{t-1} + b
//	i_t = σg(z_i + p_i ⊙ c_{t-1})   f_t = σg(z_f + p_f ⊙ c_{t-1})   g_t = σc(z_g)
//	c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
//	o_t = σg(z_o + p_o ⊙ c_t)
//	h_t = o_t ⊙ σc(c_t)
//
// and names the nodes input, forget, candidate, output, cell and hidden.
func (c *PeepholeLSTM) Step(s Step, x *gorgonia.Node, prev State) (State, error) {
	if err := c.checkState(prev, 2); err != nil {
		return nil, err
	}
	h, cPrev := prev[0], prev[1]
	hid := c.out
	z, err := Affine(x, c.W, h, c.R, c.B)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: peephole lstm %q at t=%d", c.name, s.T)
	}
	// peep returns σg(z_k + p ⊙ cell) for gate block k.
	peep := func(k int, p, cell *gorgonia.Node, part string) (*gorgonia.Node, error) {
		zk, err := nodes.Columns(z, k*hid, (k+1)*hid)
		if err != nil {
			return nil, err
		}
		pc, err := nodes.MulRows(cell, p)
		if err != nil {
			return nil, err
		}
		sum, err := gorgonia.Add(zk, pc)
		if err != nil {
			return nil, err
		}
		gate, err := c.gate.Apply(sum)
		return s.Name(c.name, part, gate), err
	}
	i, err := peep(0, c.Pi, cPrev, "input")
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: peephole lstm %q at t=%d", c.name, s.T)
	}
	f, err := peep(1, c.Pf, cPrev, "forget")
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: peephole lstm %q at t=%d", c.name, s.T)
	}
	g, err := nodes.ActivateBlock(z, c.state, 2, 4)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: peephole lstm %q at t=%d", c.name, s.T)
	}
	s.Name(c.name, "candidate", g)
	cell, hNext, err := lstmUpdate(c.state, i, f, g, nil, cPrev, func(cell *gorgonia.Node) (*gorgonia.Node, error) {
		return peep(3, c.Po, cell, "output")
	})
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: peephole lstm %q at t=%d", c.name, s.T)
	}
	return State{s.Name(c.name, "hidden", hNext), s.Name(c.name, "cell", cell)}, nil
}
