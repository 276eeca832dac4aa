package nodes

import (
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddBias returns x + b with the vector b added to every row of the matrix
// x. It is one node where Gorgonia's broadcasting needs a repeat and an add.
func AddBias(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || b == nil {
		return nil, errors.New("nodes: add bias: nil operand")
	}
	if x.Dims() != 2 || b.Dims() != 1 || x.Shape()[1] != b.Shape()[0] {
		return nil, errors.Errorf("nodes: add bias: want a B×N matrix and an N vector, got %v and %v", x.Shape(), b.Shape())
	}
	if x.Dtype() != b.Dtype() {
		return nil, errors.Errorf("nodes: add bias: dtypes differ: %v and %v", x.Dtype(), b.Dtype())
	}
	return gorgonia.ApplyOp(addBiasOp{opBase{2}, x.Dtype()}, x, b)
}

type addBiasOp struct {
	opBase
	dt tensor.Dtype
}

func (op addBiasOp) String() string        { return "AddBias" }
func (op addBiasOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op addBiasOp) Hashcode() uint32      { return hashOf(op) }
func (op addBiasOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	return hm.NewFnType(m, v, m)
}

func (op addBiasOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	a, _, err := twoShapes(in)
	return a.Clone(), err
}

func (op addBiasOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: add bias", vals, 2)
	if err != nil {
		return nil, err
	}
	x, b := materialize(ts[0]), materialize(ts[1])
	y := newDense(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float64:
		addRows(data[float64](x), data[float64](b), data[float64](y))
	default:
		addRows(data[float32](x), data[float32](b), data[float32](y))
	}
	return y, nil
}

func addRows[T float](x, b, y []T) {
	n := len(b)
	for r := 0; r+n <= len(x); r += n {
		xr, yr := x[r:r+n], y[r:r+n]
		for j, v := range b {
			yr[j] = xr[j] + v
		}
	}
}

func (op addBiasOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op addBiasOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	db, err := gorgonia.ApplyOp(colSumOp{opBase{1}, op.dt}, grad)
	return gorgonia.Nodes{grad, db}, err
}

// colSumOp sums a matrix over its rows: the gradient of a bias shared by
// every row.
type colSumOp struct {
	opBase
	dt tensor.Dtype
}

func (op colSumOp) String() string        { return "ColSum" }
func (op colSumOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op colSumOp) Hashcode() uint32      { return hashOf(op) }
func (op colSumOp) Type() hm.Type {
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt})
}

func (op colSumOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}

func (op colSumOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: column sum", vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	n := x.Shape()[1]
	y := newDense(x.Dtype(), tensor.Shape{n})
	switch x.Dtype() {
	case tensor.Float64:
		sumRows(data[float64](x), data[float64](y))
	default:
		sumRows(data[float32](x), data[float32](y))
	}
	return y, nil
}

func sumRows[T float](x, y []T) {
	n := len(y)
	for r := 0; r+n <= len(x); r += n {
		for j, v := range x[r : r+n] {
			y[j] += v
		}
	}
}
