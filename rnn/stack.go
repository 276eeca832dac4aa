package rnn

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// Stack is cells applied one above the other at every timestep: the output
// of each is the input of the next. It is itself a Cell whose state is the
// states of its cells, one after the other, so a stack unrolls, masks and
// carries state like any cell.
type Stack struct {
	name    string
	cells   []Cell
	dropout float64
	seed    uint64
	phase   *nodes.Phase
}

// StackOption configures a Stack.
type StackOption func(*Stack)

// WithStackDropout applies dropout with probability p to the output of
// every cell but the top one, at every timestep, before the next cell reads
// it (PyTorch's dropout argument of a multi-layer RNN). The masks are drawn
// from a generator seeded with seed; a nil phase means always training.
func WithStackDropout(p float64, seed uint64, phase *nodes.Phase) StackOption {
	return func(s *Stack) { s.dropout, s.seed, s.phase = p, seed, phase }
}

// NewStack stacks cells, bottom first. Each cell's OutputSize must be the
// next one's InputSize.
func NewStack(name string, cells []Cell, opts ...StackOption) (*Stack, error) {
	if len(cells) == 0 {
		return nil, errors.Errorf("rnn: stack %q: no cells", name)
	}
	for i := 1; i < len(cells); i++ {
		if cells[i-1].OutputSize() != cells[i].InputSize() {
			return nil, errors.Errorf("rnn: stack %q: cell %d (%s) outputs %d features, cell %d (%s) takes %d",
				name, i-1, cells[i-1].Name(), cells[i-1].OutputSize(), i, cells[i].Name(), cells[i].InputSize())
		}
	}
	s := &Stack{name: name, cells: cells}
	for _, o := range opts {
		o(s)
	}
	if !(s.dropout >= 0 && s.dropout < 1) {
		return nil, errors.Errorf("rnn: stack %q: dropout probability %v is outside [0, 1)", name, s.dropout)
	}
	return s, nil
}

func (s *Stack) Name() string    { return s.name }
func (s *Stack) InputSize() int  { return s.cells[0].InputSize() }
func (s *Stack) OutputSize() int { return s.cells[len(s.cells)-1].OutputSize() }

// Cells returns the stacked cells, bottom first.
func (s *Stack) Cells() []Cell { return s.cells }

// StateNames returns each cell's state names prefixed with the cell's name.
func (s *Stack) StateNames() []string {
	var names []string
	for _, c := range s.cells {
		for _, n := range c.StateNames() {
			names = append(names, c.Name()+"/"+n)
		}
	}
	return names
}

func (s *Stack) StateSizes() []int {
	var sizes []int
	for _, c := range s.cells {
		sizes = append(sizes, c.StateSizes()...)
	}
	return sizes
}

func (s *Stack) Learnables() gorgonia.Nodes {
	var ls gorgonia.Nodes
	for _, c := range s.cells {
		ls = append(ls, c.Learnables()...)
	}
	return ls
}

// parts splits a stack state into the states of its cells.
func (s *Stack) parts(st State) []State {
	out := make([]State, len(s.cells))
	off := 0
	for i, c := range s.cells {
		n := len(c.StateSizes())
		out[i] = st[off : off+n]
		off += n
	}
	return out
}

func (s *Stack) Step(step Step, x *gorgonia.Node, prev State) (State, error) {
	if len(prev) != len(s.StateSizes()) {
		return nil, errors.Errorf("rnn: stack %q: state has %d parts, want %d", s.name, len(prev), len(s.StateSizes()))
	}
	var next State
	for i, part := range s.parts(prev) {
		st, err := s.cells[i].Step(step, x, part)
		if err != nil {
			return nil, err
		}
		next = append(next, st...)
		x = s.cells[i].Output(st)
		if s.dropout > 0 && i < len(s.cells)-1 {
			part := fmt.Sprintf("dropout%d", i+1)
			var err error
			if x, err = nodes.Dropout(x, step.NodeName(s.name, part), s.dropout, s.seed+uint64(step.T)*1000+uint64(i), s.phase); err != nil {
				return nil, err
			}
			step.Name(s.name, part, x)
		}
	}
	return next, nil
}

func (s *Stack) Output(st State) *gorgonia.Node {
	p := s.parts(st)
	return s.cells[len(s.cells)-1].Output(p[len(p)-1])
}
