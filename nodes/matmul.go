package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul returns op(a)·op(b) for two matrices, where op transposes its
// argument when the matching flag is set.
//
// Gorgonia's own Mul treats a 1×n matrix as a vector and then returns a
// vector, so a batch of one sequence, or a layer with one output, would
// change shape; MatMul never does. Transposition is a BLAS flag, not a copy.
// The product runs on the BLAS that gorgonia.Use installed, or on
// seqgraph's faster gemm while Gorgonia has its default.
func MatMul(a, b *gorgonia.Node, transA, transB bool) (*gorgonia.Node, error) {
	if a == nil || b == nil {
		return nil, errors.New("nodes: matmul: nil operand")
	}
	if a.Dims() != 2 || b.Dims() != 2 {
		return nil, errors.Errorf("nodes: matmul: operands must be matrices, got shapes %v and %v", a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Errorf("nodes: matmul: dtypes differ: %v and %v", a.Dtype(), b.Dtype())
	}
	op := matMulOp{opBase{2}, transA, transB, a.Dtype()}
	if _, err := op.InferShape(a.Shape(), b.Shape()); err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(op, a, b)
}

type matMulOp struct {
	opBase
	transA, transB bool
	dt             tensor.Dtype
}

func (op matMulOp) String() string        { return fmt.Sprintf("MatMul{%t,%t}", op.transA, op.transB) }
func (op matMulOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op matMulOp) Hashcode() uint32      { return hashOf(op) }
func (op matMulOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	return hm.NewFnType(m, m, m)
}

func (op matMulOp) dims(a, b tensor.Shape) (m, k, n int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, errors.Errorf("nodes: matmul: shapes %v and %v are not both matrices", a, b)
	}
	m, k = a[0], a[1]
	if op.transA {
		m, k = k, m
	}
	k2, n := b[0], b[1]
	if op.transB {
		k2, n = n, k2
	}
	if k != k2 {
		return 0, 0, 0, errors.Errorf("nodes: matmul: inner sizes differ: %v%s · %v%s", a, tMark(op.transA), b, tMark(op.transB))
	}
	return m, k, n, nil
}

func tMark(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

func (op matMulOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	a, b, err := twoShapes(in)
	if err != nil {
		return nil, err
	}
	m, _, n, err := op.dims(a, b)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op matMulOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: matmul", vals, 2)
	if err != nil {
		return nil, err
	}
	a, b := materialize(ts[0]), materialize(ts[1])
	m, k, n, err := op.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	c := newDense(a.Dtype(), tensor.Shape{m, n})
	tA, tB := blas.NoTrans, blas.NoTrans
	if op.transA {
		tA = blas.Trans
	}
	if op.transB {
		tB = blas.Trans
	}
	lda, ldb := a.Shape()[1], b.Shape()[1]
	impl := matmulBLAS()
	switch a.Dtype() {
	case tensor.Float64:
		impl.Dgemm(tA, tB, m, n, k, 1, data[float64](a), lda, data[float64](b), ldb, 0, data[float64](c), n)
	default:
		impl.Sgemm(tA, tB, m, n, k, 1, data[float32](a), lda, data[float32](b), ldb, 0, data[float32](c), n)
	}
	return c, nil
}

func (op matMulOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff follows from C = op(A)·op(B): dop(A) = G·op(B)ᵀ and
// dop(B) = op(A)ᵀ·G, transposed back when the operand itself was transposed.
func (op matMulOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	a, b := in[0], in[1]
	var da, db *gorgonia.Node
	var err error
	if !op.transA {
		da, err = MatMul(grad, b, false, !op.transB)
	} else {
		da, err = MatMul(b, grad, op.transB, true)
	}
	if err != nil {
		return nil, err
	}
	if !op.transB {
		db, err = MatMul(a, grad, !op.transA, false)
	} else {
		db, err = MatMul(grad, a, true, op.transA)
	}
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{da, db}, nil
}

func shapeOf(d gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("nodes: expected a tensor.Shape, got %T", d)
	}
	return s, nil
}

func twoShapes(in []gorgonia.DimSizer) (tensor.Shape, tensor.Shape, error) {
	if len(in) != 2 {
		return nil, nil, errors.Errorf("nodes: got %d shapes, want 2", len(in))
	}
	a, err := shapeOf(in[0])
	if err != nil {
		return nil, nil, err
	}
	b, err := shapeOf(in[1])
	return a, b, err
}
