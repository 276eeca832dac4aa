package graph

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// Builder is what a layer's Build gets: the graph being built, what it is
// for, and the means to add learnables, inputs fed from each batch, and
// recurrent state.
type Builder struct {
	g   *gorgonia.ExprGraph
	n   *Network
	p   *program
	key programKey

	// The layer being built.
	index int
	name  string
	in    Shape

	// foldedMasks are the folded mask inputs made so far, by host mask.
	foldedMasks map[int]*gorgonia.Node
}

// Graph returns the graph being built.
func (b *Builder) Graph() *gorgonia.ExprGraph { return b.g }

// Name returns the layer's name in the network ("lstm1"), which prefixes
// the names of its learnables and nodes.
func (b *Builder) Name() string { return b.name }

// In returns the shape of the layer's input.
func (b *Builder) In() Shape { return b.in }

// BatchSize returns the number of sequences of the batches the graph runs.
func (b *Builder) BatchSize() int { return b.key.batch }

// Steps returns the number of timesteps of the graph's input.
func (b *Builder) Steps() int { return b.key.steps }

// Dtype returns the element type of the graph's values.
func (b *Builder) Dtype() tensor.Dtype { return b.n.dtype }

// Training reports whether the graph trains: it has a loss, gradients and
// dropout.
func (b *Builder) Training() bool { return b.key.train }

// ReadsNodes reports whether the graph is read node by node
// (Network.Activations): a layer should then build the nodes its users read
// by name, such as a recurrent layer's gates, rather than a fused op.
func (b *Builder) ReadsNodes() bool { return b.key.observed }

// Seed returns a seed for the layer's random numbers in this graph (a
// dropout mask): a function of the network's seed, the layer's rank and the
// graph's shape, so that one seed gives one training run.
func (b *Builder) Seed() uint64 {
	return b.n.seed*0x9e3779b97f4a7c15 + uint64(b.index-1)<<40 + uint64(b.key.batch)<<20 + uint64(b.key.steps)
}

// Params returns the store of the network's learnables, for layers that
// hand it to others (an rnn cell's constructor); register what they bind
// with Train.
func (b *Builder) Params() *nodes.Params { return b.n.params }

// Learnable returns the layer's learnable called "<layer>/<part>" bound in
// the graph, created with init the first time any graph asks for it, and
// trains it. A learnable whose name ends in "Bias" ("Bias",
// "RecurrentBias", a custom cell's "ForgetBias") is not regularized, as
// MATLAB's BiasL2Factor 0; the others are.
func (b *Builder) Learnable(part string, shape tensor.Shape, init nodes.Initializer) (*gorgonia.Node, error) {
	n, err := b.n.params.Node(b.g, b.name+"/"+part, shape, init)
	if err != nil {
		return nil, err
	}
	b.Train(n)
	return n, nil
}

// Train marks learnables that others bound in the graph (an rnn cell's) as
// the layer's, so that training computes their gradients.
func (b *Builder) Train(learnables ...*gorgonia.Node) {
	b.p.learnables = append(b.p.learnables, learnables...)
}

// Input returns an input node of the graph called name, of the given shape
// and the network's dtype, which every run fills from its batch (prepared:
// normalized, padded to its graph's length): element i, in row-major order,
// is fill(batch, i). Names are unique in a graph: prefix them with the
// layer's name.
func (b *Builder) Input(name string, shape []int, fill func(batch *dataset.Batch, i int) float64) *gorgonia.Node {
	v := tensor.New(tensor.WithShape(shape...), tensor.Of(b.n.dtype))
	n := gorgonia.NodeFromAny(b.g, v, gorgonia.WithName(name))
	b.p.feeds = append(b.p.feeds, feed{v, fill})
	return n
}

// Recurrent registers unrolled recurrent cells: their initial states are
// fed with the final states of the previous chunk of a split batch, or of
// the previous PredictAndUpdateState call (zeros otherwise), and the nodes
// their cells named are what Activations reads.
func (b *Builder) Recurrent(us ...*rnn.Unrolled) { b.p.recurrent = append(b.p.recurrent, us...) }

// EachStep applies f to each timestep's node of in (t from 0; the steps of
// Rows unfolded first), or to its one node (t = -1), or to its folded node
// (t = -1), and returns the results with in's mask.
func (b *Builder) EachStep(in Value, f func(x *gorgonia.Node, t int) (*gorgonia.Node, error)) (Value, error) {
	out := Value{Mask: in.Mask}
	var err error
	if in.Rows != nil {
		if in.Steps, err = b.StepsOf(in); err != nil {
			return out, err
		}
	}
	switch {
	case in.Folded != nil:
		out.Folded, err = f(in.Folded, -1)
	case in.One != nil:
		out.One, err = f(in.One, -1)
	default:
		out.Steps = make([]*gorgonia.Node, len(in.Steps))
		for t, x := range in.Steps {
			if out.Steps[t], err = f(x, t); err != nil {
				break
			}
		}
	}
	return out, err
}

// EachRow applies f, a function that treats every row of its input
// alike, to in's timesteps folded into one node when in holds them so
// (Rows: f runs once, t = -1), and as EachStep does otherwise.
func (b *Builder) EachRow(in Value, f func(x *gorgonia.Node, t int) (*gorgonia.Node, error)) (Value, error) {
	if in.Rows == nil {
		return b.EachStep(in, f)
	}
	rows, err := f(in.Rows, -1)
	return Value{Rows: rows, Mask: in.Mask}, err
}

// StepsOf returns in's timesteps, one B×Features node each: in.Steps, or
// in.Rows unfolded.
func (b *Builder) StepsOf(in Value) ([]*gorgonia.Node, error) {
	if in.Rows == nil {
		return in.Steps, nil
	}
	return nodes.UnfoldSequence(in.Rows, in.Rows.Shape()[0]/b.key.batch)
}

// RowsOf returns in's timesteps folded into one (T·B)×Features node,
// timestep-major: in.Rows, or in.Steps folded.
func (b *Builder) RowsOf(in Value) (*gorgonia.Node, error) {
	if in.Rows != nil {
		return in.Rows, nil
	}
	return foldSteps(in.Steps)
}

// FoldedMask returns the mask m as one vector of T·B values, timestep-major
// (value t·B+b is timestep t of sequence b), the layout of folded frames;
// nil when m is empty (every step real).
func (b *Builder) FoldedMask(m Mask) *gorgonia.Node {
	if m.Steps == nil {
		return nil
	}
	if n, ok := b.foldedMasks[m.host]; ok {
		return n
	}
	name := "mask/folded"
	if m.host > 0 {
		name = fmt.Sprintf("%s/mask%d/folded", b.name, m.host)
	}
	// The program's host masks may grow after this: read them by index.
	p, k, steps, batch := b.p, m.host, len(m.Steps), b.key.batch
	n := b.Input(name, []int{steps * batch}, func(_ *dataset.Batch, i int) float64 {
		return p.hostMasks[k].val[(i%batch)*steps+i/batch]
	})
	if b.foldedMasks == nil {
		b.foldedMasks = make(map[int]*gorgonia.Node)
	}
	b.foldedMasks[m.host] = n
	return n
}

// DeriveMask returns the mask of the output of a layer that changes the
// timesteps (a strided convolution or pooling over time), of steps
// timesteps, which derive computes from the mask m of its input for each
// batch: mask is B×T batch-major (value s·T+t is timestep t of sequence s),
// and so is what derive returns, B×steps. An empty m (every step real, in a
// graph for unpadded batches) gives an empty mask: every output step is
// real too.
func (b *Builder) DeriveMask(m Mask, steps int, derive func(mask []float64, inSteps int) ([]float64, error)) Mask {
	if m.Steps == nil {
		return Mask{}
	}
	k := len(b.p.hostMasks)
	b.p.hostMasks = append(b.p.hostMasks, hostMask{from: m.host, steps: steps, derive: derive, layer: b.name})
	p, batch := b.p, b.key.batch
	out := Mask{host: k, Steps: make([]*gorgonia.Node, steps)}
	for t := range out.Steps {
		out.Steps[t] = b.Input(fmt.Sprintf("%s/mask%d/t%d", b.name, k, t), []int{batch}, func(_ *dataset.Batch, i int) float64 {
			return p.hostMasks[k].val[i*steps+t]
		})
	}
	return out
}

// hostMask is a mask a program computes from each batch before it runs:
// the batch's own (0), or one derived from another by a layer that changes
// the timesteps. val is B×steps, batch-major.
type hostMask struct {
	from, steps int
	derive      func(mask []float64, inSteps int) ([]float64, error)
	layer       string
	val         []float64
}

// feed is an input a program fills from each batch.
type feed struct {
	t    *tensor.Dense
	fill func(b *dataset.Batch, i int) float64
}

// layerWhere names the i-th layer (from 0) of a network in messages:
// `layer 2 (LSTM "lstm1")`.
func layerWhere(i int, l Layer, name string) string {
	return fmt.Sprintf("layer %d (%s %q)", i+1, titleOf(l), name)
}

// checkName returns an error unless name can name a layer: not empty, no
// slash (names prefix learnables, "lstm1/Bias").
func checkName(name string) error {
	if name == "" || strings.Contains(name, "/") {
		return errors.Errorf("name %q is empty or has a slash", name)
	}
	return nil
}
