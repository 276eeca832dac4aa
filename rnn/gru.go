package rnn

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// ResetGateMode says where a GRU's reset gate acts: MATLAB's ResetGateMode.
type ResetGateMode int

const (
	// AfterMultiplication applies the reset gate to the recurrent product
	// plus its own bias, r ⊙ (R_h h + bR_h), as cuDNN and PyTorch's nn.GRU
	// do; the recurrent bias is a learnable of its own.
	AfterMultiplication ResetGateMode = iota
	// BeforeMultiplication applies it to the state before the product,
	// R_h (r ⊙ h), as in Cho et al. (2014) and MATLAB's default.
	BeforeMultiplication
)

func (m ResetGateMode) String() string {
	switch m {
	case AfterMultiplication:
		return "after-multiplication"
	case BeforeMultiplication:
		return "before-multiplication"
	}
	return fmt.Sprintf("ResetGateMode(%d)", int(m))
}

// ParseResetGateMode returns the mode with MATLAB's name s
// ("after-multiplication" or "before-multiplication").
func ParseResetGateMode(s string) (ResetGateMode, error) {
	switch strings.ToLower(s) {
	case "after-multiplication", "recurrent-bias-after-multiplication":
		return AfterMultiplication, nil
	case "before-multiplication":
		return BeforeMultiplication, nil
	}
	return 0, errors.Errorf("rnn: unknown reset gate mode %q (want after-multiplication or before-multiplication)", s)
}

// GRU is the gated recurrent unit (Cho et al., 2014) of MATLAB's gruLayer
// and PyTorch's nn.GRU, with MATLAB's names for its learnables:
//
//	InputWeights     W   3H×F  (Glorot)
//	RecurrentWeights R   3H×H  (orthogonal)
//	Bias             b   3H    (zeros)
//	RecurrentBias    bR  3H    (zeros; AfterMultiplication only)
//
// Rows come in the order reset r, update z, candidate h̃ (PyTorch's r, z, n).
type GRU struct {
	CellBase
	gate, state nodes.Activation
	mode        ResetGateMode

	W, R, B, RB *gorgonia.Node
}

// NewGRU binds the learnables of the GRU cell called name in graph g,
// creating them in p on first use. It takes WithResetGateMode,
// WithGateActivation, WithStateActivation and the initializer options.
func NewGRU(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, hiddenSize int, opts ...Option) (*GRU, error) {
	cfg, err := newConfig("gru "+name, append([]string{optGate, optState, optResetMode}, initOptions...), opts)
	if err != nil {
		return nil, err
	}
	base, err := NewCellBase(name, inputSize, hiddenSize)
	if err != nil {
		return nil, err
	}
	c := &GRU{CellBase: base, gate: cfg.gate, state: cfg.state, mode: cfg.resetMode}
	h3 := 3 * hiddenSize
	ls := []Learnable{
		{&c.W, "InputWeights", tensor.Shape{h3, inputSize}, or(cfg.inputInit, nodes.GlorotUniform(inputSize, h3))},
		{&c.R, "RecurrentWeights", tensor.Shape{h3, hiddenSize}, or(cfg.recurrentInit, nodes.Orthogonal())},
		{&c.B, "Bias", tensor.Shape{h3}, or(cfg.bInit, nodes.Zeros())},
	}
	if c.mode == AfterMultiplication {
		ls = append(ls, Learnable{&c.RB, "RecurrentBias", tensor.Shape{h3}, or(cfg.bInit, nodes.Zeros())})
	}
	if err := c.Bind(g, p, ls...); err != nil {
		return nil, err
	}
	return c, nil
}

// Step computes, with σg the gate and σc the state activation,
//
//	r_t = σg(W_r x_t + b_r + R_r h_{t-1} [+ bR_r])
//	z_t = σg(W_z x_t + b_z + R_z h_{t-1} [+ bR_z])
//	h̃_t = σc(W_h x_t + b_h + r_t ⊙ (R_h h_{t-1} + bR_h))   after multiplication
//	h̃_t = σc(W_h x_t + b_h + R_h (r_t ⊙ h_{t-1}))          before multiplication
//	h_t = (1 - z_t) ⊙ h̃_t + z_t ⊙ h_{t-1}
//
// and names the nodes reset, update, candidate and hidden.
func (c *GRU) Step(s Step, x *gorgonia.Node, prev State) (State, error) {
	if err := c.checkState(prev, 1); err != nil {
		return nil, err
	}
	next, err := c.step(s, x, prev[0])
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: gru %q at t=%d", c.name, s.T)
	}
	return State{next}, nil
}

func (c *GRU) step(s Step, x, h *gorgonia.Node) (*gorgonia.Node, error) {
	hid := c.out
	xw, err := nodes.MatMul(x, c.W, false, true)
	if err != nil {
		return nil, err
	}
	if xw, err = nodes.AddBias(xw, c.B); err != nil {
		return nil, err
	}
	var r, z, hr *gorgonia.Node
	if c.mode == AfterMultiplication {
		r, z, hr, err = c.gatesAfter(xw, h)
	} else {
		r, z, hr, err = c.gatesBefore(xw, h)
	}
	if err != nil {
		return nil, err
	}
	s.Name(c.name, "reset", r)
	s.Name(c.name, "update", z)
	xH, err := nodes.Columns(xw, 2*hid, 3*hid)
	if err != nil {
		return nil, err
	}
	pre, err := gorgonia.Add(xH, hr)
	if err != nil {
		return nil, err
	}
	cand, err := c.state.Apply(pre)
	if err != nil {
		return nil, err
	}
	s.Name(c.name, "candidate", cand)
	// (1 - z) ⊙ h̃ + z ⊙ h = h̃ + z ⊙ (h - h̃): one node fewer.
	d, err := gorgonia.Sub(h, cand)
	if err != nil {
		return nil, err
	}
	if d, err = gorgonia.HadamardProd(z, d); err != nil {
		return nil, err
	}
	next, err := gorgonia.Add(cand, d)
	if err != nil {
		return nil, err
	}
	return s.Name(c.name, "hidden", next), nil
}

// gatesAfter returns the reset and update gates and the candidate's
// recurrent term r ⊙ (R_h h + bR_h), resetting after the multiplication:
// one recurrent product for all three blocks.
func (c *GRU) gatesAfter(xw, h *gorgonia.Node) (r, z, hr *gorgonia.Node, err error) {
	hid := c.out
	if hr, err = nodes.MatMul(h, c.R, false, true); err != nil {
		return nil, nil, nil, err
	}
	if hr, err = nodes.AddBias(hr, c.RB); err != nil {
		return nil, nil, nil, err
	}
	rz, err := gorgonia.Add(xw, hr)
	if err != nil {
		return nil, nil, nil, err
	}
	if r, err = nodes.ActivateBlock(rz, c.gate, 0, 3); err != nil {
		return nil, nil, nil, err
	}
	if z, err = nodes.ActivateBlock(rz, c.gate, 1, 3); err != nil {
		return nil, nil, nil, err
	}
	if hr, err = nodes.Columns(hr, 2*hid, 3*hid); err != nil {
		return nil, nil, nil, err
	}
	if hr, err = gorgonia.HadamardProd(r, hr); err != nil {
		return nil, nil, nil, err
	}
	return r, z, hr, nil
}

// gatesBefore returns the reset and update gates and the candidate's
// recurrent term R_h (r ⊙ h), resetting before the multiplication: the
// candidate's product needs r first, so reset and update get their own
// product with the first 2H rows of R.
func (c *GRU) gatesBefore(xw, h *gorgonia.Node) (r, z, hr *gorgonia.Node, err error) {
	hid := c.out
	rRZ, err := nodes.Rows(c.R, 0, 2*hid)
	if err != nil {
		return nil, nil, nil, err
	}
	rH, err := nodes.Rows(c.R, 2*hid, 3*hid)
	if err != nil {
		return nil, nil, nil, err
	}
	xRZ, err := nodes.Columns(xw, 0, 2*hid)
	if err != nil {
		return nil, nil, nil, err
	}
	hRZ, err := nodes.MatMul(h, rRZ, false, true)
	if err != nil {
		return nil, nil, nil, err
	}
	rz, err := gorgonia.Add(xRZ, hRZ)
	if err != nil {
		return nil, nil, nil, err
	}
	if r, err = nodes.ActivateBlock(rz, c.gate, 0, 2); err != nil {
		return nil, nil, nil, err
	}
	if z, err = nodes.ActivateBlock(rz, c.gate, 1, 2); err != nil {
		return nil, nil, nil, err
	}
	rh, err := gorgonia.HadamardProd(r, h)
	if err != nil {
		return nil, nil, nil, err
	}
	if hr, err = nodes.MatMul(rh, rH, false, true); err != nil {
		return nil, nil, nil, err
	}
	return r, z, hr, nil
}
