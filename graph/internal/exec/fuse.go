package exec

import "github.com/seqgraph/seqgraph/nodes"

// The passes of this file remove whole passes over memory from the
// products of rnn.Affine, z = x·Wᵀ + h·Rᵀ + b, which every built-in cell
// and most custom cells compute at every timestep, and from any node
// whose gradient is its consumer's unchanged (a sum's operands):
//
//   - bias folding: when every product of a hoisted group feeds, alone, an
//     AddBias of the same bias (directly or through one Add), the group's
//     buffer starts as the bias and the hoisted product adds to it;
//   - product accumulation: Add(P, Q) of a hoisted product P and a product
//     Q = h·Rᵀ that nothing else reads runs Q with β = 1 into P's rows;
//     the Add and the AddBias then are P's rows, computing nothing;
//   - gradient aliasing: an operand of +, of the left of -, or of
//     AddBias's matrix, read by that op alone, has the op's output
//     gradient as its gradient: the same buffer, not a copy.
//
// The fused LSTM computes z the same way (the bias copied into its gate
// buffer, X·Wᵀ over all steps, h·Rᵀ with β = 1) and so has no pass for
// the sums at all.

// isKind reports whether step s is an op of package nodes of kind k.
func (p *prog[T]) isKind(s int, k nodes.OpKind) bool {
	st := p.steps[s]
	return st.op.kind == opNodes && st.op.info.Kind == k
}

// consumer returns the only step that reads node i, or -1 when none or
// several do, or when the caller reads i (a target).
func (p *prog[T]) consumer(i int) int {
	if p.uses[i] != 1 || p.persistent[i] {
		return -1
	}
	return p.reader[i]
}

// planAffine finds, for each hoisted group, the sums and biases its
// products feed, and fuses them (see above).
func (p *prog[T]) planAffine() {
	for _, g := range p.groups {
		if !g.hoisted {
			continue
		}
		bias, biasSteps := -2, make([]int, len(g.members))
		for i, s := range g.members {
			root := p.steps[s].node
			out, c := root, p.consumer(root)
			if c >= 0 && p.steps[c].op.kind == opAdd {
				if q := p.accumulable(c, out); q >= 0 {
					p.steps[q].skip = true
					p.steps[c].alias, p.steps[c].accum = root, q
					out = p.steps[c].node
					c = p.consumer(out)
				}
			}
			b := -1
			if c >= 0 && p.isKind(c, nodes.AddBiasOp) && p.steps[c].args[0] == out && p.stepOf[p.steps[c].args[1]] < 0 {
				b = p.steps[c].args[1]
			}
			if bias != -2 && b != bias {
				b = -1
			}
			bias, biasSteps[i] = b, c
		}
		if bias < 0 {
			continue
		}
		g.bias = bias
		for i, c := range biasSteps {
			p.steps[c].alias = p.steps[g.members[i]].node
		}
	}
}

// accumulable returns the product step Q of Add step c = P + Q (P the
// node out), when Q can run with β = 1 into P's rows: a product with a
// learnable B (or any B), read by c alone, and not hoisted; -1 otherwise.
func (p *prog[T]) accumulable(c, out int) int {
	st := p.steps[c]
	if len(st.args) != 2 || st.args[0] == st.args[1] || p.persistent[st.node] {
		return -1
	}
	q := st.args[0]
	if q == out {
		q = st.args[1]
	}
	qs := p.stepOf[q]
	if qs < 0 || !p.isKind(qs, nodes.MatMulOp) || p.consumer(q) != c || p.hoistedView(qs) != nil ||
		p.steps[qs].op.info.TransA || size(p.shapes[q]) != size(p.shapes[out]) {
		return -1
	}
	return qs
}

// identity reports whether op passes its output gradient to argument j
// unchanged.
func (o op) identity(j int) bool {
	switch {
	case o.kind == opAdd, o.kind == opSub && j == 0:
		return true
	case o.kind == opNodes && o.info.Kind == nodes.AddBiasOp && j == 0:
		return true
	}
	return false
}

// planAliases makes the gradient of every operand that an identity
// backward step alone reads the same buffer as that step's output
// gradient: classes of nodes, each represented by the last of its nodes in
// forward order (the first to have its gradient in the backward pass).
func (p *prog[T]) planAliases() {
	p.gradRep = make([]int, len(p.nodes))
	for i := range p.gradRep {
		p.gradRep[i] = i
	}
	for _, b := range p.back {
		st := p.steps[b.s]
		for j, a := range st.args {
			if b.grad[j] && st.op.identity(j) && p.stepOf[a] >= 0 && p.uses[a] == 1 && a != p.loss &&
				size(p.shapes[a]) == size(p.shapes[st.node]) {
				p.gradRep[a] = p.gradRep[st.node]
			}
		}
	}
}
