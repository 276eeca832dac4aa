package rnn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// MergeMode says how a bidirectional layer combines its two directions.
type MergeMode int

const (
	// Concat puts the forward output first and the backward output after
	// it, 2H columns (MATLAB's bilstmLayer, PyTorch's bidirectional=True).
	Concat MergeMode = iota
	// Sum adds the two outputs (Keras' merge_mode "sum").
	Sum
	// Mean averages them (Keras' "ave").
	Mean
	// Product multiplies them elementwise (Keras' "mul").
	Product
)

func (m MergeMode) String() string {
	switch m {
	case Concat:
		return "concat"
	case Sum:
		return "sum"
	case Mean:
		return "mean"
	case Product:
		return "product"
	}
	return fmt.Sprintf("MergeMode(%d)", int(m))
}

// ParseMergeMode returns the merge mode with the name s: "concat", "sum",
// "mean" or "product", or Keras' "ave" and "mul".
func ParseMergeMode(s string) (MergeMode, error) {
	switch strings.ToLower(s) {
	case "concat":
		return Concat, nil
	case "sum":
		return Sum, nil
	case "mean", "ave":
		return Mean, nil
	case "product", "mul":
		return Product, nil
	}
	return 0, errors.Errorf("rnn: unknown merge mode %q (want concat, sum, mean or product)", s)
}

// OutputSize returns the width of the merged output of two directions of
// hidden columns each.
func (m MergeMode) OutputSize(hidden int) int {
	if m == Concat {
		return 2 * hidden
	}
	return hidden
}

// BiUnrolled is a bidirectional layer applied over a sequence.
type BiUnrolled struct {
	// Forward reads the sequence first to last, Backward last to first;
	// each has its own initial and final states and named nodes.
	Forward, Backward *Unrolled
	Merge             MergeMode
	// Outputs holds the merged output of every timestep with Sequence.
	// With Last it holds one: the merged output at the last timestep
	// (each sequence's own last real step, with a mask), MATLAB's
	// bilstmLayer 'last', whose backward half has read that step only.
	// With Final it holds the forward direction's final output merged with
	// the backward direction's (its output after timestep 0): PyTorch's
	// h_n.
	Outputs []*gorgonia.Node
}

// Node returns the node either direction named, or nil.
func (b *BiUnrolled) Node(name string) *gorgonia.Node {
	if n := b.Forward.Node(name); n != nil {
		return n
	}
	return b.Backward.Node(name)
}

// UnrollBidirectional applies fwd over xs first to last and bwd last to
// first and merges their outputs. The cells must have distinct names and
// the same output size. It takes WithOutputMode and WithMask; both
// directions start from their own zero-valued initial states, which a
// caller may Let through Forward.Initial and Backward.Initial.
func UnrollBidirectional(fwd, bwd Cell, xs []*gorgonia.Node, merge MergeMode, opts ...UnrollOption) (*BiUnrolled, error) {
	return unrollBidirectional(fwd, bwd, xs, merge, Unroll, opts)
}

// UnrollBidirectionalLSTM is UnrollBidirectional for two LSTM cells on the
// fused path (UnrollLSTM): faster, without gate nodes to read.
func UnrollBidirectionalLSTM(fwd, bwd *LSTM, xs []*gorgonia.Node, merge MergeMode, opts ...UnrollOption) (*BiUnrolled, error) {
	if fwd == nil || bwd == nil {
		return nil, errors.New("rnn: bidirectional: nil cell")
	}
	fused := func(c Cell, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
		return UnrollLSTM(c.(*LSTM), xs, opts...)
	}
	return unrollBidirectional(fwd, bwd, xs, merge, fused, opts)
}

func unrollBidirectional(fwd, bwd Cell, xs []*gorgonia.Node, merge MergeMode,
	unroll func(Cell, []*gorgonia.Node, ...UnrollOption) (*Unrolled, error), opts []UnrollOption) (*BiUnrolled, error) {
	var cfg unrollConfig
	for _, o := range opts {
		o(&cfg)
	}
	if fwd == nil || bwd == nil {
		return nil, errors.New("rnn: bidirectional: nil cell")
	}
	if cfg.initial != nil || cfg.reverse {
		return nil, errors.Errorf("rnn: bidirectional %q/%q: WithInitialState and WithReverse do not apply; Let the directions' Initial nodes instead", fwd.Name(), bwd.Name())
	}
	if fwd.Name() == bwd.Name() {
		return nil, errors.Errorf("rnn: bidirectional: both directions are called %q", fwd.Name())
	}
	if fwd.OutputSize() != bwd.OutputSize() {
		return nil, errors.Errorf("rnn: bidirectional: %q outputs %d features, %q %d", fwd.Name(), fwd.OutputSize(), bwd.Name(), bwd.OutputSize())
	}
	if merge < Concat || merge > Product {
		return nil, errors.Errorf("rnn: bidirectional: invalid merge mode %v", merge)
	}
	f, err := unroll(fwd, xs, opts...)
	if err != nil {
		return nil, err
	}
	// For Last the backward direction's output is taken at the last step,
	// from all of its outputs. (Clipped, so that appending never writes
	// into the caller's slice.)
	bwdOpts := append(slices.Clip(opts), WithReverse())
	if cfg.mode == Last {
		bwdOpts = append(bwdOpts, WithOutputMode(Sequence))
	}
	b, err := unroll(bwd, xs, bwdOpts...)
	if err != nil {
		return nil, err
	}
	bOut := b.Outputs
	if cfg.mode == Last {
		last, err := lastStep(b.Outputs, cfg.masks)
		if err != nil {
			return nil, errors.Wrapf(err, "rnn: bidirectional %q/%q", fwd.Name(), bwd.Name())
		}
		bOut = []*gorgonia.Node{last}
	}
	out := &BiUnrolled{Forward: f, Backward: b, Merge: merge, Outputs: make([]*gorgonia.Node, len(f.Outputs))}
	for t := range f.Outputs {
		if out.Outputs[t], err = mergeOutputs(merge, f.Outputs[t], bOut[t]); err != nil {
			return nil, errors.Wrapf(err, "rnn: bidirectional %q/%q", fwd.Name(), bwd.Name())
		}
	}
	return out, nil
}

// lastStep returns the outputs at each sequence's last real timestep: the
// last output without masks; with masks, the output of the last step
// whose mask is 1, selected step by step (a padded step keeps the
// selection, as it keeps a recurrent state).
func lastStep(outs, masks []*gorgonia.Node) (*gorgonia.Node, error) {
	if masks == nil {
		return outs[len(outs)-1], nil
	}
	sel := outs[0]
	for t := 1; t < len(outs); t++ {
		var err error
		if sel, err = nodes.Masked(outs[t], sel, masks[t]); err != nil {
			return nil, err
		}
	}
	return sel, nil
}

func mergeOutputs(m MergeMode, f, b *gorgonia.Node) (*gorgonia.Node, error) {
	switch m {
	case Concat:
		return nodes.ConcatColumns(f, b)
	case Sum:
		return gorgonia.Add(f, b)
	case Product:
		return gorgonia.HadamardProd(f, b)
	}
	s, err := gorgonia.Add(f, b)
	if err != nil {
		return nil, err
	}
	var half *gorgonia.Node
	if s.Dtype() == tensor.Float32 {
		half = gorgonia.NewConstant(float32(0.5))
	} else {
		half = gorgonia.NewConstant(0.5)
	}
	return gorgonia.HadamardProd(s, half)
}
