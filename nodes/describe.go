package nodes

import (
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// OpKind names an op of this package for an executor that runs a graph
// into buffers of its own instead of calling each op's Do (seqgraph's
// graph optimizer, graph/internal/exec). Ops of other packages, and the ops
// of this package that such an executor does not compute (the fused layers,
// the sequence layers' ops, the video ops), are NotDescribed.
type OpKind int

// The ops Describe reports.
const (
	NotDescribed    OpKind = iota
	MatMulOp               // MatMul: TransA, TransB
	AddBiasOp              // AddBias
	ActivateOp             // ActivateBlock: Act, Block, Blocks
	ColumnsOp              // Columns: Start, End
	RowsOp                 // Rows: Start, End
	MulRowsOp              // MulRows
	MaskedOp               // Masked
	LogSoftmaxOp           // LogSoftmax
	ConcatColumnsOp        // ConcatColumns: Widths
	DropoutOp              // Dropout: its mask with DoInto, DropoutGrad
)

// OpInfo is what Describe tells of an op: its kind and the parameters
// that kind has.
type OpInfo struct {
	Kind           OpKind
	TransA, TransB bool
	Act            Activation
	Block, Blocks  int
	Start, End     int
	Widths         []int

	dropout *dropoutOp // the op, which holds its generator and mask
}

// Describe returns the kind and parameters of op when it is one of the
// ops listed with OpKind, and NotDescribed otherwise.
func Describe(op gorgonia.Op) OpInfo {
	switch o := op.(type) {
	case matMulOp:
		return OpInfo{Kind: MatMulOp, TransA: o.transA, TransB: o.transB}
	case addBiasOp:
		return OpInfo{Kind: AddBiasOp}
	case actOp:
		return OpInfo{Kind: ActivateOp, Act: o.act, Block: o.block, Blocks: o.blocks}
	case blockOp:
		if o.rows {
			return OpInfo{Kind: RowsOp, Start: o.start, End: o.end}
		}
		return OpInfo{Kind: ColumnsOp, Start: o.start, End: o.end}
	case mulRowsOp:
		return OpInfo{Kind: MulRowsOp}
	case maskOp:
		return OpInfo{Kind: MaskedOp}
	case logSoftmaxOp:
		return OpInfo{Kind: LogSoftmaxOp}
	case concatOp:
		return OpInfo{Kind: ConcatColumnsOp, Widths: append([]int(nil), o.widths...)}
	case *dropoutOp:
		return OpInfo{Kind: DropoutOp, dropout: o}
	}
	return OpInfo{}
}

// Float is the set of element types the ops compute in.
type Float interface{ ~float32 | ~float64 }

// DoInto computes what the described op's Do returns, for row-major
// inputs xs of the given shapes, into y (which must not overlap them),
// with the same kernels and so the same results, but without allocating.
// It returns false for an op it does not know. Shapes are not checked:
// the caller took them from the graph's nodes.
func DoInto[T Float](info OpInfo, y []T, xs [][]T, shapes []tensor.Shape) bool {
	switch info.Kind {
	case MatMulOp:
		m, k, n := info.MatMulDims(shapes[0], shapes[1])
		Gemm(info.TransA, info.TransB, m, n, k, xs[0], shapes[0][1], xs[1], shapes[1][1], 0, y, n)
	case AddBiasOp:
		addRows(xs[0], xs[1], y)
	case ActivateOp:
		rows, cols := shapes[0][0], shapes[0][1]
		n := cols / info.Blocks
		activateRows(info.Act, xs[0], y, rows, cols, info.Block*n, n)
	case ColumnsOp, RowsOp:
		copyBlock(y, xs[0], shapes[0][0], shapes[0][1], info.Kind == RowsOp, info.Start, info.End, false)
	case MulRowsOp:
		mulRows(xs[0], xs[1], y)
	case MaskedOp:
		blendRows(xs[0], xs[1], xs[2], y)
	case LogSoftmaxOp:
		logSoftmaxRows(xs[0], y, shapes[0][1])
	case ConcatColumnsOp:
		r, c, start := shapes[0][0], 0, 0
		for _, w := range info.Widths {
			c += w
		}
		for i, w := range info.Widths {
			copyBlock(xs[i], y, r, c, false, start, start+w, true)
			start += w
		}
	case DropoutOp:
		// As Do: the mask drawn from the op's generator, which every run
		// advances, in training; the input itself in inference.
		info.dropout.draw(len(y))
		keepInto(y, xs[0], info.dropout.keep, false)
	default:
		return false
	}
	return true
}

// DropoutGrad sets dx to the gradient g of a Dropout's output times the
// mask of its last run (DoInto's or Do's), or adds that with add: the
// gradient its SymDiff computes.
func DropoutGrad[T Float](info OpInfo, dx, g []T, add bool) {
	keepInto(dx, g, info.dropout.keep, add)
}

// MatMulDims returns the sizes of a MatMul of operands of shapes a and b:
// op(a) is m×k, op(b) k×n.
func (info OpInfo) MatMulDims(a, b tensor.Shape) (m, k, n int) {
	m, k, n = a[0], a[1], b[1]
	if info.TransA {
		m, k = k, m
	}
	if info.TransB {
		n = b[0]
	}
	return m, k, n
}

// Gemm sets c = op(a)·op(b) + beta·c for row-major matrices (op(a) m×k,
// op(b) k×n) on the BLAS MatMul runs on: one installed with gorgonia.Use,
// or seqgraph's gemm.
func Gemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	impl := matmulBLAS()
	switch a := any(a).(type) {
	case []float64:
		impl.Dgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		impl.Sgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// Derivative returns the derivative of a at the point whose activation is
// y (a function of the output alone, as the ops' backward passes use it).
func (a Activation) Derivative(y float64) float64 { return a.df(y) }
