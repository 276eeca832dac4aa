package exec

import (
	"math"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
	"github.com/seqgraph/seqgraph/nodes"
)

// vec computes op over dst, a and b with vecmath's vectorised kernel and
// reports true in float32; in float64 it reports false and the caller's
// Go loop computes it (float64 keeps plain loops, as nodes does).
func vec[T nodes.Float](op vecmath.Op, dst, a, b []T) bool {
	d32, ok := any(dst).([]float32)
	if ok {
		vecmath.Elementwise32(op, d32, any(a).([]float32), any(b).([]float32))
	}
	return ok
}

// forward computes op into y from the arguments xs of the given shapes.
// Package nodes' ops run nodes' own kernels (nodes.DoInto), so values are
// those of the plain path bit for bit; Gorgonia's elementwise ops are
// plain loops, as Gorgonia's own engine computes them.
func forward[T nodes.Float](o op, y []T, xs [][]T, shapes []tensor.Shape) {
	switch o.kind {
	case opNodes:
		nodes.DoInto(o.info, y, xs, shapes)
	case opAdd:
		if vec(vecmath.Add, y, xs[0], xs[1]) {
			break
		}
		a, b := xs[0][:len(y)], xs[1][:len(y)]
		for i := range y {
			y[i] = a[i] + b[i]
		}
	case opSub:
		if vec(vecmath.Sub, y, xs[0], xs[1]) {
			break
		}
		a, b := xs[0][:len(y)], xs[1][:len(y)]
		for i := range y {
			y[i] = a[i] - b[i]
		}
	case opMul:
		if vec(vecmath.Mul, y, xs[0], xs[1]) {
			break
		}
		a, b := xs[0][:len(y)], xs[1][:len(y)]
		for i := range y {
			y[i] = a[i] * b[i]
		}
	case opExp:
		for i, v := range xs[0][:len(y)] {
			y[i] = T(math.Exp(float64(v)))
		}
	case opSquare:
		for i, v := range xs[0][:len(y)] {
			y[i] = v * v
		}
	case opSum:
		var s T
		for _, v := range xs[0] {
			s += v
		}
		y[0] = s
	}
}

// backward adds the gradients of op's arguments, given g, the gradient of
// its output y: into dxs[i] (nil when argument i needs none), or with
// acc[i] false writing them, as the first contribution to that gradient.
//
// whole, when not nil, marks the arguments whose gradient this step
// writes a block of, the other blocks being written by other steps
// (planBlocks): the step writes its block and leaves the rest alone.
func backward[T nodes.Float](o op, g, y []T, xs, dxs [][]T, acc, whole []bool, shapes []tensor.Shape) {
	switch o.kind {
	case opAdd, opSub:
		put(dxs[0], g, acc[0], 1)
		sign := T(1)
		if o.kind == opSub {
			sign = -1
		}
		put(dxs[1], g, acc[1], sign)
	case opMul:
		mulInto(dxs[0], g, xs[1], acc[0])
		mulInto(dxs[1], g, xs[0], acc[1])
	case opExp:
		mulInto(dxs[0], g, y, acc[0])
	case opSquare:
		if dx := dxs[0]; dx != nil {
			x := xs[0][:len(dx)]
			for i, gi := range g[:len(dx)] {
				d := 2 * x[i] * gi
				if acc[0] {
					d += dx[i]
				}
				dx[i] = d
			}
		}
	case opSum:
		if dx := dxs[0]; dx != nil {
			for i := range dx {
				if acc[0] {
					dx[i] += g[0]
				} else {
					dx[i] = g[0]
				}
			}
		}
	case opNodes:
		backwardNodes(o.info, g, y, xs, dxs, acc, whole, shapes)
	}
}

// backwardNodes is backward for package nodes' ops, the gradients their
// SymDiff builds.
func backwardNodes[T nodes.Float](info nodes.OpInfo, g, y []T, xs, dxs [][]T, acc, whole []bool, shapes []tensor.Shape) {
	// block is whether argument 0's gradient is written in blocks by
	// this step and others, so that this one neither clears nor adds.
	block := whole != nil && whole[0]
	switch info.Kind {
	case nodes.MatMulOp:
		matMulBackward(info, g, xs, dxs, acc, shapes)
	case nodes.AddBiasOp:
		put(dxs[0], g, acc[0], 1)
		if db := dxs[1]; db != nil {
			if !acc[1] {
				clear(db)
			}
			addColumnSums(db, g)
		}
	case nodes.ActivateOp, nodes.ColumnsOp, nodes.RowsOp:
		if dxs[0] != nil {
			blockBackward(info, dxs[0], g, y, shapes[0], acc[0], block)
		}
	case nodes.MulRowsOp:
		mulRowsBackward(g, xs, dxs, acc)
	case nodes.DropoutOp:
		if dxs[0] != nil {
			nodes.DropoutGrad(info, dxs[0], g, acc[0])
		}
	case nodes.MaskedOp:
		m := xs[2]
		scaleRowsInto(dxs[0], g, m, false, acc[0])
		scaleRowsInto(dxs[1], g, m, true, acc[1])
	case nodes.LogSoftmaxOp:
		if dxs[0] != nil {
			logSoftmaxBackward(dxs[0], g, y, shapes[0][1], acc[0])
		}
	case nodes.ConcatColumnsOp:
		r, c, start := shapes[0][0], len(g)/shapes[0][0], 0
		for i, w := range info.Widths {
			if dx := dxs[i]; dx != nil {
				for row := range r {
					put(dx[row*w:][:w], g[row*c+start:][:w], acc[i], 1)
				}
			}
			start += w
		}
	}
}

// blockBackward adds the gradient g of an ActivateBlock, Columns or Rows
// step, whose output y is a block of its argument of shape in, to that
// block of dx: through the activation's derivative for ActivateBlock. dx
// is cleared first when this step writes it first (!acc), unless other
// steps write its other blocks (block).
func blockBackward[T nodes.Float](info nodes.OpInfo, dx, g, y []T, in tensor.Shape, acc, block bool) {
	rows, cols := in[0], in[1]
	partial := info.Kind != nodes.ActivateOp || info.Blocks > 1
	if !acc && partial && !block {
		clear(dx)
	}
	switch info.Kind {
	case nodes.RowsOp:
		addTo(dx[info.Start*cols:info.End*cols], g)
	case nodes.ColumnsOp:
		n := info.End - info.Start
		for r := range rows {
			put(dx[r*cols+info.Start:][:n], g[r*n:][:n], !block || acc, 1)
		}
	default:
		n := cols / info.Blocks
		add := acc || (partial && !block)
		for r := range rows {
			activationGrad(info.Act, dx[r*cols+info.Block*n:][:n], y[r*n:][:n], g[r*n:][:n], add)
		}
	}
}

// mulRowsBackward adds the gradients of MulRows(x, v) = x ⊙ v per row:
// dx = g ⊙ v per row, dv = Σ_rows g ⊙ x.
func mulRowsBackward[T nodes.Float](g []T, xs, dxs [][]T, acc []bool) {
	x, v := xs[0], xs[1]
	n := len(v)
	if dx := dxs[0]; dx != nil {
		for r := 0; r+n <= len(dx); r += n {
			mulInto(dx[r:r+n], g[r:r+n], v, acc[0])
		}
	}
	if dv := dxs[1]; dv != nil {
		if !acc[1] {
			clear(dv)
		}
		for r := 0; r+n <= len(g); r += n {
			mulInto(dv[:n], g[r:r+n], x[r:r+n], true)
		}
	}
}

// logSoftmaxBackward adds dx = g - exp(y)·Σ_j g_j, row by row of k
// values, as logSoftmaxGradOp computes it.
func logSoftmaxBackward[T nodes.Float](dx, g, y []T, k int, acc bool) {
	for r := 0; r+k <= len(y); r += k {
		var s float64
		for _, v := range g[r : r+k] {
			s += float64(v)
		}
		for j := r; j < r+k; j++ {
			d := T(float64(g[j]) - math.Exp(float64(y[j]))*s)
			if acc {
				d += dx[j]
			}
			dx[j] = d
		}
	}
}

// matMulBackward adds dA and dB for C = op(A)·op(B), as matMulOp's SymDiff
// has them: dop(A) = G·op(B)ᵀ and dop(B) = op(A)ᵀ·G, each one product
// whose β is 1 when it adds to a gradient.
func matMulBackward[T nodes.Float](info nodes.OpInfo, g []T, xs, dxs [][]T, acc []bool, shapes []tensor.Shape) {
	sa, sb := shapes[0], shapes[1]
	m, k, n := info.MatMulDims(sa, sb)
	beta := func(i int) T {
		if acc[i] {
			return 1
		}
		return 0
	}
	if da := dxs[0]; da != nil {
		if !info.TransA {
			nodes.Gemm(false, !info.TransB, m, k, n, g, n, xs[1], sb[1], beta(0), da, k)
		} else {
			nodes.Gemm(info.TransB, true, k, m, n, xs[1], sb[1], g, n, beta(0), da, m)
		}
	}
	if db := dxs[1]; db != nil {
		if !info.TransB {
			nodes.Gemm(!info.TransA, false, k, n, m, xs[0], sa[1], g, n, beta(1), db, n)
		} else {
			nodes.Gemm(true, info.TransA, n, k, m, g, n, xs[0], sa[1], beta(1), db, k)
		}
	}
}

// put sets dx to sign·g, or adds it with acc; a nil dx is left alone.
func put[T nodes.Float](dx, g []T, acc bool, sign T) {
	if dx == nil || (!acc && sign == 1 && same(dx, g)) {
		return
	}
	g = g[:len(dx)]
	switch {
	case acc && sign == 1:
		addTo(dx, g)

	case acc:
		for i, v := range g {
			dx[i] -= v
		}
	case sign == 1:
		copy(dx, g)
	default:
		for i, v := range g {
			dx[i] = -v
		}
	}
}

// same reports whether a and b are one buffer: an aliased gradient
// (planAliases), which its identity backward step leaves as it is.
func same[T nodes.Float](a, b []T) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// addTo adds g to dx.
func addTo[T nodes.Float](dx, g []T) {
	if vec(vecmath.AddTo, dx, g, nil) {
		return
	}
	g = g[:len(dx)]
	for i, v := range g {
		dx[i] += v
	}
}

// mulInto sets dx to g ⊙ x, or adds it with acc; a nil dx is left alone.
func mulInto[T nodes.Float](dx, g, x []T, acc bool) {
	if dx == nil {
		return
	}
	op := vecmath.Mul
	if acc {
		op = vecmath.AddMul
	}
	if vec(op, dx, g, x) {
		return
	}
	g, x = g[:len(dx)], x[:len(dx)]
	if acc {
		for i, v := range g {
			dx[i] += v * x[i]
		}
		return
	}
	for i, v := range g {
		dx[i] = v * x[i]
	}
}

// addColumnSums adds the sums over the rows of g to db.
func addColumnSums[T nodes.Float](db, g []T) {
	n := len(db)
	for r := 0; r+n <= len(g); r += n {
		addTo(db, g[r:r+n])
	}
}

// scaleRowsInto sets row r of dx to m[r]·g (1-m[r] with complement), or
// adds it with acc: the gradients of Masked, which copies rows whose factor
// is 1 and leaves those whose factor is 0 at zero.
func scaleRowsInto[T nodes.Float](dx, g, m []T, complement, acc bool) {
	if dx == nil {
		return
	}
	n := len(dx) / len(m)
	for r, w := range m {
		if complement {
			w = 1 - w
		}
		d, gr := dx[r*n:r*n+n], g[r*n:r*n+n]
		switch {
		case w == 0 && !acc:
			clear(d)
		case w == 0:
		case w == 1:
			put(d, gr, acc, 1)
		case acc:
			for j, v := range gr {
				d[j] += w * v
			}
		default:
			for j, v := range gr {
				d[j] = w * v
			}
		}
	}
}

// activationGrad sets dx to g ⊙ a'(y), or adds it with acc, with the
// derivatives of sigmoid and tanh written out.
func activationGrad[T nodes.Float](a nodes.Activation, dx, y, g []T, acc bool) {
	if a == nodes.Sigmoid || a == nodes.Tanh {
		var op vecmath.Op
		switch {
		case a == nodes.Sigmoid && acc:
			op = vecmath.AddSigmoidGrad
		case a == nodes.Sigmoid:
			op = vecmath.SigmoidGrad
		case acc:
			op = vecmath.AddTanhGrad
		default:
			op = vecmath.TanhGrad
		}
		if vec(op, dx, g, y) {
			return
		}
	}
	y, g = y[:len(dx)], g[:len(dx)]
	switch {
	case a == nodes.Sigmoid && acc:
		for i, v := range y {
			dx[i] += g[i] * (v * (1 - v))
		}
	case a == nodes.Sigmoid:
		for i, v := range y {
			dx[i] = g[i] * (v * (1 - v))
		}
	case a == nodes.Tanh && acc:
		for i, v := range y {
			dx[i] += g[i] * (1 - v*v)
		}
	case a == nodes.Tanh:
		for i, v := range y {
			dx[i] = g[i] * (1 - v*v)
		}
	default:
		for i, v := range y {
			d := g[i] * T(a.Derivative(float64(v)))
			if acc {
				d += dx[i]
			}
			dx[i] = d
		}
	}
}
