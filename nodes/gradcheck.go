package nodes

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradientMismatch describes the element whose tape gradient is furthest
// from its finite-difference estimate.
type GradientMismatch struct {
	Node     string  // name of the node differentiated against
	Index    int     // row-major index of the element
	Tape     float64 // gradient computed by Gorgonia's tape machine
	Numeric  float64 // central finite difference
	Relative float64 // |Tape-Numeric| / max(|Tape|, |Numeric|, floor)
}

func (m GradientMismatch) String() string {
	return fmt.Sprintf("%s[%d]: tape %.12g, finite difference %.12g, relative error %.3g",
		m.Node, m.Index, m.Tape, m.Numeric, m.Relative)
}

// CheckGradients differentiates the scalar cost with respect to each node of
// wrt (input nodes with float64 values: learnables, inputs, initial states)
// on Gorgonia's tape machine, then compares every element of every gradient
// with the central finite difference (f(v+h) - f(v-h)) / 2h. It returns the
// element with the largest relative error; the error is relative to
// max(|tape|, |numeric|, floor), so that gradients far below floor are
// compared absolutely and rounding noise on near-zero gradients does not
// count as a mismatch.
//
// cost's graph must not have been differentiated yet: CheckGradients adds
// the gradient nodes itself. The values of wrt are restored before it
// returns, and the graph's last run is at those values.
func CheckGradients(cost *gorgonia.Node, wrt gorgonia.Nodes, h, floor float64) (GradientMismatch, error) {
	var worst GradientMismatch
	if cost == nil || !cost.IsScalar() {
		return worst, errors.New("nodes: gradient check: cost must be a scalar node")
	}
	if cost.Dtype() != tensor.Float64 {
		return worst, errors.Errorf("nodes: gradient check: cost has dtype %v; finite differences need float64", cost.Dtype())
	}
	if !(h > 0) || !(floor > 0) {
		return worst, errors.Errorf("nodes: gradient check: step %v and floor %v must be positive", h, floor)
	}
	for _, n := range wrt {
		if n.Dtype() != tensor.Float64 {
			return worst, errors.Errorf("nodes: gradient check: %s has dtype %v, want float64", n.Name(), n.Dtype())
		}
		if _, ok := n.Value().(*tensor.Dense); !ok {
			return worst, errors.Errorf("nodes: gradient check: %s has no tensor value", n.Name())
		}
	}
	if _, err := gorgonia.Grad(cost, wrt...); err != nil {
		return worst, errors.Wrap(err, "nodes: gradient check: differentiating")
	}
	var costVal gorgonia.Value
	gorgonia.Read(cost, &costVal)
	vm, err := NewTapeMachine(cost.Graph(), gorgonia.BindDualValues(wrt...))
	if err != nil {
		return worst, err
	}
	defer vm.Close()
	run := func() (float64, error) {
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		return costVal.Data().(float64), nil
	}
	if _, err := run(); err != nil {
		return worst, errors.Wrap(err, "nodes: gradient check: forward-backward run")
	}
	tape := make([][]float64, len(wrt))
	for i, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			return worst, errors.Wrapf(err, "nodes: gradient check: gradient of %s", n.Name())
		}
		tape[i] = toFloat64(g.(*tensor.Dense))
	}
	worst.Relative = -1
	for i, n := range wrt {
		vals := n.Value().(*tensor.Dense).Data().([]float64)
		for j := range vals {
			orig := vals[j]
			vals[j] = orig + h
			fp, err := run()
			if err == nil {
				vals[j] = orig - h
				var fm float64
				fm, err = run()
				fp -= fm
			}
			vals[j] = orig
			if err != nil {
				return worst, errors.Wrapf(err, "nodes: gradient check: perturbing %s[%d]", n.Name(), j)
			}
			num := fp / (2 * h)
			rel := math.Abs(tape[i][j]-num) / math.Max(floor, math.Max(math.Abs(tape[i][j]), math.Abs(num)))
			if rel > worst.Relative || math.IsNaN(rel) {
				worst = GradientMismatch{Node: n.Name(), Index: j, Tape: tape[i][j], Numeric: num, Relative: rel}
			}
		}
	}
	// A last run at the restored values, so that what the caller Reads
	// from the graph is not the last perturbation.
	if _, err := run(); err != nil {
		return worst, errors.Wrap(err, "nodes: gradient check: final run")
	}
	return worst, nil
}

// NewTapeMachine is gorgonia.NewTapeMachine with its compile panics turned
// into errors.
func NewTapeMachine(g *gorgonia.ExprGraph, opts ...gorgonia.VMOpt) (vm gorgonia.VM, err error) {
	defer func() {
		if r := recover(); r != nil {
			vm, err = nil, errors.Errorf("nodes: compiling the graph: %v", r)
		}
	}()
	return gorgonia.NewTapeMachine(g, opts...), nil
}
