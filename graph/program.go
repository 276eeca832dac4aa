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
	key programKey
	g   *gorgonia.ExprGraph
	// vm runs training graphs and graphs that read every named node;
	// direct runs the other inference graphs (see directRun).
	vm     gorgonia.VM
	direct *directRun
	// optimize asks compile for the graph optimizer; exec is its program
	// when the graph has only ops it computes (see optimize.go).
	optimize      bool
	exec          *exec.Program
	observedNames []string // the names of the exec targets after the loss

	inputs []*tensor.Dense // per timestep, B×F
	masks  []*tensor.Dense // per timestep, B (nil when not masked)
	// foldedMask is the mask of the folded frames, [T·B] (batch
	// normalization of a masked graph only).
	foldedMask *tensor.Dense
	// targets are B×K one-hot labels or B×R responses, one for a network
	// with one output per sequence, one per timestep for
	// sequence-to-sequence (training only).
	targets []*tensor.Dense
	// weight is B values, 1 for the sequences whose target applies in this
	// batch (regression with one target per sequence; see feed).
	weight  *tensor.Dense
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

func (n *Network) build(g *gorgonia.ExprGraph, key programKey) (*program, error) {
	p := &program{key: key, g: g}
	if key.observed {
		p.observed = make(map[string]*gorgonia.Value)
		p.observedAt = make(map[string]*gorgonia.Node)
	}
	b, t := key.batch, key.steps
	newInput := func(name string, shape ...int) (*gorgonia.Node, *tensor.Dense) {
		v := tensor.New(tensor.WithShape(shape...), tensor.Of(n.dtype))
		return gorgonia.NodeFromAny(g, v, gorgonia.WithName(name)), v
	}
	seq := make([]*gorgonia.Node, t)
	p.inputs = make([]*tensor.Dense, t)
	for i := range seq {
		seq[i], p.inputs[i] = newInput(fmt.Sprintf("input/t%d", i), b, n.InputSize())
	}
	var masks []*gorgonia.Node
	if key.masked {
		masks = make([]*gorgonia.Node, t)
		p.masks = make([]*tensor.Dense, t)
		for i := range masks {
			masks[i], p.masks[i] = newInput(fmt.Sprintf("mask/t%d", i), b)
		}
	}
	// single is the output after OutputMode last; seq the per-timestep
	// outputs before it. logp holds log-probabilities, one or per timestep.
	var single, folded *gorgonia.Node
	var logp []*gorgonia.Node
	apply := func(f func(x *gorgonia.Node, t int) (*gorgonia.Node, error)) error {
		var err error
		if folded != nil {
			folded, err = f(folded, -1)
			return err
		}
		if single != nil {
			single, err = f(single, -1)
			return err
		}
		for i := range seq {
			if seq[i], err = f(seq[i], i); err != nil {
				return err
			}
		}
		return nil
	}
	for li, l := range n.layers[1:] {
		var err error
		switch l.kind {
		case lstmLayer, gruLayer, bilstmLayer, recurrentLayer, bidirectionalLayer:
			err = n.buildRecurrent(g, p, l, &seq, &single, masks)
		case dropoutLayer:
			if !key.train || l.p == 0 {
				continue
			}
			seed := n.seed*0x9e3779b97f4a7c15 + uint64(li)<<40 + uint64(b)<<20 + uint64(t)
			err = apply(func(x *gorgonia.Node, t int) (*gorgonia.Node, error) {
				name := l.name
				if t >= 0 {
					name = fmt.Sprintf("%s/t%d", l.name, t)
				}
				return nodes.Dropout(x, name, l.p, seed+uint64(t+1)*0x632be59bd9b4e019, nil)
			})
		case foldingLayer:
			folded, err = nodes.FoldSequence(seq, l.frame.C, l.frame.H, l.frame.W)
			seq = nil
		case convolutionLayer:
			err = n.buildConv(g, p, l, &folded)
		case batchNormLayer:
			err = n.buildBatchNorm(g, p, l, &folded, key, newInput)
		case reluLayer:
			err = apply(func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
				if x.Dims() == 2 {
					return nodes.ReLU.Apply(x)
				}
				return gorgonia.Rectify(x)
			})
		case unfoldingLayer:
			seq, err = nodes.UnfoldSequence(folded, t)
			folded = nil
		case fullyConnectedLayer:
			var fc *nodes.FullyConnected
			if fc, err = nodes.NewFullyConnected(g, n.params, l.name, l.in, l.out); err != nil {
				break
			}
			p.learnables = append(p.learnables, fc.Learnables()...)
			err = apply(func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) { return fc.Apply(x) })
		case softmaxLayer:
			err = apply(func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
				lp, err := nodes.LogSoftmax(x)
				if err != nil {
					return nil, err
				}
				logp = append(logp, lp)
				return gorgonia.Exp(lp)
			})
		case classificationLayer, regressionLayer:
			if single != nil {
				p.outputs = []*gorgonia.Node{single}
			} else {
				p.outputs = seq
			}
			if key.train {
				err = p.buildLoss(l, newInput, logp, masks)
			}
		}
		if err != nil {
			return nil, errors.Wrapf(err, "graph: building layer %q of the %v", l.name, key)
		}
		if key.observed && l.kind != classificationLayer && l.kind != regressionLayer {
			p.observe(l.name, seq, single)
		}
	}
	if key.observed {
		for _, u := range p.recurrent {
			for _, name := range u.NodeNames() {
				p.observed[name], p.observedAt[name] = new(gorgonia.Value), u.Node(name)
			}
		}
	}
	sort.Slice(p.learnables, func(i, j int) bool { return p.learnables[i].Name() < p.learnables[j].Name() })
	for _, l := range p.learnables {
		factor := 1.0
		if strings.HasSuffix(l.Name(), "/Bias") {
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
	return p, nil
}

// buildLoss adds the loss of the output layer l over p.outputs, with target
// input nodes, summed over the timesteps of a sequence-to-sequence network.
// Both losses are averaged over the B sequences, so that the losses of the
// chunks of a split batch add up to the loss of the whole batch.
func (p *program) buildLoss(l layer, newInput func(string, ...int) (*gorgonia.Node, *tensor.Dense), logp, masks []*gorgonia.Node) error {
	b := p.key.batch
	perStep := len(p.outputs) > 1 || l.seqIn
	var weight *gorgonia.Node
	if l.kind == regressionLayer && !perStep {
		weight, p.weight = newInput("target/weight", b)
	}
	for t, out := range p.outputs {
		name := "target"
		if perStep {
			name = fmt.Sprintf("target/t%d", t)
		}
		target, tv := newInput(name, b, l.out)
		p.targets = append(p.targets, tv)
		var term *gorgonia.Node
		var err error
		if l.kind == classificationLayer {
			// Padded steps and sequences whose target is elsewhere have
			// all-zero target rows: they add nothing.
			term, err = nodes.CrossEntropy(logp[t], target)
		} else {
			// Where a target does not apply, the prediction is replaced
			// by the target itself, adding zero loss and zero gradient.
			w := weight
			if perStep && masks != nil {
				w = masks[t]
			}
			if w != nil {
				if out, err = nodes.Masked(out, target, w); err != nil {
					return err
				}
			}
			term, err = nodes.HalfMeanSquaredError(out, target)
		}
		if err != nil {
			return err
		}
		if p.loss == nil {
			p.loss = term
		} else if p.loss, err = gorgonia.Add(p.loss, term); err != nil {
			return err
		}
	}
	return nil
}

// buildConv adds a convolution layer over the folded frames.
func (n *Network) buildConv(g *gorgonia.ExprGraph, p *program, l layer, folded **gorgonia.Node) error {
	in := (*folded).Shape()[1]
	kh, kw, k := l.kernel[0], l.kernel[1], l.frame.C
	w, err := n.params.Node(g, l.name+"/Weights", tensor.Shape{k, in, kh, kw}, nodes.GlorotUniform(in*kh*kw, k*kh*kw))
	if err != nil {
		return err
	}
	b, err := n.params.Node(g, l.name+"/Bias", tensor.Shape{k}, nodes.Zeros())
	if err != nil {
		return err
	}
	p.learnables = append(p.learnables, w, b)
	*folded, err = nodes.Conv2D(*folded, w, b, l.pad, l.stride)
	return err
}

// buildBatchNorm adds a batch normalization layer over the folded frames.
// Training graphs normalize with the statistics of the batch's real frames
// (the folded mask leaves padding frames out) and update the running
// statistics that the network keeps; inference graphs use those.
func (n *Network) buildBatchNorm(g *gorgonia.ExprGraph, p *program, l layer, folded **gorgonia.Node, key programKey,
	newInput func(string, ...int) (*gorgonia.Node, *tensor.Dense)) error {
	scale, offset, err := nodes.NewBatchNormParams(g, n.params, l.name, l.frame.C)
	if err != nil {
		return err
	}
	p.learnables = append(p.learnables, scale, offset)
	var phase *nodes.Phase
	if !key.train {
		phase = new(nodes.Phase)
		phase.SetInference(true)
	}
	var weights *gorgonia.Node
	if key.masked {
		if p.foldedMask == nil {
			weights, p.foldedMask = newInput("mask/folded", key.steps*key.batch)
		} else {
			weights = g.ByName("mask/folded")[0]
		}
	}
	*folded, err = nodes.BatchNorm(*folded, scale, offset, n.batchNorm[l.name], phase, weights)
	return err
}

// observe records a layer's output: "fc1" for one step, "fc1/t3" for each
// step of a sequence.
func (p *program) observe(layer string, seq []*gorgonia.Node, single *gorgonia.Node) {
	read := func(name string, n *gorgonia.Node) {
		p.observed[name], p.observedAt[name] = new(gorgonia.Value), n
	}
	if single != nil {
		read(layer, single)
		return
	}
	for t, n := range seq {
		read(fmt.Sprintf("%s/t%d", layer, t), n)
	}
}

// newCell builds the cell called name of a recurrent layer.
func (n *Network) newCell(g *gorgonia.ExprGraph, l layer, name string) (rnn.Cell, error) {
	var cell rnn.Cell
	var err error
	switch l.kind {
	case lstmLayer, bilstmLayer:
		cell, err = rnn.NewLSTM(g, n.params, name, l.in, l.hidden, l.cell...)
	case gruLayer:
		cell, err = rnn.NewGRU(g, n.params, name, l.in, l.hidden, l.cell...)
	default:
		cell, err = l.newCell(g, n.params, name, l.in, l.hidden)
	}
	if err != nil {
		return nil, err
	}
	if cell == nil || cell.InputSize() != l.in || cell.OutputSize() != l.hidden {
		return nil, errors.Errorf("the cell %q takes %v features and outputs %v; the layer needs %d and %d",
			name, sizeOf(cell, rnn.Cell.InputSize), sizeOf(cell, rnn.Cell.OutputSize), l.in, l.hidden)
	}
	return cell, nil
}

func sizeOf(c rnn.Cell, f func(rnn.Cell) int) any {
	if c == nil {
		return "no"
	}
	return f(c)
}

// buildRecurrent unrolls a recurrent layer over *seq, leaving its outputs in
// *seq, or in *single with OutputMode last.
func (n *Network) buildRecurrent(g *gorgonia.ExprGraph, p *program, l layer, seq *[]*gorgonia.Node, single **gorgonia.Node, masks []*gorgonia.Node) error {
	opts := []rnn.UnrollOption{rnn.WithOutputMode(l.mode)}
	if masks != nil {
		opts = append(opts, rnn.WithMask(masks))
	}
	var outputs []*gorgonia.Node
	// LSTM and GRU layers run on the fused path (one op per layer,
	// hand-written backward pass), except in graphs that read gates by
	// name.
	fused := !p.key.observed
	if l.kind.bidirectional() {
		fwd, err := n.newCell(g, l, l.name+"/forward")
		if err != nil {
			return err
		}
		bwd, err := n.newCell(g, l, l.name+"/backward")
		if err != nil {
			return err
		}
		var u *rnn.BiUnrolled
		fl, flok := fwd.(*rnn.LSTM)
		bl, blok := bwd.(*rnn.LSTM)
		fg, fgok := fwd.(*rnn.GRU)
		bg, bgok := bwd.(*rnn.GRU)
		switch {
		case fused && flok && blok:
			u, err = rnn.UnrollBidirectionalLSTM(fl, bl, *seq, l.merge, opts...)
		case fused && fgok && bgok:
			u, err = rnn.UnrollBidirectionalGRU(fg, bg, *seq, l.merge, opts...)
		default:
			u, err = rnn.UnrollBidirectional(fwd, bwd, *seq, l.merge, opts...)
		}
		if err != nil {
			return err
		}
		p.recurrent = append(p.recurrent, u.Forward, u.Backward)
		p.learnables = append(append(p.learnables, fwd.Learnables()...), bwd.Learnables()...)
		outputs = u.Outputs
	} else {
		cell, err := n.newCell(g, l, l.name)
		if err != nil {
			return err
		}
		var u *rnn.Unrolled
		lstm, lok := cell.(*rnn.LSTM)
		gru, gok := cell.(*rnn.GRU)
		switch {
		case fused && lok:
			u, err = rnn.UnrollLSTM(lstm, *seq, opts...)
		case fused && gok:
			u, err = rnn.UnrollGRU(gru, *seq, opts...)
		default:
			u, err = rnn.Unroll(cell, *seq, opts...)
		}
		if err != nil {
			return err
		}
		p.recurrent = append(p.recurrent, u)
		p.learnables = append(p.learnables, cell.Learnables()...)
		outputs = u.Outputs
	}
	if l.mode == rnn.Last {
		*single, *seq = outputs[0], nil
	} else {
		*seq = outputs
	}
	return nil
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
		for i, v := range d.Float32s() {
			dst[i] += v
		}
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

// feed copies a batch into the program's input tensors: X one timestep at a
// time, the mask, the initial states (zero, or carried from the previous
// chunk), and with withTargets the one-hot labels or the responses.
func (p *program) feed(bt *dataset.Batch, carried [][]float64, withTargets bool) {
	f := bt.F
	for t, in := range p.inputs {
		fill(in, func(i int) float64 { return bt.X[((i/f)*bt.T+t)*f+i%f] })
		if p.masks != nil {
			fill(p.masks[t], func(i int) float64 { return bt.Mask[i*bt.T+t] })
		}
	}
	if p.foldedMask != nil {
		b := bt.B
		fill(p.foldedMask, func(i int) float64 { return bt.Mask[(i%b)*bt.T+i/b] })
	}
	for i, s := range p.initial {
		if carried == nil {
			s.Zero()
		} else {
			fill(s, func(j int) float64 { return carried[i][j] })
		}
	}
	if !withTargets {
		return
	}
	// A per-sequence target applies in the chunk where the sequence ends.
	ends := func(s int) bool { return bt.Ends == nil || bt.Ends[s] }
	if p.weight != nil {
		fill(p.weight, func(s int) float64 {
			if ends(s) {
				return 1
			}
			return 0
		})
	}
	for t, target := range p.targets {
		k := target.Shape()[1]
		switch {
		case bt.StepLabels != nil:
			fill(target, func(i int) float64 {
				if bt.StepLabels[(i/k)*bt.T+t] == i%k {
					return 1
				}
				return 0
			})
		case bt.StepResponses != nil:
			fill(target, func(i int) float64 { return bt.StepResponses[((i/k)*bt.T+t)*k+i%k] })
		case bt.Labels != nil:
			fill(target, func(i int) float64 {
				if bt.Labels[i/k] == i%k && ends(i/k) {
					return 1
				}
				return 0
			})
		default:
			fill(target, func(i int) float64 { return bt.Responses[i] })
		}
	}
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

// zeroGrads clears the gradients a failed step left behind: Gorgonia adds
// every run's gradients to the previous ones until a solver zeroes them.
func (p *program) zeroGrads() {
	for _, vg := range p.valueGrads {
		vg.(learnable).grad.Zero()
	}
}
