package graph

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph/internal/exec"
	"github.com/seqgraph/seqgraph/internal/vecmath"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// programKey is what a compiled graph is specific to.
type programKey struct {
	batch, steps int
	train        bool // with loss, gradients and dropout
	masked       bool // with per-timestep masks, for padded batches
	observed     bool // reading every named node back (Activations)
}

func (k programKey) String() string {
	use := "inference"
	if k.train {
		use = "training"
	}
	return fmt.Sprintf("%s graph for batch %d × %d steps (masked %t)", use, k.batch, k.steps, k.masked)
}

// program is one compiled graph and the nodes and values that a run feeds
// and reads.
type program struct {
	key  programKey
	g    *gorgonia.ExprGraph
	pool *programPool // the cache's pool it returns to
	// vm runs graphs that read every named node (Activations); direct runs
	// the others (see directRun).
	vm     gorgonia.VM
	direct *directRun
	// optimize asks compile for the graph optimizer; exec is its program
	// when the graph has only ops it computes (see optimize.go).
	optimize      bool
	exec          *exec.Program
	observedNames []string // the names of the exec targets after the loss

	inputs []*tensor.Dense // per timestep, B×F
	masks  []*tensor.Dense // per timestep, B (nil when not masked)
	// hostMasks are the masks computed from each batch before a run: the
	// batch's own, then those that layers changing the timesteps derive
	// (Builder.DeriveMask).
	hostMasks []hostMask
	// feeds are the other inputs that layers asked for (Builder.Input):
	// targets, derived and folded masks.
	feeds   []feed
	loss    *gorgonia.Node
	lossVal gorgonia.Value
	// outputs are class probabilities or responses, B×K: one per sequence,
	// or one per timestep.
	outputs []*gorgonia.Node
	outVals []gorgonia.Value
	// initial and final are the recurrent layers' initial state tensors
	// (input nodes that feed sets) and the values of their final states,
	// in the same order, for carrying state from one chunk to the next.
	initial []*tensor.Dense
	final   []*gorgonia.Value

	recurrent  []*rnn.Unrolled
	observed   map[string]*gorgonia.Value // the named nodes' values, when key.observed
	observedAt map[string]*gorgonia.Node  // the named nodes, by name
	learnables gorgonia.Nodes             // sorted by name
	valueGrads []gorgonia.ValueGrad
}

// learnable is a learnable node that tells a solver its L2 factor: MATLAB
// regularizes weights but not biases (BiasL2Factor 0).
type learnable struct {
	*gorgonia.Node
	// grad accumulates the gradients of the runs since the solver's last
	// step, which zeroes it.
	grad *tensor.Dense
	l2   float64
}

// Grad returns the accumulated gradient.
func (l learnable) Grad() (gorgonia.Value, error) { return l.grad, nil }

// L2Factor returns the multiplier of the solver's L2 regularization.
func (l learnable) L2Factor() float64 { return l.l2 }

// build builds the graph of key in g: the input nodes, each layer's nodes
// (Layer.Build), and what a run reads.
func (n *Network) build(g *gorgonia.ExprGraph, key programKey) (*program, error) {
	p := &program{key: key, g: g, hostMasks: []hostMask{{steps: key.steps}}}
	if key.observed {
		p.observed = make(map[string]*gorgonia.Value)
		p.observedAt = make(map[string]*gorgonia.Node)
	}
	b := &Builder{g: g, n: n, p: p, key: key}
	v := p.inputValue(g, n)
	for i, l := range n.layers {
		b.index, b.name, b.in = i, l.name, l.in
		var err error
		if v, err = l.Build(b, v); err != nil {
			return nil, errors.Wrapf(err, "graph: building layer %q of the %v", l.name, key)
		}
		if _, last := l.Layer.(outputLayer); key.observed && !last {
			if err := p.observe(b, l.name, v); err != nil {
				return nil, errors.Wrapf(err, "graph: reading layer %q of the %v", l.name, key)
			}
		}
	}
	if key.train && p.loss == nil {
		return nil, errors.Errorf("graph: the %v has no loss", key)
	}
	p.readBack()
	return p, nil
}

// inputValue adds the graph's inputs: one B×F node per timestep
// ("input/t7") and, for padded batches, one mask of B values per timestep
// ("mask/t7").
func (p *program) inputValue(g *gorgonia.ExprGraph, n *Network) Value {
	newInput := func(name string, shape ...int) (*gorgonia.Node, *tensor.Dense) {
		v := tensor.New(tensor.WithShape(shape...), tensor.Of(n.dtype))
		return gorgonia.NodeFromAny(g, v, gorgonia.WithName(name)), v
	}
	b, t := p.key.batch, p.key.steps
	v := Value{Steps: make([]*gorgonia.Node, t)}
	p.inputs = make([]*tensor.Dense, t)
	for i := range v.Steps {
		v.Steps[i], p.inputs[i] = newInput(fmt.Sprintf("input/t%d", i), b, n.InputSize())
	}
	if p.key.masked {
		v.Mask.Steps = make([]*gorgonia.Node, t)
		p.masks = make([]*tensor.Dense, t)
		for i := range v.Mask.Steps {
			v.Mask.Steps[i], p.masks[i] = newInput(fmt.Sprintf("mask/t%d", i), b)
		}
	}
	return v
}

// readBack arranges what a run reads: the named nodes (Activations), the
// learnables' gradients in order of name (with MATLAB's L2 factors: 0 for
// biases), the outputs, the loss and the recurrent states.
func (p *program) readBack() {
	if p.key.observed {
		for _, u := range p.recurrent {
			for _, name := range u.NodeNames() {
				p.observed[name], p.observedAt[name] = new(gorgonia.Value), u.Node(name)
			}
		}
	}
	sort.Slice(p.learnables, func(i, j int) bool { return p.learnables[i].Name() < p.learnables[j].Name() })
	for _, l := range p.learnables {
		factor := 1.0
		if strings.HasSuffix(l.Name(), "Bias") {
			factor = 0
		}
		g := l.Value().(*tensor.Dense)
		p.valueGrads = append(p.valueGrads, learnable{Node: l, grad: tensor.New(tensor.WithShape(g.Shape().Clone()...), tensor.Of(g.Dtype())), l2: factor})
	}
	p.outVals = make([]gorgonia.Value, len(p.outputs))
	for i, o := range p.outputs {
		gorgonia.Read(o, &p.outVals[i])
	}
	if p.loss != nil {
		gorgonia.Read(p.loss, &p.lossVal)
	}
	for _, u := range p.recurrent {
		for i, s := range u.Initial {
			p.initial = append(p.initial, s.Value().(*tensor.Dense))
			v := new(gorgonia.Value)
			gorgonia.Read(u.Final[i], v)
			p.final = append(p.final, v)
		}
	}
}

// observe records a layer's output: "fc1" for one step, "fc1/t3" for each
// step of a sequence (folded frames are not recorded).
func (p *program) observe(b *Builder, layer string, v Value) error {
	read := func(name string, n *gorgonia.Node) {
		p.observed[name], p.observedAt[name] = new(gorgonia.Value), n
	}
	if v.One != nil {
		read(layer, v.One)
		return nil
	}
	steps, err := b.StepsOf(v)
	for t, n := range steps {
		read(fmt.Sprintf("%s/t%d", layer, t), n)
	}
	return err
}

// compile differentiates a training graph and orders the nodes of a direct
// run (a tape machine for Activations' graphs), turning Gorgonia's panics
// into errors.
func (p *program) compile() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("graph: compiling the %v: %v", p.key, r)
		}
	}()
	if p.optimize && p.compileOptimized() {
		return nil
	}
	if p.key.observed {
		// The tape machine hands the values out through read nodes,
		// which only it needs: the graph optimizer reads its buffers.
		for name, n := range p.observedAt {
			gorgonia.Read(n, p.observed[name])
		}
		p.vm, err = nodes.NewTapeMachine(p.g)
		return errors.Wrapf(err, "graph: compiling the %v", p.key)
	}
	// The values a run reads, in the order run takes them back: outputs,
	// final states, then for training the loss and the gradients.
	targets := append([]*gorgonia.Node(nil), p.outputs...)
	for _, u := range p.recurrent {
		targets = append(targets, u.Final...)
	}
	if p.key.train {
		grads, err := gorgonia.Grad(p.loss, p.learnables...)
		if err != nil {
			return errors.Wrapf(err, "graph: differentiating the %v", p.key)
		}
		targets = append(append(targets, p.loss), grads...)
	}
	p.direct, err = newDirectRun(p.g, targets)
	return errors.Wrapf(err, "graph: compiling the %v", p.key)
}

// run runs the program once on the values feed set.
func (p *program) run() error {
	if p.exec != nil {
		return p.runOptimized()
	}
	if p.direct == nil {
		return p.vm.RunAll()
	}
	if err := p.direct.run(); err != nil {
		return err
	}
	vals := p.direct.vals
	at := p.direct.targets
	for i := range p.outVals {
		p.outVals[i], at = vals[at[0]], at[1:]
	}
	for i := range p.final {
		*p.final[i], at = vals[at[0]], at[1:]
	}
	if !p.key.train {
		return nil
	}
	p.lossVal, at = vals[at[0]], at[1:]
	for i, vg := range p.valueGrads {
		if err := accumulate(vg.(learnable), vals[at[i]]); err != nil {
			return err
		}
	}
	return nil
}

// accumulate adds the gradient g of a run to l's.
func accumulate(l learnable, g gorgonia.Value) error {
	d, ok := g.(*tensor.Dense)
	if !ok || d.Dtype() != l.grad.Dtype() || d.Shape().TotalSize() != l.grad.Shape().TotalSize() {
		return errors.Errorf("the gradient of %s is %v, want a %v tensor of shape %v", l.Name(), g, l.grad.Dtype(), l.grad.Shape())
	}
	switch d.Dtype() {
	case tensor.Float64:
		dst := l.grad.Float64s()
		for i, v := range d.Float64s() {
			dst[i] += v
		}
	case tensor.Float32:
		dst := l.grad.Float32s()
		vecmath.Elementwise32(vecmath.AddTo, dst, d.Float32s(), nil)
	}
	return nil
}

// reset readies the program for the next run.
func (p *program) reset() {
	if p.exec != nil {
		return
	}
	if p.direct != nil {
		p.direct.reset()
		return
	}
	p.vm.Reset()
}

// close releases the program's machine.
func (p *program) close() {
	if p.vm != nil {
		p.vm.Close()
	}
}

// feed copies a prepared batch into the program's input tensors: X one
// timestep at a time, the mask and the masks derived from it, the initial
// states (zero, or carried from the previous chunk), and what the layers
// asked for (targets, in training graphs).
func (p *program) feed(bt *dataset.Batch, carried [][]float64) error {
	f := bt.F
	for t, in := range p.inputs {
		// Sequence i's values at step t are X[(i·T+t)·F:][:F], and its
		// mask is Mask[i·T+t].
		fillRows(in, bt.X, t*f, bt.T*f, f)
		if p.masks != nil {
			fillRows(p.masks[t], bt.Mask, t, bt.T, 1)
		}
	}
	p.hostMasks[0].val = bt.Mask
	for k := 1; k < len(p.hostMasks); k++ {
		h, from := &p.hostMasks[k], p.hostMasks[p.hostMasks[k].from]
		var err error
		if h.val, err = h.derive(from.val, from.steps); err != nil {
			return errors.Wrapf(err, "graph: layer %q", h.layer)
		}
	}
	for i, s := range p.initial {
		if carried == nil {
			s.Zero()
		} else {
			fill(s, func(j int) float64 { return carried[i][j] })
		}
	}
	for _, in := range p.feeds {
		fill(in.t, func(i int) float64 { return in.fill(bt, i) })
	}
	return nil
}

// finalStates returns a copy of the final state values of the last run,
// for the next chunk or call, in dst's slices when they have the room.
func (p *program) finalStates(dst [][]float64) [][]float64 {
	if len(dst) != len(p.final) {
		dst = make([][]float64, len(p.final))
	}
	for i, v := range p.final {
		dst[i] = appendFloat64s(dst[i][:0], (*v).(*tensor.Dense))
	}
	return dst
}

// appendFloat64s appends d's values to dst as float64, without the
// reflection (and allocation) of Dense.Data.
func appendFloat64s(dst []float64, d *tensor.Dense) []float64 {
	switch d.Dtype() {
	case tensor.Float64:
		dst = append(dst, d.Float64s()...)
	case tensor.Float32:
		for _, e := range d.Float32s() {
			dst = append(dst, float64(e))
		}
	}
	return dst
}

// fill sets every element i of d to f(i).
func fill(d *tensor.Dense, f func(i int) float64) {
	switch d.Dtype() {
	case tensor.Float64:
		v := d.Float64s()
		for i := range v {
			v[i] = f(i)
		}
	case tensor.Float32:
		v := d.Float32s()
		for i := range v {
			v[i] = float32(f(i))
		}
	}
}

// fillRows sets row r of d, whose rows are width values long, to the width
// values of src from start + r·stride: the copy of a time step out of a
// batch, one row (not one call) at a time.
func fillRows(d *tensor.Dense, src []float64, start, stride, width int) {
	switch d.Dtype() {
	case tensor.Float64:
		copyRows(d.Float64s(), src, start, stride, width)
	case tensor.Float32:
		copyRows(d.Float32s(), src, start, stride, width)
	}
}

// copyRows is fillRows on dst's values.
func copyRows[T float32 | float64](dst []T, src []float64, start, stride, width int) {
	for r := 0; r*width < len(dst); r++ {
		row := dst[r*width : (r+1)*width]
		for j, x := range src[start+r*stride:][:width] {
			row[j] = T(x)
		}
	}
}

// rows returns a B×K value as B slices of K float64 values.
func rows(v gorgonia.Value) [][]float64 {
	d := v.(*tensor.Dense)
	b, k := d.Shape()[0], d.Shape()[1]
	out := make([][]float64, b)
	flat := appendFloat64s(make([]float64, 0, b*k), d)
	for i := range out {
		out[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return out
}

func scalar(v gorgonia.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return math.NaN()
}

// ErrDiverged is the error, wrapped with what was found, of a training step
// whose loss or gradients are not finite (NaN or ±Inf): no learnable has
// changed, and Train stops with History.Stop "diverged".
var ErrDiverged = errors.New("training diverged (lower the learning rate or clip the gradients)")

// checkFinite returns an error wrapping ErrDiverged unless the loss of the
// last run and every gradient it accumulated are finite.
func (p *program) checkFinite(loss float64) error {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return errors.Wrapf(ErrDiverged, "graph: train step: the loss is %v", loss)
	}
	for _, vg := range p.valueGrads {
		l := vg.(learnable)
		if i, v, ok := firstNonFinite(l.grad); ok {
			return errors.Wrapf(ErrDiverged, "graph: train step: the gradient of %s is %v at element %d", l.Name(), v, i)
		}
	}
	return nil
}

// firstNonFinite returns the index and value of the first NaN or infinite
// element of d.
func firstNonFinite(d *tensor.Dense) (int, float64, bool) {
	switch d.Dtype() {
	case tensor.Float64:
		for i, v := range d.Float64s() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i, v, true
			}
		}
	case tensor.Float32:
		v := d.Float32s()
		if i := vecmath.FirstNonFinite32(v); i >= 0 {
			return i, float64(v[i]), true
		}
	}
	return 0, 0, false
}

// zeroGrads clears the gradients a failed step left behind: Gorgonia adds
// every run's gradients to the previous ones until a solver zeroes them.
func (p *program) zeroGrads() {
	for _, vg := range p.valueGrads {
		vg.(learnable).grad.Zero()
	}
}
