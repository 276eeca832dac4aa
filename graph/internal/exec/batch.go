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
//     per step whose inner dimension is the batch (32 in the reference
//     workload), each reading and writing the whole gradient of B;
//   - when every A_i is known before the first product runs (the data x_t
//     of a first layer, the outputs of the layer below), the products
//     themselves are one product over the stack of the A_i, computed when
//     the first is needed: the input projection.
//
// The stacks are buffers of the group (M = Σ rows of the A_i). The A_i
// are copied in when a hoisted group's products run, or else as each
// member's backward step runs (B×k values against a product of B×k×n
// multiply-adds); the G_i are written there by the backward pass itself
// (slabGradients), or copied in when that cannot be arranged.
type group[T nodes.Float] struct {
	members []int // the steps, in forward order
	b       int   // the node of B
	info    nodes.OpInfo
	rows    int // rows of each A_i
	k, n    int // columns of A_i and of the product
	hoisted bool
	// bias is the leaf of a bias folded into a hoisted group's products
	// (see planAffine), or -1.
	bias int
	// batched says whether the gradient of B is one product, which
	// needs every member's backward step to differentiate B.
	batched bool
	a, g    []T // the stacks: M×k and M×n
	// inPlace says that the members' output gradients are the rows of g
	// themselves (slabGradients): nothing is copied into it.
	inPlace bool
	out     []T // a hoisted group's products, M×n
	dbt     []T // dBᵀ, k×n, when op(B) = Bᵀ
	// pos[s] is the row block of step s in the stacks: its position in
	// members, or in those of the group whose stack it shares.
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
			g = &group[T]{b: k.b, bias: -1, info: info, rows: k.rows, k: k.k, n: k.n, pos: map[int]int{}}
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
		// Hoisted when every A_i is computed before the first product
		// runs: inputs of the graph, or the outputs of a layer below,
		// which the order (depth first from the loss) computes whole
		// before the layer above starts.
		g.hoisted, g.batched = true, true
		for _, s := range g.members {
			g.hoisted = g.hoisted && p.stepOf[p.steps[s].args[0]] < g.members[0]
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
			p.zero = append(p.zero, g.b) // g.g: see slabGradients
		}
		if g.hoisted {
			g.out = make([]T, m*g.n)
		}
		p.groups = append(p.groups, g)
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
	for _, s := range g.members {
		i := g.pos[s]
		copy(g.a[i*size:(i+1)*size], p.vals[p.steps[s].args[0]])
	}
	b, sb := p.vals[g.b], p.shapes[g.b]
	beta := T(0)
	if g.bias >= 0 {
		bias := p.vals[g.bias]
		for r := 0; r < len(g.out); r += g.n {
			copy(g.out[r:r+g.n], bias)
		}
		beta = 1
	}
	nodes.Gemm(false, g.info.TransB, g.rows*len(g.members), g.n, g.k, g.a, g.k, b, sb[1], beta, g.out, g.n)
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
	if !g.inPlace {
		copy(g.g[i*gs:(i+1)*gs], p.grads[st.node])
	}
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
	if s != g.members[0] {
		return // not the last member to run backward
	}
	m, db := g.rows*len(g.members), p.grads[g.b]
	if !g.info.TransB {
		nodes.Gemm(true, false, g.k, g.n, m, g.a, g.k, g.g, g.n, 1, db, g.n)
		return
	}
	// dB = Gᵀ·A (n×k) as the transpose of Aᵀ·G, as the fused layers
	// compute dW: gemm then packs the transposed stack of the inputs (k
	// columns: 12 of x, 100 of h) rather than that of the gradients (4H
	// columns), and reads G in place.
	if g.dbt == nil {
		g.dbt = make([]T, g.k*g.n)
	}
	nodes.Gemm(true, false, g.k, g.n, m, g.a, g.k, g.g, g.n, 0, g.dbt, g.n)
	for i := range g.k {
		for j, v := range g.dbt[i*g.n : (i+1)*g.n] {
			db[j*g.k+i] += v
		}
	}
}

// slabGradients makes the output gradients of a batched group's products
// the rows of its stack of gradients, so that the backward pass writes
// them there and nothing is copied; two groups whose products share their
// output gradients (x·Wᵀ and h·Rᵀ summed into one pre-activation, whose
// gradient both take unchanged: planAliases) share the stack. It returns
// the buffers it fixed, by gradient class.
func (p *prog[T]) slabGradients() map[int][]T {
	fixed := map[int][]T{}
	owner := map[int]*group[T]{}
	for _, g := range p.groups {
		if !g.batched {
			continue
		}
		sz := g.rows * g.n
		reps := p.outputClasses(g)
		o, ok := stackOwner(g, reps, owner)
		switch {
		case !ok:
			g.g = make([]T, len(g.members)*sz) // copied into
		case o == nil:
			g.g, g.inPlace = make([]T, len(g.members)*sz), true
			for i, r := range reps {
				fixed[r], owner[r] = g.g[i*sz:(i+1)*sz:(i+1)*sz], g
			}
		default:
			// Another group's stack: this group's rows in that
			// group's order (a sum's order does not matter).
			row := make(map[int]int, len(o.members))
			for _, os := range o.members {
				row[p.gradRep[p.steps[os].node]] = o.pos[os]
			}
			for i, s := range g.members {
				g.pos[s] = row[reps[i]]
			}
			g.g, g.inPlace = o.g, true
		}
	}
	return fixed
}

// outputClasses returns the gradient classes of the members' outputs, in
// members' order, or nil when they cannot be the rows of a stack: a class
// twice, the loss, or a size other than a row block's.
func (p *prog[T]) outputClasses(g *group[T]) []int {
	reps, seen := make([]int, len(g.members)), map[int]bool{}
	for i, s := range g.members {
		r := p.gradRep[p.steps[s].node]
		if r == p.loss || seen[r] || size(p.shapes[r]) != g.rows*g.n {
			return nil
		}
		seen[r], reps[i] = true, r
	}
	return reps
}

// stackOwner says where the gradient classes reps of g's outputs can live:
// in a stack of g's own (nil, true) when no group's stack holds any of
// them, in the stack of the group o that holds them all (o, true), and
// nowhere (false) otherwise, or when reps is nil.
func stackOwner[T nodes.Float](g *group[T], reps []int, owner map[int]*group[T]) (o *group[T], ok bool) {
	if reps == nil {
		return nil, false
	}
	o = owner[reps[0]]
	for _, r := range reps {
		if owner[r] != o {
			return nil, false
		}
	}
	if o != nil && (len(o.members) != len(g.members) || o.rows != g.rows) {
		return nil, false
	}
	return o, true
}
