package nodes

import (
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LogSoftmax returns the logarithm of the softmax of each row of the matrix
// x, computed as x - max - log Σ exp(x - max) so that large scores neither
// overflow nor lose the small probabilities to rounding.
//
// It is its own op, not Gorgonia's LogSoftMax: Gorgonia hashes SoftMax and
// LogSoftMax alike, so a graph holding both silently gets one of them twice.
func LogSoftmax(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || x.Dims() != 2 {
		return nil, errors.New("nodes: log-softmax: input must be a B×K matrix")
	}
	return gorgonia.ApplyOp(logSoftmaxOp{opBase{1}, x.Dtype()}, x)
}

// Softmax returns the softmax of each row of the matrix x: exp of LogSoftmax,
// so that scores and loss share one stable computation.
func Softmax(x *gorgonia.Node) (*gorgonia.Node, error) {
	ls, err := LogSoftmax(x)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: softmax")
	}
	return gorgonia.Exp(ls)
}

type logSoftmaxOp struct {
	opBase
	dt tensor.Dtype
}

func (op logSoftmaxOp) String() string        { return "LogSoftmax" }
func (op logSoftmaxOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op logSoftmaxOp) Hashcode() uint32      { return hashOf(op) }
func (op logSoftmaxOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	return hm.NewFnType(m, m)
}

func (op logSoftmaxOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op logSoftmaxOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: log-softmax", vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	y := newDense(x.Dtype(), x.Shape())
	k := x.Shape()[1]
	switch x.Dtype() {
	case tensor.Float64:
		logSoftmaxRows(data[float64](x), data[float64](y), k)
	default:
		logSoftmaxRows(data[float32](x), data[float32](y), k)
	}
	return y, nil
}

func logSoftmaxRows[T float](x, y []T, k int) {
	for r := 0; r+k <= len(x); r += k {
		xr, yr := x[r:r+k], y[r:r+k]
		m := math.Inf(-1)
		for _, v := range xr {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(s)
		for j, v := range xr {
			yr[j] = T(float64(v) - lse)
		}
	}
}

func (op logSoftmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (op logSoftmaxOp) SymDiff(_ gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(logSoftmaxGradOp{opBase{2}, op.dt}, out, grad)
	return gorgonia.Nodes{dx}, err
}

// logSoftmaxGradOp maps (y, dy) to dx = dy - exp(y)·Σ_j dy_j, row by row.
type logSoftmaxGradOp struct {
	opBase
	dt tensor.Dtype
}

func (op logSoftmaxGradOp) String() string        { return "dLogSoftmax" }
func (op logSoftmaxGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op logSoftmaxGradOp) Hashcode() uint32      { return hashOf(op) }
func (op logSoftmaxGradOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	return hm.NewFnType(m, m, m)
}

func (op logSoftmaxGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op logSoftmaxGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: log-softmax gradient", vals, 2)
	if err != nil {
		return nil, err
	}
	y, dy := materialize(ts[0]), materialize(ts[1])
	dx := newDense(y.Dtype(), y.Shape())
	k := y.Shape()[1]
	switch y.Dtype() {
	case tensor.Float64:
		logSoftmaxGradRows(data[float64](y), data[float64](dy), data[float64](dx), k)
	default:
		logSoftmaxGradRows(data[float32](y), data[float32](dy), data[float32](dx), k)
	}
	return dx, nil
}

func logSoftmaxGradRows[T float](y, dy, dx []T, k int) {
	for r := 0; r+k <= len(y); r += k {
		var s float64
		for _, v := range dy[r : r+k] {
			s += float64(v)
		}
		for j := r; j < r+k; j++ {
			dx[j] = T(float64(dy[j]) - math.Exp(float64(y[j]))*s)
		}
	}
}
