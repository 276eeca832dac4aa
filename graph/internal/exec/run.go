package exec

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// Program is a compiled graph: Run computes the values of its targets and,
// with a loss, the gradients of the learnables, into buffers the program
// owns and reuses from run to run.
//
// A Program is not safe for concurrent use, and the values and gradients
// it returns are overwritten by its next run.
type Program struct {
	impl interface {
		run() error
		value(i int) gorgonia.Value
		grad(j int) *tensor.Dense
	}
}

// Run runs the program on the current values of the graph's inputs and
// learnables. A panic in a kernel comes back as an error naming its node.
func (p *Program) Run() error { return p.impl.run() }

// Value returns the value of Spec.Targets[i] after the last run.
func (p *Program) Value(i int) gorgonia.Value { return p.impl.value(i) }

// Grad returns the gradient of Spec.WRT[j] after the last run.
func (p *Program) Grad(j int) *tensor.Dense { return p.impl.grad(j) }

// makeViews makes the tensors that Value and Grad return, over the
// buffers of the targets and the learnables' gradients.
func (p *prog[T]) makeViews() {
	p.views = make([]gorgonia.Value, len(p.targets))
	for k, i := range p.targets {
		if p.stepOf[i] < 0 {
			continue // a leaf: its own value
		}
		if len(p.shapes[i]) == 0 {
			p.views[k] = scalarOf(T(0))
			continue
		}
		p.views[k] = tensor.New(tensor.WithShape(p.shapes[i].Clone()...), tensor.WithBacking(p.vals[i]))
	}
	p.gradViews = make([]*tensor.Dense, len(p.wrt))
	for k, i := range p.wrt {
		p.gradViews[k] = tensor.New(tensor.WithShape(p.shapes[i].Clone()...), tensor.WithBacking(p.grads[i]))
	}
	p.scalars = map[int][]T{}
	for _, i := range p.leaves {
		if len(p.shapes[i]) == 0 {
			p.scalars[i] = make([]T, 1)
		}
	}
}

// scalarOf returns a Gorgonia scalar value of v's type.
func scalarOf[T nodes.Float](v T) gorgonia.Value {
	if f, ok := any(v).(float32); ok {
		x := gorgonia.F32(f)
		return &x
	}
	x := gorgonia.F64(float64(v))
	return &x
}

func (p *prog[T]) value(k int) gorgonia.Value {
	i := p.targets[k]
	if p.stepOf[i] < 0 {
		return p.nodes[i].Value()
	}
	switch v := p.views[k].(type) {
	case *gorgonia.F32:
		*v = gorgonia.F32(p.vals[i][0])
	case *gorgonia.F64:
		*v = gorgonia.F64(p.vals[i][0])
	}
	return p.views[k]
}

func (p *prog[T]) grad(k int) *tensor.Dense { return p.gradViews[k] }

func (p *prog[T]) run() (err error) {
	at := -1 // the node computed, for a panic's error
	defer func() {
		if e := recover(); e != nil {
			name := "the program"
			if at >= 0 {
				name = p.nodes[at].Name()
			}
			err = errors.Errorf("exec: running %s: %v", name, e)
		}
	}()
	for _, i := range p.leaves {
		at = i
		if err := p.readLeaf(i); err != nil {
			return err
		}
	}
	for b, t := range p.transposed {
		sb := p.shapes[b]
		transpose(t, p.vals[b], sb[0], sb[1])
	}
	for s := range p.steps {
		at = p.steps[s].node
		p.forwardStep(s)
	}
	if p.loss < 0 {
		return nil
	}
	for _, w := range p.zero {
		clear(p.grads[w])
	}
	p.grads[p.loss][0] = 1
	for _, b := range p.back {
		st := p.steps[b.s]
		at = st.node
		if g := p.groupOf[b.s]; g != nil {
			p.backwardMember(g, b.s, b, st)
			continue
		}
		p.backwardStep(b, st)
	}
	return nil
}

// forwardStep computes step s: nothing for a step fused into another
// (skip, alias), all of a hoisted group's products at its first member,
// a product, or the op's kernel.
func (p *prog[T]) forwardStep(s int) {
	st := p.steps[s]
	if g := p.groupOf[s]; g != nil && g.hoisted {
		if s == g.members[0] {
			p.runHoisted(g)
		}
		return
	}
	switch {
	case st.skip:
	case st.accum >= 0:
		p.product(p.steps[st.accum], p.vals[st.node], 1)
	case st.alias >= 0:
	case st.bt >= 0:
		p.product(st, p.vals[st.node], 0)
	default:
		p.xs = p.xs[:0]
		for _, a := range st.args {
			p.xs = append(p.xs, p.vals[a])
		}
		forward(st.op, p.vals[st.node], p.xs, st.shapes)
	}
}

// product computes the product of step st, op(A)·op(B), into c: c = op(A)·op(B)
// + β·c, reading a transposed copy of B when the plan made one.
func (p *prog[T]) product(st step, c []T, beta T) {
	a, b := st.shapes[0], st.shapes[1]
	if st.bt >= 0 {
		nodes.Gemm(false, false, a[0], b[0], a[1], p.vals[st.args[0]], a[1], p.transposed[st.bt], b[0], beta, c, b[0])
		return
	}
	info := st.op.info
	m, k, n := info.MatMulDims(a, b)
	nodes.Gemm(info.TransA, info.TransB, m, n, k, p.vals[st.args[0]], a[1], p.vals[st.args[1]], b[1], beta, c, n)
}

// backwardStep runs the backward kernel of step st.
func (p *prog[T]) backwardStep(b backStep, st step) {
	p.xs, p.dxs = p.xs[:0], p.dxs[:0]
	for j, a := range st.args {
		p.xs = append(p.xs, p.vals[a])
		var dx []T
		if b.grad[j] {
			dx = p.grads[a]
		}
		p.dxs = append(p.dxs, dx)
	}
	backward(st.op, p.grads[st.node], p.vals[st.node], p.xs, p.dxs, b.acc, b.whole, st.shapes)
}

// transpose sets dst (c×r) to the transpose of src (r×c).
func transpose[T nodes.Float](dst, src []T, r, c int) {
	for i := range r {
		for j, v := range src[i*c : (i+1)*c] {
			dst[j*r+i] = v
		}
	}
}

// readLeaf points vals[i] at the current value of leaf i (an input, a
// learnable or a constant), which feeding or a solver may have replaced.
func (p *prog[T]) readLeaf(i int) error {
	n := p.nodes[i]
	var data []T
	switch v := n.Value().(type) {
	case *tensor.Dense:
		if v.RequiresIterator() || v.DataSize() != size(p.shapes[i]) {
			return errors.Errorf("exec: input %s is a view or has %d values, want %d", n.Name(), v.DataSize(), size(p.shapes[i]))
		}
		switch d := any(&data).(type) {
		case *[]float64:
			if v.Dtype() == tensor.Float64 {
				*d = v.Float64s()
			}
		case *[]float32:
			if v.Dtype() == tensor.Float32 {
				*d = v.Float32s()
			}
		}
	case *gorgonia.F32:
		data = p.scalars[i]
		data[0] = T(*v)
	case *gorgonia.F64:
		data = p.scalars[i]
		data[0] = T(*v)
	}
	if data == nil {
		return errors.Errorf("exec: input %s has no value of the graph's dtype (%T)", n.Name(), n.Value())
	}
	p.vals[i] = data
	return nil
}
