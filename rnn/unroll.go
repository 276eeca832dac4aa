package rnn

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// OutputMode says what a recurrent layer outputs: MATLAB's OutputMode.
type OutputMode int

const (
	// Sequence outputs every timestep (MATLAB's default, "sequence").
	Sequence OutputMode = iota
	// Last outputs the last timestep of the output sequence only ("last");
	// with a mask, each sequence's own last real timestep. For a
	// bidirectional layer that is MATLAB's bilstmLayer 'last': the forward
	// direction's output after the whole sequence, beside the backward
	// direction's output at the same step, which has read only that step.
	Last
	// Final outputs each direction's final state ("final"): for one
	// direction the same as Last; for a bidirectional layer the forward
	// direction's output after the last step beside the backward
	// direction's after the first step, each having read the whole sequence
	// (PyTorch's h_n, Keras's Bidirectional without return_sequences).
	Final
)

func (m OutputMode) String() string {
	switch m {
	case Sequence:
		return "sequence"
	case Last:
		return "last"
	case Final:
		return "final"
	}
	return fmt.Sprintf("OutputMode(%d)", int(m))
}

// ParseOutputMode returns the output mode called s ("sequence", "last" or
// "final", any case).
func ParseOutputMode(s string) (OutputMode, error) {
	switch strings.ToLower(s) {
	case "sequence":
		return Sequence, nil
	case "last":
		return Last, nil
	case "final":
		return Final, nil
	}
	return 0, errors.Errorf("rnn: unknown output mode %q (want sequence, last or final)", s)
}

// Valid reports whether m is one of the output modes.
func (m OutputMode) Valid() bool { return m >= Sequence && m <= Final }

// Unrolled is a cell applied over a sequence: the nodes a caller reads, feeds
// or differentiates.
type Unrolled struct {
	Cell Cell
	Mode OutputMode
	// Outputs holds the cell's output at every timestep with Sequence, and
	// only the last with Last or Final.
	Outputs []*gorgonia.Node
	// Initial is the state before the first timestep: the nodes passed with
	// WithInitialState, or zero-valued input nodes called
	// "<cell>/initial/<part>" that a caller may Let to carry state in.
	Initial State
	// Final is the state after the last timestep (with a mask, after each
	// sequence's last real timestep): what a stateful caller reads to carry
	// state into the next chunk.
	Final State

	named map[string]*gorgonia.Node
}

// Record adds to the graph, before it is compiled, a read of every node the
// cell named, and returns where each value lands by name: after every run of
// the machine, *values["lstm1/t7/forget"] holds that gate's B×H value. It
// costs a copy per node per run, so record only graphs you inspect.
func (u *Unrolled) Record() map[string]*gorgonia.Value {
	values := make(map[string]*gorgonia.Value, len(u.named))
	for name, n := range u.named {
		v := new(gorgonia.Value)
		gorgonia.Read(n, v)
		values[name] = v
	}
	return values
}

// Node returns the node a cell named at a timestep ("lstm1/t7/forget"), or
// nil if there is none.
func (u *Unrolled) Node(name string) *gorgonia.Node { return u.named[name] }

// NodeNames returns the names of all nodes that the cell named, in no
// particular order.
func (u *Unrolled) NodeNames() []string {
	names := make([]string, 0, len(u.named))
	for n := range u.named {
		names = append(names, n)
	}
	return names
}

// UnrollOption configures Unroll.
type UnrollOption func(*unrollConfig)

type unrollConfig struct {
	mode    OutputMode
	initial State
	masks   []*gorgonia.Node
	reverse bool
	fused   bool
}

// WithOutputMode sets the output mode (Sequence by default; for one
// direction Final is the same as Last).
func WithOutputMode(m OutputMode) UnrollOption { return func(c *unrollConfig) { c.mode = m } }

// WithInitialState starts the recurrence from st instead of zeros: one B×n
// node per part of the cell's state.
func WithInitialState(st State) UnrollOption { return func(c *unrollConfig) { c.initial = st } }

// WithMask gives one vector of B values per timestep, 1 for a real step and
// 0 for padding. On a padded step the state is held as it was (see
// nodes.Masked), so that outputs, final states and gradients of each
// sequence are exactly those it gets unpadded.
func WithMask(masks []*gorgonia.Node) UnrollOption { return func(c *unrollConfig) { c.masks = masks } }

// WithReverse runs the cell from the last timestep to the first: the
// backward direction of a bidirectional layer. With a mask, each sequence is
// read from its own last real step to its first, whichever side it is
// padded on, because padded steps hold the state. Outputs stay in time order
// (Outputs[t] is the output after reading timestep t); with OutputMode Last
// the output is the one after timestep 0, the last one read. Step.T is the
// timestep read, so node names keep the time index.
func WithReverse() UnrollOption { return func(c *unrollConfig) { c.reverse = true } }

// WithFusedKernels lets Unroll run a cell that has a fused implementation
// of its whole unroll (a Fusable cell: LSTM, GRU) on it: one op per layer,
// faster, with the same outputs, states and gradients to rounding, but
// without gate nodes to read. Other cells unroll as without it.
func WithFusedKernels() UnrollOption { return func(c *unrollConfig) { c.fused = true } }

// Fusable is a cell with a fused implementation of its whole unroll: one op
// over all timesteps with a hand-written backward pass. UnrollFused takes
// Unroll's options and gives what Unroll gives, without named nodes.
type Fusable interface {
	Cell
	UnrollFused(xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error)
}

// Unroll applies cell over the inputs xs, one B×InputSize node per
// timestep, in the cell's graph. With WithFusedKernels a Fusable cell runs
// on its fused implementation.
func Unroll(cell Cell, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
	var cfg unrollConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cell == nil {
		return nil, errors.New("rnn: unroll: nil cell")
	}
	if f, ok := cell.(Fusable); ok && cfg.fused {
		return f.UnrollFused(xs, opts...)
	}
	name := cell.Name()
	state, err := prepareUnroll(cell, xs, cfg)
	if err != nil {
		return nil, err
	}
	sizes, parts := cell.StateSizes(), cell.StateNames()
	b, dt := xs[0].Shape()[0], xs[0].Dtype()
	u := &Unrolled{Cell: cell, Mode: cfg.mode, Initial: state, named: make(map[string]*gorgonia.Node)}
	if cfg.mode == Sequence {
		u.Outputs = make([]*gorgonia.Node, len(xs))
	}
	for k := range xs {
		t := k
		if cfg.reverse {
			t = len(xs) - 1 - k
		}
		x := xs[t]
		s := Step{T: t, named: u.named}
		next, err := safeStep(cell, s, x, state)
		if err != nil {
			return nil, err
		}
		if err := checkState(name, fmt.Sprintf("state at t=%d", t), next, b, sizes, dt); err != nil {
			return nil, err
		}
		if cfg.masks != nil {
			for i := range next {
				if next[i], err = maskState(s, name, parts[i], next[i], state[i], cfg.masks[t], u.named); err != nil {
					return nil, errors.Wrapf(err, "rnn: unroll %q at t=%d", name, t)
				}
			}
		}
		state = next
		switch {
		case cfg.mode == Sequence:
			u.Outputs[t] = cell.Output(state)
		case k == len(xs)-1:
			u.Outputs = []*gorgonia.Node{cell.Output(state)}
		}
	}
	u.Final = state
	return u, nil
}

// maskState returns the state part a sequence carries after step s:
// the cell's new value where the mask is 1, the previous state where it is 0
// (nodes.Masked). The carried state takes the part's plain name, whether the
// cell named its new value ("lstm1/t7/hidden") or not (then the unroll names
// it after the part); the value the cell computed, on padding too, keeps a
// name with "unmasked/" before the part ("lstm1/t7/unmasked/hidden"). So
// reading a state by its plain name gives what the network carries, in
// padded and unpadded batches alike.
func maskState(s Step, cell, part string, next, prev, mask *gorgonia.Node, named map[string]*gorgonia.Node) (*gorgonia.Node, error) {
	carried, err := nodes.Masked(next, prev, mask)
	if err != nil {
		return nil, err
	}
	plain := s.NodeName(cell, part)
	if n := next.Name(); named[n] == next {
		at := fmt.Sprintf("/t%d/", s.T)
		if i := strings.LastIndex(n, at); i >= 0 {
			plain = n
			raw := n[:i+len(at)] + "unmasked/" + n[i+len(at):]
			delete(named, n)
			gorgonia.WithName(raw)(next)
			named[raw] = next
		}
	}
	gorgonia.WithName(plain)(carried)
	named[plain] = carried
	return carried, nil
}

// prepareUnroll checks the inputs, masks and initial state of an unroll of
// cell over xs, and returns the initial state: cfg's, or zero-valued input
// nodes called "<cell>/initial/<part>".
func prepareUnroll(cell Cell, xs []*gorgonia.Node, cfg unrollConfig) (State, error) {
	name := cell.Name()
	if !cfg.mode.Valid() {
		return nil, errors.Errorf("rnn: unroll %q: invalid output mode %v", name, cfg.mode)
	}
	if len(xs) == 0 {
		return nil, errors.Errorf("rnn: unroll %q: empty sequence (no timesteps)", name)
	}
	if xs[0] == nil || xs[0].Dims() != 2 {
		return nil, errors.Errorf("rnn: unroll %q: input at t=0 must be a B×F matrix", name)
	}
	b, dt, g := xs[0].Shape()[0], xs[0].Dtype(), xs[0].Graph()
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
	return state, nil
}

// safeStep runs one step of the cell, turning a panic (gorgonia.Must in a
// custom cell, say) into an error that names the cell and the timestep.
func safeStep(cell Cell, s Step, x *gorgonia.Node, prev State) (next State, err error) {
	defer func() {
		if r := recover(); r != nil {
			next, err = nil, errors.Errorf("rnn: cell %q failed at t=%d: %v", cell.Name(), s.T, r)
		}
	}()
	return cell.Step(s, x, prev)
}

func checkState(cell, what string, st State, b int, sizes []int, dt tensor.Dtype) error {
	if len(st) != len(sizes) {
		return errors.Errorf("rnn: unroll %q: %s has %d parts, want %d", cell, what, len(st), len(sizes))
	}
	for i, n := range st {
		if n == nil || n.Dims() != 2 || n.Shape()[0] != b || n.Shape()[1] != sizes[i] || n.Dtype() != dt {
			return errors.Errorf("rnn: unroll %q: %s part %d has shape %v, want (%d, %d) of %v", cell, what, i, shapeOrNil(n), b, sizes[i], dt)
		}
	}
	return nil
}

func shapeOrNil(n *gorgonia.Node) any {
	if n == nil {
		return "nil"
	}
	return n.Shape()
}
