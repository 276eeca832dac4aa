package graph

import (
	"iter"
	"slices"
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
// error no learnable has changed. A chunk of a split batch in which no
// per-sequence target applies (no sequence ends in it) only carries the
// recurrent state on to the next chunk: it returns a loss of 0 and leaves
// the learnables and the solver as they were.
func (n *Network) TrainStep(b *dataset.Batch, solver gorgonia.Solver) (float64, error) {
	loss, _, err := n.trainStep(b, solver)
	return loss, err
}

// trainStep is TrainStep that also returns what ran: the prepared batch
// (normalized and padded to its step bucket) and its program, whose output
// values are those of that batch.
func (n *Network) trainStep(b *dataset.Batch, solver gorgonia.Solver) (float64, shardRun, error) {
	if solver == nil {
		return 0, shardRun{}, errors.New("graph: train step: nil solver")
	}
	b, err := n.prepare(b, true)
	if err != nil {
		return 0, shardRun{}, err
	}
	b, err = n.bucketed(b)
	if err != nil {
		return 0, shardRun{}, err
	}
	p, err := n.program(programKey{batch: b.B, steps: b.T, train: true, masked: b.Padded()})
	if err != nil {
		return 0, shardRun{}, err
	}
	carried, err := n.train.start(b)
	if err != nil {
		return 0, shardRun{}, err
	}
	if err := p.feed(b, carried); err != nil {
		return 0, shardRun{}, err
	}
	defer p.reset()
	if err := p.run(); err != nil {
		p.zeroGrads()
		return 0, shardRun{}, errors.Wrapf(err, "graph: train step on the %v", p.key)
	}
	loss := scalar(p.lossVal)
	if err := p.checkFinite(loss); err != nil {
		p.zeroGrads()
		return loss, shardRun{}, err
	}
	if !holdsTargets(b) {
		// The run only carried the state on: there is nothing to learn
		// from, and a solver with momentum would still move.
		p.zeroGrads()
		n.train.finish(b, p)
		return 0, shardRun{b, p}, nil
	}
	if err := solver.Step(p.valueGrads); err != nil {
		p.zeroGrads()
		return loss, shardRun{}, errors.Wrap(err, "graph: train step: solver")
	}
	n.train.finish(b, p)
	return loss, shardRun{b, p}, nil
}

// holdsTargets reports whether a training batch holds a target: it does
// unless it is a chunk of a split batch with one target per sequence in
// which no sequence ends (with padding on the left, every chunk but the
// last).
func holdsTargets(b *dataset.Batch) bool {
	if b.Ends == nil || b.StepLabels != nil || b.StepResponses != nil {
		return true
	}
	return slices.Contains(b.Ends, true)
}

// prepare checks a batch and returns what a run feeds: b with its real
// timesteps normalized when the input layer normalizes. Every entry point
// prepares a batch once; everything after reads the prepared batch.
func (n *Network) prepare(b *dataset.Batch, withTargets bool) (*dataset.Batch, error) {
	if err := n.checkBatch(b, withTargets); err != nil {
		return nil, err
	}
	return n.normalized(b)
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
	b, err := n.prepare(b, false)
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
	if err := p.feed(b, carried); err != nil {
		return nil, err
	}
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
//
// In a padded batch, a state read by its plain name ("lstm1/t7/hidden",
// "lstm1/t7/cell") is the state the network carries at that step, as in an
// unpadded one: a sequence's own state while it runs, its last state after
// it ends (padded on the right), the initial state before it starts (padded
// on the left); so are the layer outputs. The value the cell computed on a
// padded step is there too, as "lstm1/t7/unmasked/hidden"; the gates of a
// padded step are computed on the padding.
func (n *Network) Activations(b *dataset.Batch, names ...string) (map[string]*tensor.Dense, error) {
	b, err := n.prepare(b, false)
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
	if err := p.feed(b, carried); err != nil {
		return nil, err
	}
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
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
// dataset.MakeBatch). For a network with an output per timestep, use
// PredictSteps.
func (n *Network) Predict(src dataset.Source, batchSize int, opts ...dataset.BatchOption) ([][]float64, error) {
	if n.PerStep() {
		return nil, errors.New("graph: predict: the network outputs one value per timestep: use PredictSteps")
	}
	out := make([][]float64, 0, sourceLen(src))
	err := n.eachBatch("predict", src, batchSize, opts, func(b *dataset.Batch) error {
		r, err := n.PredictBatch(b)
		out = append(out, r...)
		return err
	})
	return out, err
}

// PredictSteps returns a sequence-to-sequence network's outputs for every
// observation of src, in order: out[i][t] is the output (class
// probabilities or responses) at the t-th real timestep of observation i,
// as MATLAB's predict returns one per timestep. Mini-batches of batchSize
// are padded as opts say; padding changes no output and returns none.
func (n *Network) PredictSteps(src dataset.Source, batchSize int, opts ...dataset.BatchOption) ([][][]float64, error) {
	if !n.PerStep() {
		return nil, errors.New("graph: predict steps: the network outputs one value per sequence: use Predict")
	}
	out := make([][][]float64, 0, sourceLen(src))
	err := n.eachBatch("predict steps", src, batchSize, opts, func(b *dataset.Batch) error {
		r, err := n.PredictStepsBatch(b)
		out = append(out, r...)
		return err
	})
	return out, err
}

// eachBatch checks src against the network and calls f with its
// observations in order, in mini-batches of batchSize made with opts.
func (n *Network) eachBatch(what string, src dataset.Source, batchSize int, opts []dataset.BatchOption, f func(*dataset.Batch) error) error {
	if src == nil || src.Len() == 0 {
		return errors.Errorf("graph: %s: no observations", what)
	}
	if batchSize <= 0 {
		return errors.Errorf("graph: %s: mini-batch size %d; want at least 1", what, batchSize)
	}
	if err := n.checkSchema(src.Schema(), false); err != nil {
		return errors.Wrap(err, "graph: "+what)
	}
	for b, err := range inOrder(src, batchSize, opts...) {
		if err != nil {
			return errors.Wrap(err, "graph: "+what)
		}
		if err := f(b); err != nil {
			return err
		}
	}
	return nil
}

// sourceLen is src.Len(), or 0 for no source.
func sourceLen(src dataset.Source) int {
	if src == nil {
		return 0
	}
	return src.Len()
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
