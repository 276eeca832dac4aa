package graph

import (
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// directRun executes a graph by calling each op's Do in dependency order on
// the calling goroutine, instead of through a Gorgonia tape machine.
//
// Why: tapeMachine.RunAll locks the calling goroutine to its thread and
// runs the tape on a new goroutine, so every run costs two thread wake-ups
// and two sleeps. On the 2-core machines we measure on that is 17-60 µs per
// run, more than all the arithmetic of a one-step prediction with batch 1
// (BenchmarkStatefulStep: 41% of its time was in futex calls). Our graphs
// need nothing else the machine offers: Do is each op's complete
// computation, the gradients are ordinary nodes once gorgonia.Grad has
// added them, and the values the program reads (outputs, loss, final
// states, gradients) are taken from the run's results. Compiling a graph
// is then only ordering its nodes, which also spares the tape machine's
// compiler, whose cost grows faster than the graph.
type directRun struct {
	steps []directStep
	vals  []gorgonia.Value
	args  []gorgonia.Value // scratch for one op's arguments
	// targets are the steps of the nodes newDirectRun was given, in its
	// order: the values the program reads.
	targets []int
	// kept holds, for the steps whose op can write its result into a
	// given tensor (gorgonia.UsePreallocDoer), the value of the last run
	// when that value shared its memory with no other value of the run
	// and was not a target: the next run writes into it instead of
	// allocating. On the gate-node path the elementwise ops and the
	// gradient sums are most of a step's allocations.
	kept []*tensor.Dense
	// spans and shared are scratch for finding the values that share
	// memory.
	spans  []span
	shared []bool
}

// span is the memory of a run's value: bytes [lo, hi) of step i's.
type span struct {
	lo, hi uintptr
	i      int
}

// directStep is one node of the run: an input whose value is bound to the
// node (fed with Let or set by feed), or an op applied to the values of
// earlier steps.
type directStep struct {
	node *gorgonia.Node
	op   gorgonia.Op // nil for an input or a constant
	args []int
}

// newDirectRun orders the nodes that targets depend on, children first.
func newDirectRun(g *gorgonia.ExprGraph, targets []*gorgonia.Node) (*directRun, error) {
	r := &directRun{}
	kids := map[*gorgonia.Node][]*gorgonia.Node{}
	// childrenOf returns n's arguments in order (Gorgonia's From keeps
	// the order of the node's children, repeats included).
	childrenOf := func(n *gorgonia.Node) []*gorgonia.Node {
		if c, ok := kids[n]; ok {
			return c
		}
		it := g.From(n.ID())
		c := make([]*gorgonia.Node, 0, it.Len())
		for it.Next() {
			c = append(c, it.Node().(*gorgonia.Node))
		}
		kids[n] = c
		return c
	}
	index := map[*gorgonia.Node]int{}
	// visit adds n after its children, iteratively: a graph of a long
	// sequence is deeper than a goroutine stack should recurse.
	visit := func(root *gorgonia.Node) (int, error) {
		type frame struct {
			n    *gorgonia.Node
			next int
		}
		if i, ok := index[root]; ok {
			return i, nil
		}
		onPath := map[*gorgonia.Node]bool{root: true}
		stack := []frame{{n: root}}
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			children := childrenOf(top.n)
			if top.next < len(children) {
				c := children[top.next]
				top.next++
				if _, done := index[c]; done {
					continue
				}
				if onPath[c] {
					return 0, errors.Errorf("graph: node %v depends on itself", c.Name())
				}
				onPath[c] = true
				stack = append(stack, frame{n: c})
				continue
			}
			n := top.n
			st := directStep{node: n}
			if _, isConst := n.Op().(interface{ Value() gorgonia.Value }); n.Op() != nil && !isConst {
				st.op = n.Op()
				for _, c := range children {
					st.args = append(st.args, index[c])
				}
			}
			index[n] = len(r.steps)
			r.steps = append(r.steps, st)
			delete(onPath, n)
			stack = stack[:len(stack)-1]
		}
		return index[root], nil
	}
	for _, n := range targets {
		i, err := visit(n)
		if err != nil {
			return nil, err
		}
		r.targets = append(r.targets, i)
	}
	r.vals = make([]gorgonia.Value, len(r.steps))
	r.kept = make([]*tensor.Dense, len(r.steps))
	return r, nil
}

// run computes every step. A panic in an op comes back as an error naming
// its node.
func (r *directRun) run() (err error) {
	var at *gorgonia.Node
	defer func() {
		if e := recover(); e != nil {
			err = errors.Errorf("running %v: %v", at.Name(), e)
		}
	}()
	for i, st := range r.steps {
		at = st.node
		if st.op == nil {
			v := st.node.Value()
			if v == nil {
				return errors.Errorf("input %v has no value", st.node.Name())
			}
			r.vals[i] = v
			continue
		}
		r.args = r.args[:0]
		for _, a := range st.args {
			r.args = append(r.args, r.vals[a])
		}
		var v gorgonia.Value
		var err error
		if k := r.kept[i]; k != nil {
			v, err = st.op.(gorgonia.UsePreallocDoer).UsePreallocDo(k, r.args...)
		} else {
			v, err = st.op.Do(r.args...)
		}
		if err != nil {
			return errors.Wrapf(err, "running %v", st.node.Name())
		}
		r.vals[i] = v
	}
	r.keep()
	return nil
}

// keep sets kept from the values of the run that just ended: the tensor of
// a step whose op takes a preallocated result, unless that tensor shares
// memory with any other value (an input, a view of it, a value an op
// passed through) or is a value the program reads, which must stay as
// the run left it.
func (r *directRun) keep() {
	clear(r.kept)
	r.spans = r.spans[:0]
	for i, v := range r.vals {
		d, ok := v.(*tensor.Dense)
		if !ok || d.MemSize() == 0 {
			continue
		}
		lo := d.Uintptr()
		r.spans = append(r.spans, span{lo, lo + d.MemSize(), i})
	}
	sort.Slice(r.spans, func(a, b int) bool { return r.spans[a].lo < r.spans[b].lo })
	if len(r.shared) != len(r.vals) {
		r.shared = make([]bool, len(r.vals))
	}
	shared := r.shared
	clear(shared)
	end, last := uintptr(0), -1
	for _, sp := range r.spans {
		if last >= 0 && sp.lo < end {
			shared[sp.i], shared[last] = true, true
		}
		if sp.hi > end {
			end, last = sp.hi, sp.i
		}
	}
	for _, t := range r.targets {
		shared[t] = true
	}
	for _, sp := range r.spans {
		if _, ok := r.steps[sp.i].op.(gorgonia.UsePreallocDoer); ok && !shared[sp.i] {
			r.kept[sp.i] = r.vals[sp.i].(*tensor.Dense)
		}
	}
}

// reset drops the values of the last run, as a tape machine's Reset does,
// so that the garbage collector may take them.
func (r *directRun) reset() { clear(r.vals) }
