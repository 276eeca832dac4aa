package graph

import (
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"

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
	loss, run, err := n.trainStep(b, solver)
	n.release(run.p)
	return loss, err
}

// trainStep is TrainStep that also returns what ran: the prepared batch
// (normalized and padded to its step bucket) and its program, whose output
// values are those of that batch. The caller releases the program
// (releaseRuns) once it has read them.
func (n *Network) trainStep(b *dataset.Batch, solver gorgonia.Solver) (float64, shardRun, error) {
	if solver == nil {
		return 0, shardRun{}, errors.New("graph: train step: nil solver")
	}
	n.weights.Lock()
	defer n.weights.Unlock()
	b, err := n.prepare(b, true)
	if err != nil {
		return 0, shardRun{}, err
	}
	if b, err = n.bucketed(b); err != nil {
		return 0, shardRun{}, err
	}
	p, err := n.acquire(programKey{batch: b.B, steps: b.T, train: true, masked: b.Padded()})
	if err != nil {
		return 0, shardRun{}, err
	}
	loss, err := n.stepProgram(p, b, solver)
	if err != nil {
		n.release(p)
		return loss, shardRun{}, err
	}
	return loss, shardRun{b, p}, nil
}

// stepProgram runs a training program on the prepared batch b, from the
// state the previous chunk left, and steps the solver unless the batch only
// carries the state on.
func (n *Network) stepProgram(p *program, b *dataset.Batch, solver gorgonia.Solver) (float64, error) {
	carried, err := n.train.start(b)
	if err != nil {
		return 0, err
	}
	if err := p.feed(b, carried); err != nil {
		return 0, err
	}
	if err := p.run(); err != nil {
		p.zeroGrads()
		return 0, errors.Wrapf(err, "graph: train step on the %v", p.key)
	}
	loss := scalar(p.lossVal)
	if err := p.checkFinite(loss); err != nil {
		p.zeroGrads()
		return loss, err
	}
	if !holdsTargets(b) {
		// The run only carried the state on: there is nothing to learn
		// from, and a solver with momentum would still move.
		p.zeroGrads()
		n.train.finish(b, p)
		return 0, nil
	}
	if err := solver.Step(p.valueGrads); err != nil {
		p.zeroGrads()
		return loss, errors.Wrap(err, "graph: train step: solver")
	}
	n.train.finish(b, p)
	return loss, nil
}

// releaseRuns gives the programs of runs back to the cache.
func (n *Network) releaseRuns(runs []shardRun) {
	for _, r := range runs {
		n.release(r.p)
	}
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
	defer n.readWeights()()
	return n.predictBatch(b)
}

// predictBatch is PredictBatch with the weights held.
func (n *Network) predictBatch(b *dataset.Batch) ([][]float64, error) {
	var out [][]float64
	err := n.infer(b, n.chunkCarry(b, &n.predict), false, func(p *program, _ *dataset.Batch) {
		out = rows(p.outVals[0])
	})
	return out, err
}

// PredictStepsBatch returns the output of a sequence-to-sequence network for
// each real timestep of each sequence of a mini-batch: out[b][i] is the
// output at the i-th real step of sequence b.
func (n *Network) PredictStepsBatch(b *dataset.Batch) ([][][]float64, error) {
	if !n.PerStep() {
		return nil, errors.New("graph: the network outputs one value per sequence: use PredictBatch")
	}
	defer n.readWeights()()
	return n.predictStepsBatch(b)
}

// predictStepsBatch is PredictStepsBatch with the weights held.
func (n *Network) predictStepsBatch(b *dataset.Batch) ([][][]float64, error) {
	var out [][][]float64
	err := n.infer(b, n.chunkCarry(b, &n.predict), false, func(p *program, b *dataset.Batch) {
		out = make([][][]float64, b.B)
		for t, v := range p.outVals {
			for s, r := range rows(v) {
				if b.Mask[s*b.T+t] != 0 {
					out[s] = append(out[s], r)
				}
			}
		}
	})
	return out, err
}

// lockedCarry is recurrent state carried from one run to the next, with
// the lock that guards it.
type lockedCarry struct {
	c    *carry
	lock sync.Locker
}

// chunkCarry returns the network's carry c for a chunk of a split batch,
// guarded by the network's chunk lock, and nothing for a whole batch.
func (n *Network) chunkCarry(b *dataset.Batch, c *carry) lockedCarry {
	if b == nil || b.Chunks <= 1 {
		return lockedCarry{}
	}
	return lockedCarry{c, &n.chunks}
}

// readWeights holds the weights for reading until the function it returns
// is called: inference holds them while it runs, training steps and changes
// of the weights for writing.
func (n *Network) readWeights() func() {
	n.weights.RLock()
	return n.weights.RUnlock
}

// infer runs the inference graph for b (with observed, the graph that reads
// every named node, Activations'), from the state c carries (none when
// c.c is nil; c.lock, when not nil, is held while it is read and written)
// and keeping the state it ends in, and calls read with the
// program and the prepared batch while the run's values are there. Any
// number of goroutines may infer at once: each runs a program of its own,
// and all hold the weights for reading.
//
// The caller holds the weights for reading (readWeights), so that a call
// of several batches sees one set of weights.
func (n *Network) infer(b *dataset.Batch, c lockedCarry, observed bool, read func(*program, *dataset.Batch)) error {
	b, err := n.prepare(b, false)
	if err != nil {
		return err
	}
	p, err := n.acquire(programKey{batch: b.B, steps: b.T, masked: b.Padded(), observed: observed})
	if err != nil {
		return err
	}
	defer n.release(p)
	if c.lock != nil {
		c.lock.Lock()
		defer c.lock.Unlock()
	}
	var carried [][]float64
	if c.c != nil {
		if carried, err = c.c.start(b); err != nil {
			return err
		}
	}
	if err := p.feed(b, carried); err != nil {
		return err
	}
	if err := p.run(); err != nil {
		return errors.Wrapf(err, "graph: predicting on the %v", p.key)
	}
	if c.c != nil {
		c.c.finish(b, p)
	}
	read(p, b)
	return nil
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
	defer n.readWeights()()
	var out map[string]*tensor.Dense
	var missing error
	err := n.infer(b, n.chunkCarry(b, &n.observe), true, func(p *program, _ *dataset.Batch) {
		for _, name := range names {
			if _, ok := p.observed[name]; !ok {
				missing = errors.Errorf("graph: activations: no node %q in the network (nodes are called like %s)", name, exampleNames(p.observed))
				return
			}
		}
		if len(names) == 0 {
			for name := range p.observed {
				names = append(names, name)
			}
		}
		out = make(map[string]*tensor.Dense, len(names))
		for _, name := range names {
			out[name] = (*p.observed[name]).(*tensor.Dense).Clone().(*tensor.Dense)
		}
	})
	if err == nil {
		err = missing
	}
	return out, err
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
		r, err := n.predictBatch(b)
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
		r, err := n.predictStepsBatch(b)
		out = append(out, r...)
		return err
	})
	return out, err
}

// eachBatch checks src against the network and calls f with its
// observations in order, in mini-batches of batchSize made with opts, with
// the weights held for reading, so that every batch sees the same weights.
func (n *Network) eachBatch(what string, src dataset.Source, batchSize int, opts []dataset.BatchOption, f func(*dataset.Batch) error) error {
	defer n.readWeights()()
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
