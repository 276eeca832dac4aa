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
	name        string
	in, hidden  int
	gate, state nodes.Activation

	W, R, B *gorgonia.Node
}

// NewLSTM binds the learnables of the LSTM cell called name in graph g,
// creating them in p on first use, for inputs of inputSize features and
// hiddenSize hidden units. It takes WithGateActivation and
// WithStateActivation.
func NewLSTM(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, hiddenSize int, opts ...Option) (*LSTM, error) {
	cfg, err := newConfig("lstm "+name, []string{"gate activation", "state activation"}, opts)
	if err != nil {
		return nil, err
	}
	if inputSize <= 0 || hiddenSize <= 0 {
		return nil, errors.Errorf("rnn: lstm %q: input size %d and hidden size %d must be positive", name, inputSize, hiddenSize)
	}
	if p == nil {
		return nil, errors.Errorf("rnn: lstm %q: nil params", name)
	}
	c := &LSTM{name: name, in: inputSize, hidden: hiddenSize, gate: cfg.gate, state: cfg.state}
	h4 := 4 * hiddenSize
	if c.W, err = p.Node(g, name+"/InputWeights", tensor.Shape{h4, inputSize}, nodes.GlorotUniform(inputSize, h4)); err != nil {
		return nil, err
	}
	if c.R, err = p.Node(g, name+"/RecurrentWeights", tensor.Shape{h4, hiddenSize}, nodes.Orthogonal()); err != nil {
		return nil, err
	}
	if c.B, err = p.Node(g, name+"/Bias", tensor.Shape{h4}, nodes.UnitForgetGateBias(hiddenSize)); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *LSTM) Name() string                   { return c.name }
func (c *LSTM) InputSize() int                 { return c.in }
func (c *LSTM) OutputSize() int                { return c.hidden }
func (c *LSTM) StateNames() []string           { return []string{"hidden", "cell"} }
func (c *LSTM) StateSizes() []int              { return []int{c.hidden, c.hidden} }
func (c *LSTM) Output(st State) *gorgonia.Node { return st[0] }
func (c *LSTM) Learnables() gorgonia.Nodes     { return gorgonia.Nodes{c.W, c.R, c.B} }

// Step computes, with σg the gate and σc the state activation,
//
//	z   = W x_t + R h_{t-1} + b          (one product for all four gates)
//	i_t = σg(z_i)   f_t = σg(z_f)   g_t = σc(z_g)   o_t = σg(z_o)
//	c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
//	h_t = o_t ⊙ σc(c_t)
//
// and names the nodes input, forget, candidate, output, cell and hidden.
func (c *LSTM) Step(s Step, x *gorgonia.Node, prev State) (State, error) {
	if len(prev) != 2 {
		return nil, errors.Errorf("rnn: lstm %q: state has %d parts, want 2", c.name, len(prev))
	}
	hPrev, cPrev := prev[0], prev[1]
	xw, err := nodes.MatMul(x, c.W, false, true)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	hr, err := nodes.MatMul(hPrev, c.R, false, true)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	z, err := gorgonia.Add(xw, hr)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	if z, err = nodes.AddBias(z, c.B); err != nil {
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
	i, f, g, o := gates[0], gates[1], gates[2], gates[3]
	fc, err := gorgonia.HadamardProd(f, cPrev)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	ig, err := gorgonia.HadamardProd(i, g)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	cell, err := gorgonia.Add(fc, ig)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	sc, err := c.state.Apply(cell)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	h, err := gorgonia.HadamardProd(o, sc)
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: lstm %q at t=%d", c.name, s.T)
	}
	return State{s.Name(c.name, "hidden", h), s.Name(c.name, "cell", cell)}, nil
}
