package rnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// LSTM is the long short-term memory cell of MATLAB's lstmLayer and
// PyTorch's nn.LSTM, with MATLAB's names for its learnables:
//
//	InputWeights     W  4H×F  (Glorot)
//	RecurrentWeights R  4H×H  (orthogonal)
//	Bias             b  4H    (1 for the forget gate, 0 elsewhere)
//
// Rows of each come in the gate order input i, forget f, cell candidate g,
// output o, as in both toolboxes (PyTorch's two biases add up to b).
type LSTM struct {
	CellBase
	gate, state nodes.Activation

	W, R, B *gorgonia.Node
}

// NewLSTM binds the learnables of the LSTM cell called name in graph g,
// creating them in p on first use, for inputs of inputSize features and
// hiddenSize hidden units. It takes WithGateActivation,
// WithStateActivation and the initializer options.
func NewLSTM(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, hiddenSize int, opts ...Option) (*LSTM, error) {
	cfg, err := newConfig("lstm "+name, append([]string{optGate, optState}, initOptions...), opts)
	if err != nil {
		return nil, err
	}
	base, err := NewCellBase(name, inputSize, hiddenSize, "hidden", "cell")
	if err != nil {
		return nil, err
	}
	c := &LSTM{CellBase: base, gate: cfg.gate, state: cfg.state}
	h4 := 4 * hiddenSize
	err = c.Bind(g, p,
		Learnable{&c.W, "InputWeights", tensor.Shape{h4, inputSize}, or(cfg.inputInit, nodes.GlorotUniform(inputSize, h4))},
		Learnable{&c.R, "RecurrentWeights", tensor.Shape{h4, hiddenSize}, or(cfg.recurrentInit, nodes.Orthogonal())},
		Learnable{&c.B, "Bias", tensor.Shape{h4}, or(cfg.bInit, nodes.UnitForgetGateBias(hiddenSize))},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Step computes, with σg the gate and σc the state activation,
//
//	z   = W x_t + R h_{t-1} + b          (one product for all four gates)
//	i_t = σg(z_i)   f_t = σg(z_f)   g_t = σc(z_g)   o_t = σg(z_o)
//	c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
//	h_t = o_t ⊙ σc(c_t)
//
// and names the nodes input, forget, candidate, output, cell and hidden.
func (c *LSTM) Step(s Step, x *gorgonia.Node, prev State) (State, error) {
	if err := c.checkState(prev, 2); err != nil {
		return nil, err
	}
	hPrev, cPrev := prev[0], prev[1]
	z, err := Affine(x, c.W, hPrev, c.R, c.B)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	var gates [4]*gorgonia.Node
	for k, part := range [4]string{"input", "forget", "candidate", "output"} {
		act := c.gate
		if k == 2 {
			act = c.state
		}
		if gates[k], err = nodes.ActivateBlock(z, act, k, 4); err != nil {
			return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
		}
		s.Name(c.name, part, gates[k])
	}
	cell, h, err := lstmUpdate(c.state, gates[0], gates[1], gates[2], gates[3], cPrev, nil)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	return State{s.Name(c.name, "hidden", h), s.Name(c.name, "cell", cell)}, nil
}

// lstmUpdate computes c_t = f ⊙ c_{t-1} + i ⊙ g and h_t = o ⊙ σc(c_t).
// When the output gate depends on c_t (a peephole), o is nil and oFrom
// computes it from c_t.
func lstmUpdate(state nodes.Activation, i, f, g, o, cPrev *gorgonia.Node, oFrom func(c *gorgonia.Node) (*gorgonia.Node, error)) (cell, h *gorgonia.Node, err error) {
	fc, err := gorgonia.HadamardProd(f, cPrev)
	if err != nil {
		return nil, nil, err
	}
	ig, err := gorgonia.HadamardProd(i, g)
	if err != nil {
		return nil, nil, err
	}
	if cell, err = gorgonia.Add(fc, ig); err != nil {
		return nil, nil, err
	}
	if o == nil {
		if o, err = oFrom(cell); err != nil {
			return nil, nil, err
		}
	}
	sc, err := state.Apply(cell)
	if err != nil {
		return nil, nil, err
	}
	h, err = gorgonia.HadamardProd(o, sc)
	return cell, h, err
}
