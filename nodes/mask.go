package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Masked returns, row by row, next where mask is 1 and prev where mask is 0
// (and mask·next + (1-mask)·prev in between). next and prev are B×N
// matrices and mask a vector of B values.
//
// A recurrent layer passes its state through Masked at every timestep so that
// a padded step leaves the state as it was: the result, and the gradient that
// flows back, is then exactly what the sequence would get unpadded. Rows with
// a mask of exactly 0 or 1 are copied, not blended, so that a NaN or Inf in
// the discarded operand never leaks through a multiplication by zero.
func Masked(next, prev, mask *gorgonia.Node) (*gorgonia.Node, error) {
	if next == nil || prev == nil || mask == nil {
		return nil, errors.New("nodes: masked: nil operand")
	}
	if next.Dims() != 2 || !next.Shape().Eq(prev.Shape()) || mask.Dims() != 1 || mask.Shape()[0] != next.Shape()[0] {
		return nil, errors.Errorf("nodes: masked: want two B×N matrices and a B vector, got %v, %v and %v",
			next.Shape(), prev.Shape(), mask.Shape())
	}
	if next.Dtype() != prev.Dtype() || next.Dtype() != mask.Dtype() {
		return nil, errors.Errorf("nodes: masked: dtypes differ: %v, %v and %v", next.Dtype(), prev.Dtype(), mask.Dtype())
	}
	return gorgonia.ApplyOp(maskOp{opBase{3}, next.Dtype()}, next, prev, mask)
}

type maskOp struct {
	opBase
	dt tensor.Dtype
}

func (op maskOp) String() string        { return "Masked" }
func (op maskOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op maskOp) Hashcode() uint32      { return hashOf(op) }
func (op maskOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	return hm.NewFnType(m, m, v, m)
}

func (op maskOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op maskOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: masked", vals, 3)
	if err != nil {
		return nil, err
	}
	next, prev, m := materialize(ts[0]), materialize(ts[1]), materialize(ts[2])
	y := newDense(next.Dtype(), next.Shape())
	switch next.Dtype() {
	case tensor.Float64:
		blendRows(data[float64](next), data[float64](prev), data[float64](m), data[float64](y))
	default:
		blendRows(data[float32](next), data[float32](prev), data[float32](m), data[float32](y))
	}
	return y, nil
}

func blendRows[T float](next, prev, m, y []T) {
	n := len(next) / len(m)
	for r, w := range m {
		a, b, yr := next[r*n:r*n+n], prev[r*n:r*n+n], y[r*n:r*n+n]
		switch w {
		case 1:
			copy(yr, a)
		case 0:
			copy(yr, b)
		default:
			for j := range yr {
				yr[j] = w*a[j] + (1-w)*b[j]
			}
		}
	}
}

func (op maskOp) DiffWRT(int) []bool { return []bool{true, true, false} }

func (op maskOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dNext, err := gorgonia.ApplyOp(rowScaleOp{opBase{2}, false, op.dt}, grad, in[2])
	if err != nil {
		return nil, err
	}
	dPrev, err := gorgonia.ApplyOp(rowScaleOp{opBase{2}, true, op.dt}, grad, in[2])
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dNext, dPrev, nil}, nil
}

// rowScaleOp multiplies row r of a matrix by m[r], or by 1-m[r] when
// complement is set, copying rows whose factor is exactly 0 or 1.
type rowScaleOp struct {
	opBase
	complement bool
	dt         tensor.Dtype
}

func (op rowScaleOp) String() string        { return fmt.Sprintf("RowScale{%t}", op.complement) }
func (op rowScaleOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op rowScaleOp) Hashcode() uint32      { return hashOf(op) }
func (op rowScaleOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	return hm.NewFnType(m, v, m)
}

func (op rowScaleOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op rowScaleOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: row scale", vals, 2)
	if err != nil {
		return nil, err
	}
	x, m := materialize(ts[0]), materialize(ts[1])
	y := newDense(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float64:
		scaleRows(data[float64](x), data[float64](m), data[float64](y), op.complement)
	default:
		scaleRows(data[float32](x), data[float32](m), data[float32](y), op.complement)
	}
	return y, nil
}

func scaleRows[T float](x, m, y []T, complement bool) {
	n := len(x) / len(m)
	for r, w := range m {
		if complement {
			w = 1 - w
		}
		xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
		switch w {
		case 1:
			copy(yr, xr)
		case 0:
			// y is freshly zeroed.
		default:
			for j, v := range xr {
				yr[j] = w * v
			}
		}
	}
}
