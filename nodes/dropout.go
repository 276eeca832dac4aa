package nodes

import (
	"fmt"
	"hash"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Phase tells the layers of one graph whether they train or infer. Dropout
// reads it at every run, so switching a graph to inference needs no new
// graph; and since each graph has its own Phase, switching one machine leaves
// every other machine as it was (Gorgonia's EvalMode flips them all).
//
// The zero value is the training phase.
type Phase struct{ inference bool }

// SetInference switches the graph to inference (true) or training (false).
func (p *Phase) SetInference(inference bool) { p.inference = inference }

// Inference reports whether the graph is in inference.
func (p *Phase) Inference() bool { return p != nil && p.inference }

// Dropout zeroes each element of x with probability p while training and
// scales the survivors by 1/(1-p) (inverted dropout), so that inference is
// the identity and needs no rescaling. The mask is drawn from a generator
// seeded with seed; the backward pass reuses the mask of the forward pass of
// the same run. name must be unique in the graph: it tells two dropouts on
// the same input apart. A nil phase means always training.
func Dropout(x *gorgonia.Node, name string, p float64, seed uint64, phase *Phase) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("nodes: dropout: nil input")
	}
	if !(p >= 0 && p < 1) {
		return nil, errors.Errorf("nodes: dropout %q: probability %v is outside [0, 1)", name, p)
	}
	if name == "" {
		return nil, errors.New("nodes: dropout: empty name")
	}
	op := &dropoutOp{
		opBase: opBase{1}, name: name, p: p, dt: x.Dtype(), dims: x.Dims(),
		rng: rand.New(rand.NewPCG(seed, 0xd20b)), phase: phase,
	}
	return gorgonia.ApplyOp(op, x)
}

type dropoutOp struct {
	opBase
	name  string
	p     float64
	dt    tensor.Dtype
	dims  int
	rng   *rand.Rand
	phase *Phase
	// keep holds the scale of each element in the last training run: 0 for
	// a dropped element, 1/(1-p) for a kept one; nil after an inference run.
	keep []float64
}

func (op *dropoutOp) String() string        { return fmt.Sprintf("Dropout{%q,%v}", op.name, op.p) }
func (op *dropoutOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *dropoutOp) Hashcode() uint32      { return hashOf(op) }
func (op *dropoutOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t)
}

func (op *dropoutOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op *dropoutOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: dropout "+op.name, vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	y := newDense(x.Dtype(), x.Shape())
	if !op.draw(x.Shape().TotalSize()) {
		copyDense(y, x)
		return y, nil
	}
	applyKeep(y, x, op.keep)
	return y, nil
}

// draw draws the mask of a run of n elements into keep and reports true,
// or, in inference or with p = 0, sets keep to nil and reports false.
func (op *dropoutOp) draw(n int) bool {
	if op.phase.Inference() || op.p == 0 {
		op.keep = nil
		return false
	}
	if cap(op.keep) < n {
		op.keep = make([]float64, n)
	}
	op.keep = op.keep[:n]
	scale := 1 / (1 - op.p)
	for i := range op.keep {
		if op.rng.Float64() < op.p {
			op.keep[i] = 0
		} else {
			op.keep[i] = scale
		}
	}
	return true
}

// keepInto sets dst to src times the mask of the last run (src itself
// without one), or adds that with add: Dropout's forward pass and its
// gradient, into buffers of the caller's.
func keepInto[T Float](dst, src []T, keep []float64, add bool) {
	src = src[:len(dst)]
	switch {
	case keep == nil && add:
		for i, v := range src {
			dst[i] += v
		}
	case keep == nil:
		copy(dst, src)
	case add:
		for i, v := range src {
			dst[i] += v * T(keep[i])
		}
	default:
		for i, v := range src {
			dst[i] = v * T(keep[i])
		}
	}
}

func (op *dropoutOp) DiffWRT(int) []bool { return []bool{true} }

func (op *dropoutOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(dropoutGradOp{opBase{1}, op}, grad)
	return gorgonia.Nodes{dx}, err
}

// dropoutGradOp multiplies the incoming gradient by the mask of its forward
// op's last run.
type dropoutGradOp struct {
	opBase
	fwd *dropoutOp
}

func (op dropoutGradOp) String() string        { return "d" + op.fwd.String() }
func (op dropoutGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op dropoutGradOp) Hashcode() uint32      { return hashOf(op) }
func (op dropoutGradOp) Type() hm.Type         { return op.fwd.Type() }
func (op dropoutGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.fwd.InferShape(in...)
}

func (op dropoutGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: dropout gradient "+op.fwd.name, vals, 1)
	if err != nil {
		return nil, err
	}
	dy := materialize(ts[0])
	dx := newDense(dy.Dtype(), dy.Shape())
	if op.fwd.keep == nil {
		copyDense(dx, dy)
		return dx, nil
	}
	if len(op.fwd.keep) != dy.Shape().TotalSize() {
		return nil, errors.Errorf("nodes: dropout %q: gradient has %d elements, the forward mask %d",
			op.fwd.name, dy.Shape().TotalSize(), len(op.fwd.keep))
	}
	applyKeep(dx, dy, op.fwd.keep)
	return dx, nil
}

func copyDense(dst, src *tensor.Dense) {
	switch d := dst.Data().(type) {
	case []float64:
		copy(d, src.Data().([]float64))
	case []float32:
		copy(d, src.Data().([]float32))
	}
}

func applyKeep(dst, src *tensor.Dense, keep []float64) {
	switch d := dst.Data().(type) {
	case []float64:
		for i, v := range src.Data().([]float64) {
			d[i] = v * keep[i]
		}
	case []float32:
		for i, v := range src.Data().([]float32) {
			d[i] = v * float32(keep[i])
		}
	}
}
