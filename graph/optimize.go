package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/graph/internal/exec"
)

// WithGraphOptimizer sets whether graphs run on the graph optimizer
// (graph/internal/exec; on by default): an executor that runs the unrolled
// graph's ops into buffers planned once per graph, and derives the
// gradients itself, with one backward kernel per op, instead of
// differentiating the graph with gorgonia.Grad and calling each op's Do.
// It computes the same values (to rounding: the gradients' sums are
// ordered differently) and compiles in time linear in the graph. Graphs
// with an op it does not compute (the fused LSTM and GRU layers, the
// layers over time, word embeddings, layer normalization, the video
// layers) run on the plain path whatever the option says; see
// docs/performance.md. Turning it off is for comparisons.
func WithGraphOptimizer(on bool) Option { return func(c *netConfig) { c.plain = !on } }

// compileOptimized compiles the program on the graph optimizer, reading
// the same values as the plain path: outputs, final states, the loss and
// the learnables' gradients, or every named node for Activations. It
// reports false, leaving the program as it was, when the optimizer does
// not compute every op of the graph.
func (p *program) compileOptimized() (ok bool) {
	defer func() {
		// A graph the optimizer fails to plan runs on the plain path,
		// which reports its own errors.
		if recover() != nil {
			p.exec, p.observedNames, ok = nil, nil, false
		}
	}()
	spec := exec.Spec{Targets: append([]*gorgonia.Node(nil), p.outputs...)}
	for _, u := range p.recurrent {
		spec.Targets = append(spec.Targets, u.Final...)
	}
	if p.key.train {
		spec.Loss, spec.WRT = p.loss, p.learnables
		spec.Targets = append(spec.Targets, p.loss)
	}
	var names []string
	for name, n := range p.observedAt {
		names, spec.Targets = append(names, name), append(spec.Targets, n)
	}
	prog, err := exec.Compile(p.g, spec)
	if err != nil {
		return false
	}
	p.exec, p.observedNames = prog, names
	return true
}

// runOptimized runs the optimizer's program and hands its values out as
// run does the plain path's.
func (p *program) runOptimized() error {
	if err := p.exec.Run(); err != nil {
		return err
	}
	k := 0
	next := func() gorgonia.Value { k++; return p.exec.Value(k - 1) }
	for i := range p.outVals {
		p.outVals[i] = next()
	}
	for i := range p.final {
		*p.final[i] = next()
	}
	if p.key.train {
		p.lossVal = next()
		for j, vg := range p.valueGrads {
			if err := accumulate(vg.(learnable), p.exec.Grad(j)); err != nil {
				return err
			}
		}
	}
	for _, name := range p.observedNames {
		*p.observed[name] = next()
	}
	return nil
}
