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
	vm  gorgonia.VM

	inputs  []*tensor.Dense // per timestep, B×F
	masks   []*tensor.Dense // per timestep, B (nil when not masked)
	target  *tensor.Dense   // B×K one-hot or B×R responses (training only)
	loss    *gorgonia.Node
	lossVal gorgonia.Value
	output  *gorgonia.Node // class probabilities or responses, B×K
	outVal  gorgonia.Value

	recurrent  []*rnn.Unrolled
	observed   map[string]*gorgonia.Value // the named nodes, when key.observed
	learnables gorgonia.Nodes             // sorted by name
	valueGrads []gorgonia.ValueGrad
}

// learnable is a learnable node that tells a solver its L2 factor: MATLAB
// regularizes weights but not biases (BiasL2Factor 0).
type learnable struct {
	*gorgonia.Node
	l2 float64
}

// L2Factor returns the multiplier of the solver's L2 regularization.
func (l learnable) L2Factor() float64 { return l.l2 }

func (n *Network) build(g *gorgonia.ExprGraph, key programKey) (*program, error) {
	p := &program{key: key, g: g}
	if key.observed {
		p.observed = make(map[string]*gorgonia.Value)
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
	var single, logp *gorgonia.Node // the output after OutputMode last; log-probabilities
	apply := func(f func(x *gorgonia.Node, t int) (*gorgonia.Node, error)) error {
		var err error
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
		case fullyConnectedLayer:
			var fc *nodes.FullyConnected
			if fc, err = nodes.NewFullyConnected(g, n.params, l.name, l.in, l.out); err != nil {
				break
			}
			p.learnables = append(p.learnables, fc.Learnables()...)
			err = apply(func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) { return fc.Apply(x) })
		case softmaxLayer:
			if logp, err = nodes.LogSoftmax(single); err != nil {
				break
			}
			single, err = gorgonia.Exp(logp)
		case classificationLayer, regressionLayer:
			p.output = single
			if !key.train {
				break
			}
			var target *gorgonia.Node
			target, p.target = newInput("target", b, l.out)
			if l.kind == classificationLayer {
				p.loss, err = nodes.CrossEntropy(logp, target)
			} else {
				p.loss, err = nodes.HalfMeanSquaredError(single, target)
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
			for name, v := range u.Record() {
				p.observed[name] = v
			}
		}
	}
	sort.Slice(p.learnables, func(i, j int) bool { return p.learnables[i].Name() < p.learnables[j].Name() })
	for _, l := range p.learnables {
		factor := 1.0
		if strings.HasSuffix(l.Name(), "/Bias") {
			factor = 0
		}
		p.valueGrads = append(p.valueGrads, learnable{l, factor})
	}
	gorgonia.Read(p.output, &p.outVal)
	if p.loss != nil {
		gorgonia.Read(p.loss, &p.lossVal)
	}
	return p, nil
}

// observe records a layer's output: "fc1" for one step, "fc1/t3" for each
// step of a sequence.
func (p *program) observe(layer string, seq []*gorgonia.Node, single *gorgonia.Node) {
	read := func(name string, n *gorgonia.Node) {
		v := new(gorgonia.Value)
		gorgonia.Read(n, v)
		p.observed[name] = v
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
	if l.kind.bidirectional() {
		fwd, err := n.newCell(g, l, l.name+"/forward")
		if err != nil {
			return err
		}
		bwd, err := n.newCell(g, l, l.name+"/backward")
		if err != nil {
			return err
		}
		u, err := rnn.UnrollBidirectional(fwd, bwd, *seq, l.merge, opts...)
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
		u, err := rnn.Unroll(cell, *seq, opts...)
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

// compile differentiates a training graph and compiles the tape machine,
// turning Gorgonia's panics into errors.
func (p *program) compile() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("graph: compiling the %v: %v", p.key, r)
		}
	}()
	if !p.key.train {
		p.vm, err = nodes.NewTapeMachine(p.g)
		return errors.Wrapf(err, "graph: compiling the %v", p.key)
	}
	if _, err = gorgonia.Grad(p.loss, p.learnables...); err != nil {
		return errors.Wrapf(err, "graph: differentiating the %v", p.key)
	}
	p.vm, err = nodes.NewTapeMachine(p.g, gorgonia.BindDualValues(p.learnables...))
	return errors.Wrapf(err, "graph: compiling the %v", p.key)
}

// feed copies a batch into the program's input tensors: X one timestep at a
// time, the mask, and with withTargets the one-hot labels or responses.
func (p *program) feed(bt *dataset.Batch, withTargets bool) {
	f := bt.F
	for t, in := range p.inputs {
		fill(in, func(i int) float64 { return bt.X[((i/f)*bt.T+t)*f+i%f] })
		if p.masks != nil {
			fill(p.masks[t], func(i int) float64 { return bt.Mask[i*bt.T+t] })
		}
	}
	if !withTargets {
		return
	}
	if bt.Labels != nil {
		k := p.target.Shape()[1]
		fill(p.target, func(i int) float64 {
			if bt.Labels[i/k] == i%k {
				return 1
			}
			return 0
		})
		return
	}
	fill(p.target, func(i int) float64 { return bt.Responses[i] })
}

func fill(d *tensor.Dense, f func(i int) float64) {
	switch v := d.Data().(type) {
	case []float64:
		for i := range v {
			v[i] = f(i)
		}
	case []float32:
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
	flat := make([]float64, b*k)
	switch x := d.Data().(type) {
	case []float64:
		copy(flat, x)
	case []float32:
		for i, e := range x {
			flat[i] = float64(e)
		}
	}
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
	for _, l := range p.learnables {
		if g, err := l.Grad(); err == nil {
			if d, ok := g.(*tensor.Dense); ok {
				d.Zero()
			}
		}
	}
}
