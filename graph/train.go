package graph

import (
	"fmt"
	"iter"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
)

// TrainStep runs one training iteration on a mini-batch: the forward pass,
// the loss, the backward pass, and one step of solver over every learnable.
// It returns the mini-batch loss. solver is any gorgonia.Solver (those of
// package optim understand the networks' per-learnable L2 factors); it must
// zero the gradients it consumes, as Gorgonia's and optim's solvers do.
//
// A padded batch is run with its mask, so that padding changes nothing. On
// error no learnable has changed.
func (n *Network) TrainStep(b *dataset.Batch, solver gorgonia.Solver) (float64, error) {
	loss, _, err := n.trainStep(b, solver)
	return loss, err
}

// trainStep is TrainStep that also returns the program it ran, whose
// output values are those of the batch.
func (n *Network) trainStep(b *dataset.Batch, solver gorgonia.Solver) (float64, *program, error) {
	if solver == nil {
		return 0, nil, errors.New("graph: train step: nil solver")
	}
	if err := n.checkBatch(b, true); err != nil {
		return 0, nil, err
	}
	b, err := n.normalized(b)
	if err != nil {
		return 0, nil, err
	}
	if b, err = n.bucketed(b); err != nil {
		return 0, nil, err
	}
	p, err := n.program(programKey{batch: b.B, steps: b.T, train: true, masked: b.Padded()})
	if err != nil {
		return 0, nil, err
	}
	carried, err := n.train.start(b)
	if err != nil {
		return 0, nil, err
	}
	p.feed(b, carried, true)
	defer p.reset()
	if err := p.run(); err != nil {
		p.zeroGrads()
		return 0, nil, errors.Wrapf(err, "graph: train step on the %v", p.key)
	}
	loss := scalar(p.lossVal)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		p.zeroGrads()
		return loss, nil, errors.Errorf("graph: train step: the loss is %v: training diverged (lower the learning rate or clip the gradients)", loss)
	}
	if err := solver.Step(p.valueGrads); err != nil {
		p.zeroGrads()
		return loss, nil, errors.Wrap(err, "graph: train step: solver")
	}
	n.train.finish(b, p)
	return loss, p, nil
}

// carry is the recurrent state that flows from one chunk of a split batch
// to the next: truncated backpropagation through time, where the state
// crosses chunk edges and gradients do not.
type carry struct {
	next   int // the chunk expected next; 0 when none is under way
	batch  int
	values [][]float64
}

// start returns the initial states for batch b: nil (zeros) for a first
// chunk, the previous chunk's final states otherwise.
func (c *carry) start(b *dataset.Batch) ([][]float64, error) {
	if b.Chunk == 0 {
		return nil, nil
	}
	if b.Chunk != c.next || b.B != c.batch {
		return nil, errors.Errorf("graph: chunk %d of %d (batch of %d) does not follow the last chunk run (next expected: chunk %d, batch of %d); "+
			"feed the chunks of a batch in order", b.Chunk, b.Chunks, b.B, c.next, c.batch)
	}
	return c.values, nil
}

// finish keeps the final states of a run when more chunks of its batch come.
func (c *carry) finish(b *dataset.Batch, p *program) {
	if b.Chunk+1 < b.Chunks {
		*c = carry{next: b.Chunk + 1, batch: b.B, values: p.finalStates(nil)}
		return
	}
	*c = carry{}
}

// PredictBatch returns the network's output for each sequence of a
// mini-batch: class probabilities for a classifier, responses for a
// regression network. It computes no gradients and applies no dropout. A
// chunk of a split batch starts from the state the previous chunk ended in.
// For a network with an output per timestep, use PredictStepsBatch.
func (n *Network) PredictBatch(b *dataset.Batch) ([][]float64, error) {
	if n.PerStep() {
		return nil, errors.New("graph: the network outputs one value per timestep: use PredictStepsBatch")
	}
	p, err := n.runInference(b, &n.predict)
	if err != nil {
		return nil, err
	}
	return rows(p.outVals[0]), nil
}

// PredictStepsBatch returns the output of a sequence-to-sequence network for
// each real timestep of each sequence of a mini-batch: out[b][i] is the
// output at the i-th real step of sequence b.
func (n *Network) PredictStepsBatch(b *dataset.Batch) ([][][]float64, error) {
	if !n.PerStep() {
		return nil, errors.New("graph: the network outputs one value per sequence: use PredictBatch")
	}
	p, err := n.runInference(b, &n.predict)
	if err != nil {
		return nil, err
	}
	out := make([][][]float64, b.B)
	for t, v := range p.outVals {
		for s, r := range rows(v) {
			if b.Mask[s*b.T+t] != 0 {
				out[s] = append(out[s], r)
			}
		}
	}
	return out, nil
}

// runInference runs the inference graph for b, carrying state in c across
// the chunks of a split batch.
func (n *Network) runInference(b *dataset.Batch, c *carry) (*program, error) {
	if err := n.checkBatch(b, false); err != nil {
		return nil, err
	}
	b, err := n.normalized(b)
	if err != nil {
		return nil, err
	}
	p, err := n.program(programKey{batch: b.B, steps: b.T, masked: b.Padded()})
	if err != nil {
		return nil, err
	}
	carried, err := c.start(b)
	if err != nil {
		return nil, err
	}
	p.feed(b, carried, false)
	defer p.reset()
	if err := p.run(); err != nil {
		return nil, errors.Wrapf(err, "graph: predicting on the %v", p.key)
	}
	c.finish(b, p)
	return p, nil
}

// Activations runs the network on a mini-batch, as PredictBatch does, and
// returns the values of the nodes called names, each a copy as a tensor:
// every gate and state of every timestep of every recurrent layer
// ("lstm1/t7/forget", "lstm1/t7/hidden", "bilstm1/backward/t0/cell"), and
// the output of every layer ("fc1" after OutputMode last, "fc1/t3" per
// timestep before it, "softmax1" for the class probabilities). With no
// names it returns them all. It compiles a graph of its own per batch shape
// that copies every value out, so it costs more than PredictBatch.
func (n *Network) Activations(b *dataset.Batch, names ...string) (map[string]*tensor.Dense, error) {
	if err := n.checkBatch(b, false); err != nil {
		return nil, err
	}
	b, err := n.normalized(b)
	if err != nil {
		return nil, err
	}
	p, err := n.program(programKey{batch: b.B, steps: b.T, masked: b.Padded(), observed: true})
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, ok := p.observed[name]; !ok {
			return nil, errors.Errorf("graph: activations: no node %q in the network (nodes are called like %s)", name, exampleNames(p.observed))
		}
	}
	carried, err := n.observe.start(b)
	if err != nil {
		return nil, err
	}
	p.feed(b, carried, false)
	defer p.reset()
	if err := p.run(); err != nil {
		return nil, errors.Wrapf(err, "graph: activations on the %v", p.key)
	}
	n.observe.finish(b, p)
	if len(names) == 0 {
		for name := range p.observed {
			names = append(names, name)
		}
	}
	out := make(map[string]*tensor.Dense, len(names))
	for _, name := range names {
		out[name] = (*p.observed[name]).(*tensor.Dense).Clone().(*tensor.Dense)
	}
	return out, nil
}

// exampleNames lists a few observable names, sorted, for an error message.
func exampleNames(observed map[string]*gorgonia.Value) string {
	names := make([]string, 0, len(observed))
	for name := range observed {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 6 {
		names = append(names[:6], "...")
	}
	return strings.Join(names, ", ")
}

// Predict returns the network's output for every observation of src, in
// order, computed in mini-batches of batchSize padded as opts say (see
// dataset.MakeBatch).
func (n *Network) Predict(src dataset.Source, batchSize int, opts ...dataset.BatchOption) ([][]float64, error) {
	if n.PerStep() {
		return nil, errors.New("graph: predict: the network outputs one value per timestep: use PredictStepsBatch")
	}
	if src == nil || src.Len() == 0 {
		return nil, errors.New("graph: predict: no observations")
	}
	if batchSize <= 0 {
		return nil, errors.Errorf("graph: predict: mini-batch size %d; want at least 1", batchSize)
	}
	out := make([][]float64, 0, src.Len())
	for b, err := range inOrder(src, batchSize, opts...) {
		if err != nil {
			return nil, errors.Wrap(err, "graph: predict")
		}
		r, err := n.PredictBatch(b)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

// inOrder yields the observations of src in order, in mini-batches of
// batchSize made by dataset.MakeBatch with opts.
func inOrder(src dataset.Source, batchSize int, opts ...dataset.BatchOption) iter.Seq2[*dataset.Batch, error] {
	return func(yield func(*dataset.Batch, error) bool) {
		idx := make([]int, 0, batchSize)
		for start := 0; start < src.Len(); start += batchSize {
			idx = idx[:0]
			for i := start; i < start+batchSize && i < src.Len(); i++ {
				idx = append(idx, i)
			}
			b, err := dataset.MakeBatch(src, idx, opts...)
			if !yield(b, err) || err != nil {
				return
			}
		}
	}
}

// checkBatch rejects a batch the network cannot use, saying what and where.
func (n *Network) checkBatch(b *dataset.Batch, withTargets bool) error {
	if b == nil {
		return errors.New("graph: nil batch")
	}
	if b.B <= 0 || b.T <= 0 {
		return errors.Errorf("graph: empty batch (%d sequences of %d timesteps)", b.B, b.T)
	}
	if b.F != n.InputSize() {
		return errors.Errorf("graph: the batch has %d features per timestep; the network's sequence input takes %d", b.F, n.InputSize())
	}
	if in := n.layers[0].frame; !b.Frame.IsZero() && b.Frame != in {
		return errors.Errorf("graph: the batch has frames of %dx%dx%d (CxHxW); the network's input takes %dx%dx%d",
			b.Frame.C, b.Frame.H, b.Frame.W, in.C, in.H, in.W)
	}
	if len(b.X) != b.B*b.T*b.F || len(b.Mask) != b.B*b.T {
		return errors.Errorf("graph: malformed batch: %d values and %d mask entries for %d×%d×%d", len(b.X), len(b.Mask), b.B, b.T, b.F)
	}
	seq := func(i int) string {
		if i < len(b.Indices) {
			return fmt.Sprintf("sequence %d of the batch (observation %d)", i, b.Indices[i])
		}
		return fmt.Sprintf("sequence %d of the batch", i)
	}
	for i, v := range b.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s, rest := i/(b.T*b.F), i%(b.T*b.F)
			return errors.Errorf("graph: %s: timestep %d, feature %d is %v", seq(s), rest/b.F, rest%b.F, v)
		}
	}
	for s := 0; s < b.B; s++ {
		real := 0
		for t := 0; t < b.T; t++ {
			m := b.Mask[s*b.T+t]
			if m != 0 && m != 1 {
				return errors.Errorf("graph: %s: mask at timestep %d is %v, want 0 or 1", seq(s), t, m)
			}
			real += int(m)
		}
		// In a chunk of a split batch a sequence may have ended already,
		// or (padded on the left) not begun.
		if real == 0 && b.Chunks <= 1 {
			return errors.Errorf("graph: %s is empty", seq(s))
		}
	}
	if b.Chunks > 1 {
		if b.Chunk < 0 || b.Chunk >= b.Chunks {
			return errors.Errorf("graph: chunk %d of %d", b.Chunk, b.Chunks)
		}
		for _, l := range n.layers {
			if l.kind.bidirectional() {
				return errors.Errorf("graph: layer %q is bidirectional: it reads each sequence from its end, so it cannot run on chunks of split sequences (use SequenceLength longest or shortest)", l.name)
			}
		}
	}
	if b.Ends != nil && len(b.Ends) != b.B {
		return errors.Errorf("graph: malformed batch: %d end flags for %d sequences", len(b.Ends), b.B)
	}
	if !withTargets {
		return nil
	}
	k := n.OutputSize()
	switch {
	case n.PerStep() && n.IsClassifier():
		if len(b.StepLabels) != b.B*b.T {
			return errors.Errorf("graph: the network is trained with a label per timestep; the batch has %d for %d×%d steps", len(b.StepLabels), b.B, b.T)
		}
		for i, l := range b.StepLabels {
			real := b.Mask[i] != 0
			if real && (l < 0 || l >= k) || !real && l != -1 {
				return errors.Errorf("graph: %s: label %d at timestep %d is outside the network's %d classes [0, %d)", seq(i/b.T), l, i%b.T, k, k)
			}
		}
	case n.PerStep():
		if b.ResponseSize != k || len(b.StepResponses) != b.B*b.T*k {
			return errors.Errorf("graph: the network is trained with %d responses per timestep; the batch has %d values of size %d for %d×%d steps",
				k, len(b.StepResponses), b.ResponseSize, b.B, b.T)
		}
		for i, v := range b.StepResponses {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("graph: %s: response %d at timestep %d is %v", seq(i/(b.T*k)), i%k, (i/k)%b.T, v)
			}
		}
	case n.IsClassifier():
		if len(b.Labels) != b.B {
			return errors.Errorf("graph: the batch has %d labels for %d sequences (a classifier trains on labelled sequences)", len(b.Labels), b.B)
		}
		for s, l := range b.Labels {
			if l < 0 || l >= k {
				return errors.Errorf("graph: %s: label %d is outside the network's %d classes [0, %d)", seq(s), l, k, k)
			}
		}
	default:
		if b.ResponseSize != k || len(b.Responses) != b.B*k {
			return errors.Errorf("graph: the batch has %d responses of size %d; the network predicts %d per sequence",
				len(b.Responses), b.ResponseSize, k)
		}
		for i, v := range b.Responses {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("graph: %s: response %d is %v", seq(i/k), i%k, v)
			}
		}
	}
	return nil
}
