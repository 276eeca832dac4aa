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
//	step[t][b, f] = x[t·B+b, f]  (x's frame in row-major order).
//
// The steps are not all cut from x directly. Gorgonia adds up, at full size,
// the gradient each consumer of a node sends it, so T steps cut from x
// would make the backward pass cost O(T·|x|): for 128 steps of 8×2048
// values, 2.2 s a run against 0.16 s as done here. Instead x is halved, and
// each half halved again, until at most unfoldFanOut timesteps remain,
// which are cut directly; no node then has more than unfoldFanOut consumers
// and both passes cost O(|x|·log T).
func UnfoldSequence(x *gorgonia.Node, steps int) ([]*gorgonia.Node, error) {
	if x == nil || x.Dims() < 2 {
		return nil, errors.New("nodes: unfold sequence: input must be a [T·B, ...] tensor of at least 2 dimensions")
	}
	n := x.Shape()[0]
	if steps <= 0 || n%steps != 0 {
		return nil, errors.Errorf("nodes: unfold sequence: %d frames do not split into %d timesteps", n, steps)
	}
	out := make([]*gorgonia.Node, 0, steps)
	if err := unfoldInto(&out, x, steps, n/steps); err != nil {
		return nil, errors.Wrap(err, "nodes: unfold sequence")
	}
	return out, nil
}

// unfoldFanOut is the largest number of timesteps UnfoldSequence cuts
// from one node.
const unfoldFanOut = 4

// unfoldInto appends to out the flattened timesteps of x, which holds steps
// timesteps of b frames each.
func unfoldInto(out *[]*gorgonia.Node, x *gorgonia.Node, steps, b int) error {
	if steps <= unfoldFanOut {
		for t := range steps {
			s, err := gorgonia.ApplyOp(framesOp{opBase{1}, t * b, (t + 1) * b, true, x.Dims(), x.Dtype()}, x)
			if err != nil {
				return err
			}
			*out = append(*out, s)
		}
		return nil
	}
	half := steps / 2
	for _, r := range [][2]int{{0, half}, {half, steps}} {
		part, err := gorgonia.ApplyOp(framesOp{opBase{1}, r[0] * b, r[1] * b, false, x.Dims(), x.Dtype()}, x)
		if err != nil {
			return err
		}
		if err := unfoldInto(out, part, r[1]-r[0], b); err != nil {
			return err
		}
	}
	return nil
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
	ts, err := denseArgs("nodes: "+op.String(), vals, op.arity)
	if err != nil {
		return nil, err
	}
	s, _ := op.InferShape()
	y := newDense(ts[0].Dtype(), s)
	size := op.b * op.c * op.h * op.w
	for t, x := range ts {
		if !x.Shape().Eq(tensor.Shape{op.b, op.c * op.h * op.w}) {
			return nil, errors.Errorf("nodes: %v: timestep %d has shape %v", op, t, x.Shape())
		}
		x = materialize(x)
		switch y.Dtype() {
		case tensor.Float64:
			copy(data[float64](y)[t*size:(t+1)*size], data[float64](x))
		default:
			copy(data[float32](y)[t*size:(t+1)*size], data[float32](x))
		}
	}
	return y, nil
}

func (op foldOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff hands timestep t the block of frames t·B … t·B+B-1 of the
// gradient, flattened back to B×(c·h·w).
func (op foldOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	out := make(gorgonia.Nodes, op.arity)
	for t := range out {
		var err error
		if out[t], err = gorgonia.ApplyOp(framesOp{opBase{1}, t * op.b, (t + 1) * op.b, true, 4, op.dt}, grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// framesOp copies entries [start, end) along the first axis of a tensor of
// dims dimensions: a timestep's frames out of a folded batch. With flat set
// the result is a matrix of one row per entry.
type framesOp struct {
	opBase
	start, end int
	flat       bool
	dims       int
	dt         tensor.Dtype
}

func (op framesOp) String() string {
	if op.flat {
		return fmt.Sprintf("Frames{%d:%d,flat}", op.start, op.end)
	}
	return fmt.Sprintf("Frames{%d:%d}", op.start, op.end)
}
func (op framesOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op framesOp) Hashcode() uint32      { return hashOf(op) }
func (op framesOp) Type() hm.Type {
	out := op.dims
	if op.flat {
		out = 2
	}
	return hm.NewFnType(gorgonia.TensorType{Dims: op.dims, Of: op.dt}, gorgonia.TensorType{Dims: out, Of: op.dt})
}

func (op framesOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if len(s) != op.dims || op.end > s[0] {
		return nil, errors.Errorf("nodes: %v: input shape %v is not %d-dimensional with at least %d entries", op, s, op.dims, op.end)
	}
	if op.flat {
		return tensor.Shape{op.end - op.start, s[1:].TotalSize()}, nil
	}
	out := s.Clone()
	out[0] = op.end - op.start
	return out, nil
}

func (op framesOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	s, err := op.InferShape(x.Shape())
	if err != nil {
		return nil, err
	}
	y := newDense(x.Dtype(), s)
	size := x.Shape()[1:].TotalSize()
	switch x.Dtype() {
	case tensor.Float64:
		copy(data[float64](y), data[float64](x)[op.start*size:op.end*size])
	default:
		copy(data[float32](y), data[float32](x)[op.start*size:op.end*size])
	}
	return y, nil
}

func (op framesOp) DiffWRT(int) []bool { return []bool{true} }

func (op framesOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(framesScatterOp{opBase{1}, op, in[0].Shape().Clone()}, grad)
	return gorgonia.Nodes{dx}, err
}

// framesScatterOp places the gradient of a framesOp's result into a zero
// tensor of the shape of its input.
type framesScatterOp struct {
	opBase
	frames framesOp
	full   tensor.Shape
}

func (op framesScatterOp) String() string        { return fmt.Sprintf("d%v%v", op.frames, op.full) }
func (op framesScatterOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op framesScatterOp) Hashcode() uint32      { return hashOf(op) }
func (op framesScatterOp) Type() hm.Type {
	in := op.frames.dims
	if op.frames.flat {
		in = 2
	}
	return hm.NewFnType(gorgonia.TensorType{Dims: in, Of: op.frames.dt}, gorgonia.TensorType{Dims: op.frames.dims, Of: op.frames.dt})
}

func (op framesScatterOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.full.Clone(), nil
}

func (op framesScatterOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 1)
	if err != nil {
		return nil, err
	}
	dy := materialize(ts[0])
	size := op.full[1:].TotalSize()
	if n := (op.frames.end - op.frames.start) * size; dy.Shape().TotalSize() != n {
		return nil, errors.Errorf("nodes: %v: gradient has %d values, want %d", op, dy.Shape().TotalSize(), n)
	}
	dx := newDense(dy.Dtype(), op.full)
	switch dy.Dtype() {
	case tensor.Float64:
		copy(data[float64](dx)[op.frames.start*size:], data[float64](dy))
	default:
		copy(data[float32](dx)[op.frames.start*size:], data[float32](dy))
	}
	return dx, nil
}
