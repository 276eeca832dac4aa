package rnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

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
	return cell.UnrollFused(xs, opts...)
}

// UnrollFused is UnrollLSTM: the LSTM is Fusable.
func (cell *LSTM) UnrollFused(xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	var cfg unrollConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cell == nil || cell.W == nil || cell.R == nil || cell.B == nil {
		return nil, errors.New("rnn: unroll lstm: nil cell, or a cell not made by NewLSTM")
	}
	name := cell.Name()
	state, err := prepareUnroll(cell, xs, cfg)
	if err != nil {
		return nil, err
	}
	if xs[0].Graph() != cell.W.Graph() {
		return nil, errors.Errorf("rnn: unroll %q: the inputs are not in the graph of the cell's learnables", name)
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
	if cfg.mode != Sequence {
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
