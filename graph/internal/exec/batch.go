package exec

import (
	"github.com/seqgraph/seqgraph/nodes"
)

// A product group is the matrix products op(A_i)·op(B) of one learnable B
// with the same shapes and flags, A_i not transposed: the x_t·Wᵀ and
// h_{t-1}·Rᵀ of every timestep of a cell. The fused layers owe most of
// their speed to computing such products over all timesteps at once, and
// a gate-node graph has the same structure, one product per timestep:
//
//   - the gradient of B, Σ_i op(A_i)ᵀ·G_i, is one product over the stacks
//     of the A_i and of their output gradients G_i, instead of one product
//     of B rows per step (K = B = 32 for the reference batch, which gemm
//     runs far below its speed on long products) each reading and writing
//     the whole gradient of B;
//   - when every A_i is an input of the graph (the data x_t of a first
//     layer), the products themselves are one product over the stack of
//     the A_i, computed when the first is needed: the input projection.
//
// The stacks are buffers of the group (M = Σ rows of the A_i): the A_i
// and G_i are copied in as each member's backward step runs (a copy of
// B×(k+n) values against a product of B×k×n multiply-adds), or, for a
// hoisted group, the inputs when the products run.
type group[T nodes.Float] struct {
	members []int // the steps, in forward order
	b       int   // the node of B
	info    nodes.OpInfo
	rows    int // rows of each A_i
	k, n    int // columns of A_i and of the product
	hoisted bool
	// batched says whether the gradient of B is one product: every
	// member's backward step computes it.
	batched bool
	a, g    []T // the stacks: M×k and M×n
	out     []T // a hoisted group's products, M×n
	// pos[s] is the position of step s in members.
	pos map[int]int
}

// findGroups groups the products by their B, a leaf of the graph (a
// learnable). A group of one step, or of products that transpose A, is
// left to the step itself.
func (p *prog[T]) findGroups() {
	type key struct {
		b          int
		transB     bool
		rows, k, n int
	}
	byKey := map[key]*group[T]{}
	var order []key
	backOf := make([]int, len(p.steps))
	for s := range backOf {
		backOf[s] = -1
	}
	for i, b := range p.back {
		backOf[b.s] = i
	}
	for s, st := range p.steps {
		info := st.op.info
		if st.op.kind != opNodes || info.Kind != nodes.MatMulOp || info.TransA || p.stepOf[st.args[1]] >= 0 {
			continue
		}
		a, b := st.shapes[0], st.shapes[1]
		n := b[1]
		if info.TransB {
			n = b[0]
		}
		k := key{b: st.args[1], transB: info.TransB, rows: a[0], k: a[1], n: n}
		g := byKey[k]
		if g == nil {
			g = &group[T]{b: k.b, info: info, rows: k.rows, k: k.k, n: k.n, pos: map[int]int{}}
			byKey[k] = g
			order = append(order, k)
		}
		g.pos[s] = len(g.members)
		g.members = append(g.members, s)
	}
	p.groupOf = make([]*group[T], len(p.steps))
	for _, k := range order {
		g := byKey[k]
		if len(g.members) < 2 {
			continue
		}
		g.hoisted, g.batched = true, true
		for _, s := range g.members {
			g.hoisted = g.hoisted && p.stepOf[p.steps[s].args[0]] < 0
			g.batched = g.batched && backOf[s] >= 0 && p.back[backOf[s]].grad[1]
		}
		if !g.hoisted && !g.batched {
			continue
		}
		for _, s := range g.members {
			p.groupOf[s] = g
		}
		m := g.rows * len(g.members)
		g.a = make([]T, m*g.k)
		if g.batched {
			g.g = make([]T, m*g.n)
			p.zero = append(p.zero, g.b)
		}
		if g.hoisted {
			g.out = make([]T, m*g.n)
		}
	}
}

// hoistedView returns the rows of a hoisted group's products that step s
// computes, or nil when s is not in a hoisted group.
func (p *prog[T]) hoistedView(s int) []T {
	g := p.groupOf[s]
	if g == nil || !g.hoisted {
		return nil
	}
	i, size := g.pos[s], g.rows*g.n
	return g.out[i*size : (i+1)*size : (i+1)*size]
}

// runHoisted computes every product of a hoisted group, at its first
// member's step: the stack of the inputs times op(B).
func (p *prog[T]) runHoisted(g *group[T]) {
	size := g.rows * g.k
	for i, s := range g.members {
		copy(g.a[i*size:(i+1)*size], p.vals[p.steps[s].args[0]])
	}
	b, sb := p.vals[g.b], p.shapes[g.b]
	nodes.Gemm(false, g.info.TransB, g.rows*len(g.members), g.n, g.k, g.a, g.k, b, sb[1], 0, g.out, g.n)
}

// backwardMember runs the backward step of a grouped product: the
// gradient of A_i as any product's, while G_i (and A_i, unless hoisted)
// go to the group's stacks; at the last member to run, the first in
// forward order, the gradient of B is added in one product.
func (p *prog[T]) backwardMember(g *group[T], s int, b backStep, st step) {
	i := g.pos[s]
	gs := g.rows * g.n
	if !g.batched {
		p.backwardStep(b, st)
		return
	}
	copy(g.g[i*gs:(i+1)*gs], p.grads[st.node])
	if !g.hoisted {
		as := g.rows * g.k
		copy(g.a[i*as:(i+1)*as], p.vals[st.args[0]])
	}
	if b.grad[0] {
		grad := b.grad
		b.grad = []bool{true, false}
		p.backwardStep(b, st)
		b.grad = grad
	}
	if i != 0 {
		return
	}
	m, db := g.rows*len(g.members), p.grads[g.b]
	if !g.info.TransB {
		nodes.Gemm(true, false, g.k, g.n, m, g.a, g.k, g.g, g.n, 1, db, g.n)
	} else {
		nodes.Gemm(true, false, g.n, g.k, m, g.g, g.n, g.a, g.k, 1, db, g.k)
	}
}
