package exec

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// ErrUnsupported is wrapped by the error Compile returns for a graph with
// an op the executor does not compute; such a graph runs on the plain path.
var ErrUnsupported = errors.New("exec: op not supported")

// opKind is an op the executor computes: one of package nodes' (described
// by nodes.Describe) or one of Gorgonia's elementwise ops and sum.
type opKind int

const (
	opNodes  opKind = iota // info says which
	opAdd                  // a + b, same shapes
	opSub                  // a - b
	opMul                  // a ⊙ b
	opExp                  // exp(a)
	opSquare               // a²
	opSum                  // Σ a, all elements, to a scalar
)

// op is an op node's computation.
type op struct {
	kind opKind
	info nodes.OpInfo
}

// classify returns the computation of op node n with arguments of the
// given shapes, or an error wrapping ErrUnsupported.
func classify(n *gorgonia.Node, shapes []tensor.Shape) (op, error) {
	o := n.Op()
	if info := nodes.Describe(o); info.Kind != nodes.NotDescribed {
		return op{kind: opNodes, info: info}, nil
	}
	name, s := fmt.Sprintf("%T", o), o.String()
	out := size(n.Shape())
	same := func() bool {
		for _, sh := range shapes {
			if size(sh) != out {
				return false
			}
		}
		return true
	}
	switch {
	case name == "gorgonia.elemBinOp" && same():
		switch {
		case strings.HasPrefix(s, "+ "):
			return op{kind: opAdd}, nil
		case strings.HasPrefix(s, "- "):
			return op{kind: opSub}, nil
		case strings.HasPrefix(s, "⊙ "):
			return op{kind: opMul}, nil
		}
	case name == "gorgonia.elemUnaryOp" && same():
		switch s {
		case "exp":
			return op{kind: opExp}, nil
		case "square":
			return op{kind: opSquare}, nil
		}
	case name == "gorgonia.sumOp" && out == 1 && len(shapes) == 1:
		return op{kind: opSum}, nil
	}
	return op{}, errors.Wrapf(ErrUnsupported, "%v (%s) at node %s", o, name, n.Name())
}

// size is the number of elements of a value of shape s (1 for a scalar).
func size(s tensor.Shape) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// needs reports which values the backward step of op reads: for each
// argument i, whether the gradient of some argument needs it, and whether
// it needs the op's own output. grad[i] says whether argument i's gradient
// is computed.
func (o op) needs(grad []bool) (args []bool, out bool) {
	args = make([]bool, len(grad))
	any := func(i int) bool { return i < len(grad) && grad[i] }
	switch o.kind {
	case opMul:
		args[0], args[1] = any(1), any(0)
	case opSquare:
		args[0] = any(0)
	case opExp:
		out = true
	case opNodes:
		switch o.info.Kind {
		case nodes.MatMulOp:
			args[0], args[1] = any(1), any(0)
		case nodes.MulRowsOp:
			args[0], args[1] = any(1), any(0)
		case nodes.MaskedOp:
			args[2] = true
		case nodes.ActivateOp, nodes.LogSoftmaxOp:
			out = true
		}
	}
	return args, out
}

// differentiable reports whether the op has a gradient for argument i
// (a mask has none).
func (o op) differentiable(i int) bool {
	return !(o.kind == opNodes && o.info.Kind == nodes.MaskedOp && i == 2)
}

// block returns the columns [lo, hi) of its argument (of shape in) whose
// gradient a Columns or ActivateBlock step writes, and false for any
// other op, which writes its arguments' gradients whole.
func (o op) block(in tensor.Shape) (lo, hi int, ok bool) {
	if o.kind != opNodes || len(in) != 2 {
		return 0, 0, false
	}
	switch o.info.Kind {
	case nodes.ColumnsOp:
		return o.info.Start, o.info.End, true
	case nodes.ActivateOp:
		n := in[1] / o.info.Blocks
		return o.info.Block * n, (o.info.Block + 1) * n, true
	}
	return 0, 0, false
}
