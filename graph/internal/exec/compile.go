package exec

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// Spec says what a Program computes.
type Spec struct {
	// Targets are the nodes whose values the caller reads after a run.
	Targets []*gorgonia.Node
	// Loss is a scalar node to differentiate, or nil for a forward-only
	// program; WRT are the leaves (learnables) whose gradients of Loss
	// the program computes.
	Loss *gorgonia.Node
	WRT  []*gorgonia.Node
}

// graphOrder is the nodes that the targets and the loss depend on,
// children first, with each op node's arguments by index.
type graphOrder struct {
	nodes []*gorgonia.Node
	args  [][]int // nil for a leaf (an input, a learnable, a constant)
	index map[*gorgonia.Node]int
}

// order sorts the nodes that roots depend on, children first, in time
// linear in their number. It walks iteratively: a graph of a long sequence
// is deeper than a goroutine stack should recurse.
func order(g *gorgonia.ExprGraph, roots []*gorgonia.Node) (*graphOrder, error) {
	o := &graphOrder{index: map[*gorgonia.Node]int{}}
	children := func(n *gorgonia.Node) []*gorgonia.Node {
		it := g.From(n.ID())
		c := make([]*gorgonia.Node, 0, it.Len())
		for it.Next() {
			c = append(c, it.Node().(*gorgonia.Node))
		}
		return c
	}
	type frame struct {
		n    *gorgonia.Node
		kids []*gorgonia.Node
		next int
	}
	onPath := map[*gorgonia.Node]bool{}
	for _, root := range roots {
		if _, done := o.index[root]; done {
			continue
		}
		stack := []frame{{n: root, kids: children(root)}}
		onPath[root] = true
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next < len(top.kids) {
				c := top.kids[top.next]
				top.next++
				if _, done := o.index[c]; done {
					continue
				}
				if onPath[c] {
					return nil, errors.Errorf("exec: node %v depends on itself", c.Name())
				}
				onPath[c] = true
				stack = append(stack, frame{n: c, kids: children(c)})
				continue
			}
			n := top.n
			var args []int
			if isOp(n) {
				args = make([]int, len(top.kids))
				for i, c := range top.kids {
					args[i] = o.index[c]
				}
			}
			o.index[n] = len(o.nodes)
			o.nodes = append(o.nodes, n)
			o.args = append(o.args, args)
			delete(onPath, n)
			stack = stack[:len(stack)-1]
		}
	}
	return o, nil
}

// isOp reports whether n is computed by an op (not an input, a learnable
// or a constant).
func isOp(n *gorgonia.Node) bool {
	if n.Op() == nil {
		return false
	}
	_, isConst := n.Op().(interface{ Value() gorgonia.Value })
	return !isConst
}

// Compile plans the execution of the graph g for spec: the order of its
// ops, the kernel of each, the backward pass when spec has a loss, and the
// buffers of every value and gradient. It returns an error wrapping
// ErrUnsupported when g has an op the executor does not compute.
func Compile(g *gorgonia.ExprGraph, spec Spec) (*Program, error) {
	roots := append([]*gorgonia.Node(nil), spec.Targets...)
	if spec.Loss != nil {
		roots = append(roots, spec.Loss)
	}
	o, err := order(g, roots)
	if err != nil {
		return nil, err
	}
	dt := o.nodes[0].Dtype()
	for _, n := range o.nodes {
		if n.Dtype() != dt || (dt != tensor.Float64 && dt != tensor.Float32) {
			return nil, errors.Wrapf(ErrUnsupported, "node %s has dtype %v (want one of float64, float32 throughout)", n.Name(), n.Dtype())
		}
	}
	for _, w := range spec.WRT {
		if _, ok := o.index[w]; !ok && spec.Loss != nil {
			// A learnable the loss does not depend on: its gradient is 0.
			o.index[w] = len(o.nodes)
			o.nodes = append(o.nodes, w)
			o.args = append(o.args, nil)
		}
	}
	if dt == tensor.Float32 {
		return compile[float32](o, spec)
	}
	return compile[float64](o, spec)
}

func compile[T nodes.Float](o *graphOrder, spec Spec) (*Program, error) {
	p := &prog[T]{
		nodes: o.nodes, vals: make([][]T, len(o.nodes)), grads: make([][]T, len(o.nodes)),
		stepOf: make([]int, len(o.nodes)), loss: -1,
	}
	p.shapes = make([]tensor.Shape, len(o.nodes))
	for i, n := range o.nodes {
		p.shapes[i] = n.Shape()
		p.stepOf[i] = -1
		if o.args[i] == nil {
			p.leaves = append(p.leaves, i)
		}
	}
	p.steps = make([]step, 0, len(o.nodes)-len(p.leaves))
	for i, n := range o.nodes {
		args := o.args[i]
		if args == nil {
			continue
		}
		shapes := make([]tensor.Shape, len(args))
		for j, a := range args {
			shapes[j] = p.shapes[a]
		}
		k, err := classify(n, shapes)
		if err != nil {
			return nil, err
		}
		p.stepOf[i] = len(p.steps)
		p.steps = append(p.steps, step{node: i, op: k, args: args, shapes: shapes, bt: -1, alias: -1, accum: -1})
	}
	p.uses, p.reader, p.persistent = make([]int, len(o.nodes)), make([]int, len(o.nodes)), make([]bool, len(o.nodes))
	for s, st := range p.steps {
		for _, a := range st.args {
			p.uses[a]++
			p.reader[a] = s
		}
	}
	for _, t := range spec.Targets {
		p.targets = append(p.targets, o.index[t])
		p.persistent[o.index[t]] = true
	}
	if spec.Loss != nil {
		p.loss = o.index[spec.Loss]
		if size(p.shapes[p.loss]) != 1 {
			return nil, errors.Errorf("exec: the loss %s has shape %v, want a scalar", spec.Loss.Name(), p.shapes[p.loss])
		}
		for _, w := range spec.WRT {
			p.wrt = append(p.wrt, o.index[w])
		}
		p.planBackward()
	}
	p.findGroups()
	p.planTransposes()
	p.planAffine()
	p.planAliases()
	p.planBuffers()
	return &Program{impl: p}, nil
}
