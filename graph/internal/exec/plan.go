package exec

import (
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// prog is a compiled program in element type T.
type prog[T nodes.Float] struct {
	nodes  []*gorgonia.Node
	shapes []tensor.Shape
	leaves []int
	steps  []step
	stepOf []int // the step computing node i, -1 for a leaf
	back   []backStep

	// vals[i] is node i's value: a leaf's own data, read at the start of
	// every run, or the buffer the plan gave the op node. grads[i] is the
	// buffer of node i's gradient during the backward pass.
	vals, grads [][]T
	// zero lists the learnables no backward step writes first: their
	// gradients are cleared before the backward pass.
	zero []int

	targets, wrt []int
	loss         int // -1 without a backward pass
	views        []gorgonia.Value
	gradViews    []*tensor.Dense
	scalars      map[int][]T // the values of scalar leaves (constants)

	xs, dxs [][]T // scratch for a step's arguments

	// groups are the product groups; groupOf[s] is step s's, or nil
	// (see group).
	groups  []*group[T]
	groupOf []*group[T]
	// uses[i] counts the arguments of steps that are node i, reader[i]
	// is the last step reading it; persistent[i] says whether the caller
	// reads it (a target).
	uses, reader []int
	persistent   []bool
	// gradRep[i] is the node whose gradient buffer node i's gradient is
	// (planAliases): i itself unless aliased.
	gradRep []int

	// transposed holds Bᵀ for the leaves B that products take
	// transposed one step at a time (h·Rᵀ): transposed once per run, so
	// that gemm reads them in place instead of packing Rᵀ at every step.
	transposed map[int][]T
}

// step is one op node of the forward pass.
type step struct {
	node   int
	op     op
	args   []int
	shapes []tensor.Shape
	// bt is the leaf whose transpose (prog.transposed) stands for this
	// product's op(B), or -1.
	bt int
	// skip says that the step does not run forward: its value is read
	// by no one, as it is added into another's (accum).
	skip bool
	// alias is the node whose buffer holds this step's value, computed
	// there by fused steps (planAffine), or -1: the step computes
	// nothing, or only accum.
	alias int
	// accum is a product step to run with β = 1 into the value, or -1.
	accum int
}

// backStep is the backward step of forward step s: grad[j] says whether
// argument j gets a gradient, acc[j] whether it adds to one already
// written in this pass (false: it writes the first).
type backStep struct {
	s         int
	grad, acc []bool
	// whole[j] says that the steps writing argument j's gradient write
	// disjoint blocks of it that cover it all (the gates a cell takes out
	// of one product): each writes its block without clearing the rest.
	whole []bool
}

// planBackward finds the nodes whose gradients the loss needs (those that
// depend on a learnable and that the loss depends on) and the backward
// steps that compute them, in the reverse order of the forward pass.
func (p *prog[T]) planBackward() {
	dep := make([]bool, len(p.nodes))
	for _, w := range p.wrt {
		dep[w] = true
	}
	for _, st := range p.steps {
		for j, a := range st.args {
			dep[st.node] = dep[st.node] || (dep[a] && st.op.differentiable(j))
		}
	}
	anc := make([]bool, len(p.nodes))
	anc[p.loss] = true
	for s := len(p.steps) - 1; s >= 0; s-- {
		st := p.steps[s]
		if !anc[st.node] {
			continue
		}
		for j, a := range st.args {
			anc[a] = anc[a] || st.op.differentiable(j)
		}
	}
	touched := make([]bool, len(p.nodes))
	touched[p.loss] = true
	p.back = make([]backStep, 0, len(p.steps))
	for s := len(p.steps) - 1; s >= 0; s-- {
		st := p.steps[s]
		if !dep[st.node] || !anc[st.node] {
			continue
		}
		b := backStep{s: s, grad: make([]bool, len(st.args)), acc: make([]bool, len(st.args))}
		some := false
		for j, a := range st.args {
			if dep[a] && anc[a] && st.op.differentiable(j) {
				b.grad[j], b.acc[j], touched[a] = true, touched[a], true
				some = true
			}
		}
		if some {
			p.back = append(p.back, b)
		}
	}
	for _, w := range p.wrt {
		if !touched[w] {
			p.zero = append(p.zero, w)
		}
	}
	p.planBlocks()
}

// planBlocks finds the gradients that are written block by block by
// Columns and ActivateBlock steps whose blocks of columns do not overlap
// and cover every column, and lets those steps write rather than add: the
// gradient of a cell's gate pre-activations, four gates out of one
// product, is then written once, not cleared and added to four times.
func (p *prog[T]) planBlocks() {
	type write struct{ b, j, lo, hi int }
	writes := map[int][]write{}
	blocked := make([]bool, len(p.nodes))
	for bi, b := range p.back {
		st := p.steps[b.s]
		for j, a := range st.args {
			if !b.grad[j] || blocked[a] {
				continue
			}
			lo, hi, ok := st.op.block(st.shapes[0])
			if !ok || len(p.shapes[a]) != 2 {
				blocked[a] = true
				delete(writes, a)
				continue
			}
			writes[a] = append(writes[a], write{bi, j, lo, hi})
		}
	}
	for a, ws := range writes {
		if blocked[a] {
			continue
		}
		// Disjoint and covering: sorted by their first column, each
		// block starts where the one before ends.
		slices.SortFunc(ws, func(x, y write) int { return x.lo - y.lo })
		end := 0
		for _, w := range ws {
			if w.lo != end {
				end = -1
				break
			}
			end = w.hi
		}
		if end != p.shapes[a][1] {
			continue
		}
		for _, w := range ws {
			b := &p.back[w.b]
			if b.whole == nil {
				b.whole = make([]bool, len(b.grad))
			}
			b.whole[w.j], b.acc[w.j] = true, false
		}
	}
}

// interval is the life of a buffer: from the time its value is first
// written to the time it is last read. Times count the forward steps
// 0 … F-1, then the backward steps F … 2F-1 (the backward step of forward
// step s at 2F-1-s).
type interval struct {
	def, last int
	node      int
	grad      bool
}

// planBuffers gives every op node's value and every gradient a buffer,
// reusing the buffers of values no later step reads: a run allocates
// nothing, and a training graph holds little more than what its backward
// pass must keep. Targets' values and learnables' gradients get buffers of
// their own, which outlive the run; hoisted products and the steps fused
// with them live in their group's buffer; aliased gradients share one
// buffer over the union of their lives.
func (p *prog[T]) planBuffers() {
	vals, grads, hasGrad := p.lifetimes()
	f := len(p.steps)
	events := make([][]interval, 2*f+1)
	frees := make([][]interval, 2*f+1)
	add := func(iv interval, keep bool) {
		if keep {
			p.set(iv, make([]T, size(p.shapes[iv.node])))
			return
		}
		events[iv.def] = append(events[iv.def], iv)
		frees[iv.last] = append(frees[iv.last], iv)
	}
	for s, st := range p.steps {
		if v := p.hoistedView(s); v != nil {
			p.vals[st.node] = v
			continue
		}
		if st.skip || st.alias >= 0 {
			continue
		}
		add(vals[st.node], p.persistent[st.node])
	}
	if p.loss >= 0 {
		p.grads[p.loss] = make([]T, 1)
	}
	for r, buf := range p.slabGradients() {
		p.grads[r] = buf
	}
	for i := range p.nodes {
		if hasGrad[i] && p.gradRep[i] == i && i != p.loss && p.grads[i] == nil {
			add(grads[i], p.stepOf[i] < 0)
		}
	}
	p.allocate(events, frees)
	for _, st := range p.steps {
		if st.alias >= 0 {
			p.vals[st.node] = p.vals[st.alias]
		}
	}
	for i, r := range p.gradRep {
		if r != i {
			p.grads[i] = p.grads[r]
		}
	}
	p.makeViews()
}

// lifetimes returns the interval of every op node's value and of every
// gradient class (by its representative, hasGrad), from the steps that
// write and read them.
func (p *prog[T]) lifetimes() (vals, grads []interval, hasGrad []bool) {
	f := len(p.steps)
	back := func(s int) int { return 2*f - 1 - s }
	vals = make([]interval, len(p.nodes))
	for s, st := range p.steps {
		vals[st.node] = interval{def: s, last: s, node: st.node}
		for _, a := range st.args {
			if p.stepOf[a] >= 0 {
				vals[a].last = max(vals[a].last, s)
			}
		}
	}
	grads, hasGrad = make([]interval, len(p.nodes)), make([]bool, len(p.nodes))
	grow := func(i, t int) {
		r := p.gradRep[i]
		if !hasGrad[r] {
			hasGrad[r], grads[r] = true, interval{def: t, last: t, node: r, grad: true}
		}
		grads[r].def, grads[r].last = min(grads[r].def, t), max(grads[r].last, t)
	}
	for _, b := range p.back {
		st := p.steps[b.s]
		t := back(b.s)
		needArgs, needOut := st.op.needs(b.grad)
		for j, a := range st.args {
			if needArgs[j] && p.stepOf[a] >= 0 {
				vals[a].last = max(vals[a].last, t)
			}
			if b.grad[j] {
				grow(a, t)
			}
		}
		if needOut {
			vals[st.node].last = max(vals[st.node].last, t)
		}
		if st.node != p.loss {
			grow(st.node, t)
		}
	}
	return vals, grads, hasGrad
}

// allocate walks the times in order, giving each interval that starts a
// buffer of its size from those free (or a new one) before returning the
// buffers of the intervals that end, so that a step's result never shares
// memory with its arguments.
func (p *prog[T]) allocate(events, frees [][]interval) {
	pool := map[int][][]T{}
	for t := range events {
		for _, iv := range events[t] {
			n := size(p.shapes[iv.node])
			var buf []T
			if free := pool[n]; len(free) > 0 {
				buf, pool[n] = free[len(free)-1], free[:len(free)-1]
			} else {
				buf = make([]T, n)
			}
			p.set(iv, buf)
		}
		for _, iv := range frees[t] {
			n := size(p.shapes[iv.node])
			pool[n] = append(pool[n], p.buffer(iv))
		}
	}
}

// planTransposes gives the products h·Rᵀ of a learnable R that are not
// hoisted a transposed copy of R to read.
func (p *prog[T]) planTransposes() {
	p.transposed = map[int][]T{}
	for s := range p.steps {
		st := &p.steps[s]
		st.bt = -1
		info := st.op.info
		if st.op.kind != opNodes || info.Kind != nodes.MatMulOp || info.TransA || !info.TransB ||
			p.stepOf[st.args[1]] >= 0 || p.hoistedView(s) != nil {
			continue
		}
		b := st.args[1]
		if p.transposed[b] == nil {
			p.transposed[b] = make([]T, size(p.shapes[b]))
		}
		st.bt = b
	}
}

// set makes buf the buffer of iv's value or gradient.
func (p *prog[T]) set(iv interval, buf []T) {
	if iv.grad {
		p.grads[iv.node] = buf
	} else {
		p.vals[iv.node] = buf
	}
}

// buffer returns the buffer of iv's value or gradient.
func (p *prog[T]) buffer(iv interval) []T {
	if iv.grad {
		return p.grads[iv.node]
	}
	return p.vals[iv.node]
}
