package rnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// UnrollGRU applies the GRU cell over the inputs xs, one B×InputSize node
// per timestep, as Unroll(cell, xs, opts...) does, and returns the same
// outputs, initial state and final state; it takes the same options. The
// whole layer is one fused node (nodes.NewGRULayer), in either reset gate
// mode: one matrix product for the input projections of every timestep, one
// or two per timestep for the recurrence, and a hand-written backward pass,
// instead of a dozen and more nodes per timestep. Its outputs, final state
// and gradients are those of Unroll to rounding.
//
// The gates and the states of each timestep are not nodes of their own on
// this path: Unrolled.Node finds nothing and Record records nothing. Use
// Unroll for a graph whose activations are read by name.
func UnrollGRU(cell *GRU, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	return cell.UnrollFused(xs, opts...)
}

// UnrollFused is UnrollGRU: the GRU is Fusable.
func (cell *GRU) UnrollFused(xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	var cfg unrollConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cell == nil || cell.W == nil || cell.R == nil || cell.B == nil || (cell.mode == AfterMultiplication) != (cell.RB != nil) {
		return nil, errors.New("rnn: unroll gru: nil cell, or a cell not made by NewGRU")
	}
	name := cell.Name()
	state, err := prepareUnroll(cell, xs, cfg)
	if err != nil {
		return nil, err
	}
	if xs[0].Graph() != cell.W.Graph() {
		return nil, errors.Errorf("rnn: unroll %q: the inputs are not in the graph of the cell's learnables", name)
	}
	layer, err := nodes.NewGRULayer(nodes.GRUSpec{
		Name: name, X: xs, W: cell.W, R: cell.R, B: cell.B, RB: cell.RB, H0: state[0],
		Masks: cfg.masks, ResetBefore: cell.mode == BeforeMultiplication,
		Gate: cell.gate, State: cell.state, Reverse: cfg.reverse,
	})
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: unroll %q", name)
	}
	h, err := layer.Final()
	if err != nil {
		return nil, errors.Wrapf(err, "rnn: unroll %q", name)
	}
	u := &Unrolled{Cell: cell, Mode: cfg.mode, Initial: state, Final: State{h}, named: map[string]*gorgonia.Node{}}
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

// UnrollBidirectionalGRU is UnrollBidirectional for two GRU cells on the
// fused path (UnrollGRU): faster, without gate nodes to read. The two cells
// may have different reset gate modes.
func UnrollBidirectionalGRU(fwd, bwd *GRU, xs []*gorgonia.Node, merge MergeMode, opts ...UnrollOption) (*BiUnrolled, error) {
	if fwd == nil || bwd == nil {
		return nil, errors.New("rnn: bidirectional: nil cell")
	}
	fused := func(c Cell, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
		return UnrollGRU(c.(*GRU), xs, opts...)
	}
	return unrollBidirectional(fwd, bwd, xs, merge, fused, opts)
}
