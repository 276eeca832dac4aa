package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// Columns returns columns [start, end) of the matrix x. A cell that computes
// several pre-activations with one product takes the raw ones it needs with
// Columns (ActivateBlock when an activation follows).
func Columns(x *gorgonia.Node, start, end int) (*gorgonia.Node, error) {
	if x == nil || x.Dims() != 2 {
		return nil, errors.New("nodes: columns: input must be a matrix")
	}
	if start < 0 || end > x.Shape()[1] || start >= end {
		return nil, errors.Errorf("nodes: columns: [%d, %d) is not a range of the %d columns", start, end, x.Shape()[1])
	}
	return gorgonia.ApplyOp(blockOp{opBase{1}, false, start, end, x.Dtype()}, x)
}

// Rows returns rows [start, end) of the matrix x: a part of a learnable
// weight matrix, say. Asked twice for the same rows of the same node, a
// graph computes it once.
func Rows(x *gorgonia.Node, start, end int) (*gorgonia.Node, error) {
	if x == nil || x.Dims() != 2 {
		return nil, errors.New("nodes: rows: input must be a matrix")
	}
	if start < 0 || end > x.Shape()[0] || start >= end {
		return nil, errors.Errorf("nodes: rows: [%d, %d) is not a range of the %d rows", start, end, x.Shape()[0])
	}
	return gorgonia.ApplyOp(blockOp{opBase{1}, true, start, end, x.Dtype()}, x)
}

// blockOp copies rows or columns [start, end) of a matrix.
type blockOp struct {
	opBase
	rows       bool
	start, end int
	dt         tensor.Dtype
}

func (op blockOp) String() string {
	if op.rows {
		return fmt.Sprintf("Rows{%d:%d}", op.start, op.end)
	}
	return fmt.Sprintf("Columns{%d:%d}", op.start, op.end)
}
func (op blockOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op blockOp) Hashcode() uint32      { return hashOf(op) }
func (op blockOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	return hm.NewFnType(m, m)
}

func (op blockOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if op.rows {
		return tensor.Shape{op.end - op.start, s[1]}, nil
	}
	return tensor.Shape{s[0], op.end - op.start}, nil
}

func (op blockOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	r, c := x.Shape()[0], x.Shape()[1]
	s, _ := op.InferShape(x.Shape())
	y := newDense(x.Dtype(), s)
	switch x.Dtype() {
	case tensor.Float64:
		copyBlock(data[float64](y), data[float64](x), r, c, op.rows, op.start, op.end, false)
	default:
		copyBlock(data[float32](y), data[float32](x), r, c, op.rows, op.start, op.end, false)
	}
	return y, nil
}

// copyBlock copies between a full r×c matrix and its block of rows or
// columns [start, end): from full into block, or with scatter from block
// into full.
func copyBlock[T float](block, full []T, r, c int, rows bool, start, end int, scatter bool) {
	if rows {
		if scatter {
			copy(full[start*c:end*c], block)
		} else {
			copy(block, full[start*c:end*c])
		}
		return
	}
	n := end - start
	for i := 0; i < r; i++ {
		f, b := full[i*c+start:i*c+end], block[i*n:(i+1)*n]
		if scatter {
			copy(f, b)
		} else {
			copy(b, f)
		}
	}
}

func (op blockOp) DiffWRT(int) []bool { return []bool{true} }

func (op blockOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	full := in[0].Shape()
	dx, err := gorgonia.ApplyOp(scatterOp{opBase{1}, op, full[0], full[1]}, grad)
	return gorgonia.Nodes{dx}, err
}

// scatterOp places a block's gradient into a zero matrix of the full shape.
type scatterOp struct {
	opBase
	block blockOp
	r, c  int
}

func (op scatterOp) String() string        { return fmt.Sprintf("d%v{%d×%d}", op.block, op.r, op.c) }
func (op scatterOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op scatterOp) Hashcode() uint32      { return hashOf(op) }
func (op scatterOp) Type() hm.Type         { return op.block.Type() }
func (op scatterOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.r, op.c}, nil
}

func (op scatterOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 1)
	if err != nil {
		return nil, err
	}
	dy := materialize(ts[0])
	dx := newDense(dy.Dtype(), tensor.Shape{op.r, op.c})
	switch dy.Dtype() {
	case tensor.Float64:
		copyBlock(data[float64](dy), data[float64](dx), op.r, op.c, op.block.rows, op.block.start, op.block.end, true)
	default:
		copyBlock(data[float32](dy), data[float32](dx), op.r, op.c, op.block.rows, op.block.start, op.block.end, true)
	}
	return dx, nil
}

// ConcatColumns returns the matrices xs side by side: a bidirectional
// layer's forward and backward outputs, say. They must have the same number
// of rows.
func ConcatColumns(xs ...*gorgonia.Node) (*gorgonia.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("nodes: concat columns: no inputs")
	}
	widths := make([]int, len(xs))
	for i, x := range xs {
		if x == nil || x.Dims() != 2 || x.Shape()[0] != xs[0].Shape()[0] || x.Dtype() != xs[0].Dtype() {
			return nil, errors.Errorf("nodes: concat columns: input %d is not a matrix of %d rows of %v", i, xs[0].Shape()[0], xs[0].Dtype())
		}
		widths[i] = x.Shape()[1]
	}
	return gorgonia.ApplyOp(concatOp{opBase{len(xs)}, widths, xs[0].Dtype()}, xs...)
}

type concatOp struct {
	opBase
	widths []int
	dt     tensor.Dtype
}

func (op concatOp) String() string        { return fmt.Sprintf("ConcatColumns%v", op.widths) }
func (op concatOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op concatOp) Hashcode() uint32      { return hashOf(op) }
func (op concatOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	ts := make([]hm.Type, len(op.widths)+1)
	for i := range ts {
		ts[i] = m
	}
	return hm.NewFnType(ts...)
}

func (op concatOp) total() int {
	n := 0
	for _, w := range op.widths {
		n += w
	}
	return n
}

func (op concatOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0], op.total()}, nil
}

func (op concatOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, len(op.widths))
	if err != nil {
		return nil, err
	}
	r, c := ts[0].Shape()[0], op.total()
	y := newDense(ts[0].Dtype(), tensor.Shape{r, c})
	start := 0
	for i, t := range ts {
		t = materialize(t)
		end := start + op.widths[i]
		switch y.Dtype() {
		case tensor.Float64:
			copyBlock(data[float64](t), data[float64](y), r, c, false, start, end, true)
		default:
			copyBlock(data[float32](t), data[float32](y), r, c, false, start, end, true)
		}
		start = end
	}
	return y, nil
}

func (op concatOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op concatOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	out := make(gorgonia.Nodes, len(op.widths))
	start := 0
	for i, w := range op.widths {
		var err error
		if out[i], err = Columns(grad, start, start+w); err != nil {
			return nil, err
		}
		start += w
	}
	return out, nil
}

// MulRows returns x with every row multiplied elementwise by the vector v:
// a diagonal weight, as a peephole connection has.
func MulRows(x, v *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || v == nil || x.Dims() != 2 || v.Dims() != 1 || x.Shape()[1] != v.Shape()[0] || x.Dtype() != v.Dtype() {
		return nil, errors.New("nodes: mul rows: want a B×N matrix and an N vector of one dtype")
	}
	return gorgonia.ApplyOp(mulRowsOp{opBase{2}, x.Dtype()}, x, v)
}

type mulRowsOp struct {
	opBase
	dt tensor.Dtype
}

func (op mulRowsOp) String() string        { return "MulRows" }
func (op mulRowsOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op mulRowsOp) Hashcode() uint32      { return hashOf(op) }
func (op mulRowsOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	return hm.NewFnType(m, v, m)
}

func (op mulRowsOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, _, err := twoShapes(in)
	return s.Clone(), err
}

func (op mulRowsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: mul rows", vals, 2)
	if err != nil {
		return nil, err
	}
	x, v := materialize(ts[0]), materialize(ts[1])
	y := newDense(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float64:
		mulRows(data[float64](x), data[float64](v), data[float64](y))
	default:
		mulRows(data[float32](x), data[float32](v), data[float32](y))
	}
	return y, nil
}

func mulRows[T float](x, v, y []T) {
	n := len(v)
	if x32, ok := any(x).([]float32); ok {
		// Vectorised in float32, rounding as the loop below does.
		v32, y32 := any(v).([]float32), any(y).([]float32)
		for r := 0; r+n <= len(x); r += n {
			vecmath.Elementwise32(vecmath.Mul, y32[r:r+n], x32[r:r+n], v32)
		}
		return
	}
	for r := 0; r+n <= len(x); r += n {
		for j, w := range v {
			y[r+j] = x[r+j] * w
		}
	}
}

func (op mulRowsOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff: dx = dy ⊙ v per row; dv = Σ_rows dy ⊙ x.
func (op mulRowsOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := MulRows(grad, in[1])
	if err != nil {
		return nil, err
	}
	prod, err := gorgonia.HadamardProd(grad, in[0])
	if err != nil {
		return nil, err
	}
	dv, err := gorgonia.ApplyOp(colSumOp{opBase{1}, op.dt}, prod)
	return gorgonia.Nodes{dx, dv}, err
}
