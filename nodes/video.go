package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FoldSequence stacks the frames of T timesteps into one batch of images,
// MATLAB's sequenceFoldingLayer: xs[t] is the B×(c·h·w) input of timestep t,
// one frame per sequence with its values in channel-row-column order, and the
// result is the [T·B, c, h, w] tensor whose image t·B+b is frame t of
// sequence b (timestep-major),
//
//	y[t·B+b, k, i, j] = xs[t][b, (k·h+i)·w+j].
//
// Convolution, batch normalization and activations then treat every frame as
// an image of its own; UnfoldSequence undoes the folding. Folding copies each
// value once, and its gradient is one block per timestep, so that neither
// pass costs more than the data.
func FoldSequence(xs []*gorgonia.Node, c, h, w int) (*gorgonia.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("nodes: fold sequence: no timesteps")
	}
	if c <= 0 || h <= 0 || w <= 0 {
		return nil, errors.Errorf("nodes: fold sequence: frame size %d×%d×%d must be positive", c, h, w)
	}
	for t, x := range xs {
		if x == nil || x.Dims() != 2 {
			return nil, errors.Errorf("nodes: fold sequence: timestep %d is not a B×(C·H·W) matrix", t)
		}
		if x.Shape()[1] != c*h*w {
			return nil, errors.Errorf("nodes: fold sequence: timestep %d has %d features, a %d×%d×%d frame has %d",
				t, x.Shape()[1], c, h, w, c*h*w)
		}
		if !x.Shape().Eq(xs[0].Shape()) || x.Dtype() != xs[0].Dtype() {
			return nil, errors.Errorf("nodes: fold sequence: timestep %d is %v of %v, timestep 0 is %v of %v",
				t, x.Shape(), x.Dtype(), xs[0].Shape(), xs[0].Dtype())
		}
	}
	op := foldOp{opBase{len(xs)}, xs[0].Shape()[0], c, h, w, xs[0].Dtype()}
	return gorgonia.ApplyOp(op, xs...)
}

// UnfoldSequence splits x, a [T·B, ...] tensor of folded frames such as the
// output of a convolution on FoldSequence's result, back into the T
// timesteps, and flattens each frame as MATLAB's sequenceUnfoldingLayer
// followed by flattenLayer do: step t is the B×F matrix, F the product of
// x's dimensions after the first, with
//
//	step[t][b, f] = x[t·B+b, f]  (x's frame in row-major order),
//
// and the gradient of x is the steps' gradients stacked again, zero for a
// step that does not reach the cost.
//
// Gorgonia adds up, at full size, the gradient each consumer of a node
// sends it, so T steps that each handed x a gradient would make the
// backward pass cost O(T·|x|) (for 128 steps of 8×2048 values, 2.2 s a
// run). Instead the steps consume x and a one-element token computed from
// x, and give no gradient to x but the token itself (a zero) to the
// token; the token's derivative gathers the steps' gradients into x's in
// one copy, so that both passes cost O(|x|).
func UnfoldSequence(x *gorgonia.Node, steps int) ([]*gorgonia.Node, error) {
	if x == nil || x.Dims() < 2 {
		return nil, errors.New("nodes: unfold sequence: input must be a [T·B, ...] tensor of at least 2 dimensions")
	}
	n := x.Shape()[0]
	if steps <= 0 || n%steps != 0 {
		return nil, errors.Errorf("nodes: unfold sequence: %d frames do not split into %d timesteps", n, steps)
	}
	u := &unfolding{x: x.Shape().Clone(), rows: n / steps, dt: x.Dtype(), steps: make([]*gorgonia.Node, steps)}
	tok, err := gorgonia.ApplyOp(unfoldTokenOp{opBase{1}, u}, x)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: unfold sequence")
	}
	for t := range u.steps {
		if u.steps[t], err = gorgonia.ApplyOp(unfoldStepOp{opBase{2}, u, t}, x, tok); err != nil {
			return nil, errors.Wrap(err, "nodes: unfold sequence")
		}
	}
	return append([]*gorgonia.Node(nil), u.steps...), nil
}

// unfolding is one UnfoldSequence: x's shape, the rows of a step and the
// step nodes, whose gradients its token's derivative gathers.
type unfolding struct {
	x     tensor.Shape
	rows  int
	dt    tensor.Dtype
	steps []*gorgonia.Node
}

func (u *unfolding) String() string {
	return fmt.Sprintf("Unfold{%v→%d×%d×%d}", u.x, len(u.steps), u.rows, u.x[1:].TotalSize())
}

// step is the shape of a step.
func (u *unfolding) step() tensor.Shape { return tensor.Shape{u.rows, u.x[1:].TotalSize()} }

// unfoldTokenOp returns a 1-element zero that orders the steps' gradients
// before the gather; its derivative is the gather. Every step hands it the
// token itself as its gradient, which Gorgonia adds up, one element each.
type unfoldTokenOp struct {
	opBase
	u *unfolding
}

func (op unfoldTokenOp) String() string        { return op.u.String() + ".token" }
func (op unfoldTokenOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.u) }
func (op unfoldTokenOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op unfoldTokenOp) Type() hm.Type {
	return hm.NewFnType(gorgonia.TensorType{Dims: len(op.u.x), Of: op.u.dt}, gorgonia.TensorType{Dims: 1, Of: op.u.dt})
}
func (op unfoldTokenOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1}, nil
}
func (op unfoldTokenOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	return newDense(op.u.dt, tensor.Shape{1}), nil
}
func (op unfoldTokenOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff gathers the gradients of the steps that have one.
func (op unfoldTokenOp) SymDiff(_ gorgonia.Nodes, _, _ *gorgonia.Node) (gorgonia.Nodes, error) {
	g := unfoldGatherOp{u: op.u}
	var args gorgonia.Nodes
	for t, s := range op.u.steps {
		if d := s.Deriv(); d != nil {
			g.which = append(g.which, t)
			args = append(args, d)
		}
	}
	g.opBase = opBase{len(args)}
	dx, err := gorgonia.ApplyOp(g, args...)
	return gorgonia.Nodes{dx}, errors.Wrapf(err, "nodes: %v: gradient", op.u)
}

// unfoldStepOp copies step t out of (x, token).
type unfoldStepOp struct {
	opBase
	u *unfolding
	t int
}

func (op unfoldStepOp) String() string        { return fmt.Sprintf("%v[%d]", op.u, op.t) }
func (op unfoldStepOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.u) }
func (op unfoldStepOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op unfoldStepOp) Type() hm.Type {
	return hm.NewFnType(gorgonia.TensorType{Dims: len(op.u.x), Of: op.u.dt}, gorgonia.TensorType{Dims: 1, Of: op.u.dt},
		gorgonia.TensorType{Dims: 2, Of: op.u.dt})
}
func (op unfoldStepOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.u.step(), nil
}

func (op unfoldStepOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, vals...)
}

// UsePreallocDo copies the step into prealloc when it can be reused (see
// reusable).
func (op unfoldStepOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 2)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	if !x.Shape().Eq(op.u.x) {
		return nil, errors.Errorf("nodes: %v: input has shape %v", op, x.Shape())
	}
	s, _ := op.InferShape()
	y := reusable(prealloc, x.Dtype(), s, ts)
	if y == nil {
		y = newDense(x.Dtype(), s)
	}
	n := s.TotalSize()
	switch x.Dtype() {
	case tensor.Float64:
		copy(data[float64](y), data[float64](x)[op.t*n:])
	default:
		copy(data[float32](y), data[float32](x)[op.t*n:])
	}
	return y, nil
}

func (op unfoldStepOp) DiffWRT(int) []bool { return []bool{false, true} }

// SymDiff hands the token the token itself, a zero, as its gradient: the
// step's own gradient reaches x through the gather.
func (op unfoldStepOp) SymDiff(in gorgonia.Nodes, _, _ *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{nil, in[1]}, nil
}

// unfoldGatherOp stacks the gradients of the steps which (in order) into
// the gradient of x, zero in the blocks of the other steps.
type unfoldGatherOp struct {
	opBase
	u     *unfolding
	which []int
}

func (op unfoldGatherOp) String() string        { return fmt.Sprintf("d%v%v", op.u, op.which) }
func (op unfoldGatherOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.u) }
func (op unfoldGatherOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op unfoldGatherOp) Type() hm.Type {
	ts := make([]hm.Type, op.arity+1)
	for i := range op.arity {
		ts[i] = gorgonia.TensorType{Dims: 2, Of: op.u.dt}
	}
	ts[op.arity] = gorgonia.TensorType{Dims: len(op.u.x), Of: op.u.dt}
	return hm.NewFnType(ts...)
}
func (op unfoldGatherOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.u.x.Clone(), nil
}

func (op unfoldGatherOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, vals...)
}

// UsePreallocDo gathers into prealloc when it can be reused (see
// reusable), zeroing the blocks of the steps with no gradient.
func (op unfoldGatherOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, op.arity)
	if err != nil {
		return nil, err
	}
	dx := reusable(prealloc, op.u.dt, op.u.x, ts)
	if dx == nil {
		dx = newDense(op.u.dt, op.u.x)
	} else if len(op.which) < len(op.u.steps) {
		zero(dx)
	}
	return dx, stackBlocks(dx, ts, op.which, op.u.step(), op)
}

// foldOp copies T matrices of B×(c·h·w) into one [T·B, c, h, w] tensor.
type foldOp struct {
	opBase
	b, c, h, w int
	dt         tensor.Dtype
}

func (op foldOp) String() string {
	return fmt.Sprintf("FoldSequence{%d×%d→%d×%d×%d}", op.arity, op.b, op.c, op.h, op.w)
}
func (op foldOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op foldOp) Hashcode() uint32      { return hashOf(op) }
func (op foldOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	ts := make([]hm.Type, op.arity+1)
	for i := range op.arity {
		ts[i] = m
	}
	ts[op.arity] = gorgonia.TensorType{Dims: 4, Of: op.dt}
	return hm.NewFnType(ts...)
}

func (op foldOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.arity * op.b, op.c, op.h, op.w}, nil
}

func (op foldOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, vals...)
}

// UsePreallocDo folds into prealloc when it can be reused (see reusable).
func (op foldOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, op.arity)
	if err != nil {
		return nil, err
	}
	s, _ := op.InferShape()
	y := reusable(prealloc, ts[0].Dtype(), s, ts)
	if y == nil {
		y = newDense(ts[0].Dtype(), s)
	}
	return y, stackBlocks(y, ts, nil, tensor.Shape{op.b, op.c * op.h * op.w}, op)
}

// stackBlocks copies each of blocks, of the given shape, into block
// which[i] of y (block i when which is nil), y's blocks being the size of
// that shape, and reports a block of another shape as an error of op.
func stackBlocks(y *tensor.Dense, blocks []*tensor.Dense, which []int, shape tensor.Shape, op fmt.Stringer) error {
	n := shape.TotalSize()
	for i, b := range blocks {
		t := i
		if which != nil {
			t = which[i]
		}
		if !b.Shape().Eq(shape) {
			return errors.Errorf("nodes: %v: block %d has shape %v, want %v", op, t, b.Shape(), shape)
		}
		b = materialize(b)
		if y.Dtype() == tensor.Float64 {
			copy(data[float64](y)[t*n:(t+1)*n], data[float64](b))
		} else {
			copy(data[float32](y)[t*n:(t+1)*n], data[float32](b))
		}
	}
	return nil
}

func (op foldOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff hands timestep t the block of frames t·B … t·B+B-1 of the
// gradient, flattened back to B×(c·h·w): the gradient unfolded.
func (op foldOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	steps, err := UnfoldSequence(grad, op.arity)
	return steps, err
}
