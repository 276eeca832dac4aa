package rnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// UnrollLSTM applies the LSTM cell over the inputs xs, one B×InputSize node
// per timestep, as Unroll(cell, xs, opts...) does, and returns the same
// outputs, initial state and final state; it takes the same options. The
// whole layer is one fused node (nodes.NewLSTMLayer): one matrix product for
// the input projections of every timestep, one per timestep for the
// recurrence, and a hand-written backward pass, instead of a dozen nodes per
// timestep. Its outputs, final state and gradients are those of Unroll to
// rounding.
//
// The gates and the states of each timestep are not nodes of their own on
// this path: Unrolled.Node finds nothing and Record records nothing. Use
// Unroll for a graph whose activations are read by name.
func UnrollLSTM(cell *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	var cfg unrollConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cell == nil || cell.W == nil || cell.R == nil || cell.B == nil {
		return nil, errors.New("rnn: unroll lstm: nil cell, or a cell not made by NewLSTM")
	}
	name := cell.Name()
	if cfg.mode != Sequence && cfg.mode != Last {
		return nil, errors.Errorf("rnn: unroll %q: invalid output mode %v", name, cfg.mode)
	}
	if len(xs) == 0 {
		return nil, errors.Errorf("rnn: unroll %q: empty sequence (no timesteps)", name)
	}
	if xs[0] == nil || xs[0].Dims() != 2 {
		return nil, errors.Errorf("rnn: unroll %q: input at t=0 must be a B×F matrix", name)
	}
	b, dt, g := xs[0].Shape()[0], xs[0].Dtype(), xs[0].Graph()
	if g != cell.W.Graph() {
		return nil, errors.Errorf("rnn: unroll %q: the inputs are not in the graph of the cell's learnables", name)
	}
	for t, x := range xs {
		if x == nil || x.Dims() != 2 || x.Shape()[0] != b || x.Shape()[1] != cell.InputSize() {
			return nil, errors.Errorf("rnn: unroll %q: input at t=%d has shape %v, want (%d, %d)", name, t, shapeOrNil(x), b, cell.InputSize())
		}
		if x.Dtype() != dt {
			return nil, errors.Errorf("rnn: unroll %q: input at t=%d has dtype %v, t=0 has %v", name, t, x.Dtype(), dt)
		}
	}
	if cfg.masks != nil && len(cfg.masks) != len(xs) {
		return nil, errors.Errorf("rnn: unroll %q: %d masks for %d timesteps", name, len(cfg.masks), len(xs))
	}
	for t, m := range cfg.masks {
		if m == nil || m.Dims() != 1 || m.Shape()[0] != b || m.Dtype() != dt {
			return nil, errors.Errorf("rnn: unroll %q: mask at t=%d must be a vector of %d %v values, got %v", name, t, b, dt, shapeOrNil(m))
		}
	}
	sizes, parts := cell.StateSizes(), cell.StateNames()
	state := cfg.initial
	if state == nil {
		state = make(State, len(sizes))
		for i, n := range sizes {
			z := tensor.New(tensor.WithShape(b, n), tensor.Of(dt))
			state[i] = gorgonia.NodeFromAny(g, z, gorgonia.WithName(name+"/initial/"+parts[i]))
		}
	}
	if err := checkState(name, "initial state", state, b, sizes, dt); err != nil {
		return nil, err
	}
	layer, err := nodes.NewLSTMLayer(nodes.LSTMSpec{
		Name: name, X: xs, W: cell.W, R: cell.R, B: cell.B, H0: state[0], C0: state[1],
		Masks: cfg.masks, Gate: cell.gate, State: cell.state, Reverse: cfg.reverse,
	})
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: unroll %q", name)
	}
	h, c, err := layer.Final()
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: unroll %q", name)
	}
	u := &Unrolled{Cell: cell, Mode: cfg.mode, Initial: state, Final: State{h, c}, named: map[string]*gorgonia.Node{}}
	if cfg.mode == Last {
		u.Outputs = []*gorgonia.Node{h}
		return u, nil
	}
	u.Outputs = make([]*gorgonia.Node, len(xs))
	for t := range xs {
		// The output after the last timestep read is the node of the
		// final hidden state, as with Unroll.
		if u.Outputs[t], err = layer.Hidden(t); err != nil {
			return nil, errors.Wrapf(err, "rnn: unroll %q", name)
		}
	}
	return u, nil
}
