package graph

import (
	"container/list"
	"sync"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
)

// TrainStepParallel is TrainStep with the mini-batch split between workers
// goroutines: each runs the forward and backward pass of its share of the
// sequences in graphs of its own, over the same weight tensors; their
// gradients, weighted by their share of the batch, add up to the gradient
// of the whole batch, and one solver step applies it. The result is that of
// TrainStep up to floating-point rounding.
//
// Batch normalization updates running statistics during the forward pass,
// which workers cannot share; networks with it are refused.
func (n *Network) TrainStepParallel(b *dataset.Batch, solver gorgonia.Solver, workers int) (float64, error) {
	loss, _, err := n.trainStepParallel(b, solver, workers)
	return loss, err
}

// shardRun is a shard of a batch and the program that ran it.
type shardRun struct {
	b *dataset.Batch
	p *program
}

// trainStepParallel is TrainStepParallel that also returns the shards and
// their programs, for the mini-batch metrics.
func (n *Network) trainStepParallel(b *dataset.Batch, solver gorgonia.Solver, workers int) (float64, []shardRun, error) {
	if workers < 1 {
		return 0, nil, errors.Errorf("graph: parallel train step: %d workers", workers)
	}
	if workers == 1 || b == nil || b.B < 2 || b.Chunks > 1 {
		loss, p, err := n.trainStep(b, solver)
		return loss, []shardRun{{b, p}}, err
	}
	if len(n.batchNorm) > 0 {
		return 0, nil, errors.New("graph: parallel train step: batch normalization keeps running statistics that workers cannot share; train with TrainStep")
	}
	if solver == nil {
		return 0, nil, errors.New("graph: parallel train step: nil solver")
	}
	if err := n.checkBatch(b, true); err != nil {
		return 0, nil, err
	}
	workers = min(workers, b.B)
	for len(n.workers) < workers-1 {
		n.workers = append(n.workers, n.worker())
	}
	for _, w := range n.workers {
		w.norm = n.norm // statistics fitted after the worker was made
	}
	type result struct {
		loss float64
		p    *program
		b    *dataset.Batch
		err  error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	run := func(w int) {
		from, to := w*b.B/workers, (w+1)*b.B/workers
		net := n
		if w > 0 {
			net = n.workers[w-1]
		}
		shard := shardOf(b, from, to)
		loss, p, err := net.forwardBackward(shard)
		results[w] = result{loss, p, shard, err}
	}
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			run(w)
		}(w)
	}
	// The first shard runs on this goroutine, which would otherwise only
	// wait.
	run(0)
	wg.Wait()
	zeroAll := func() {
		for _, r := range results {
			if r.p != nil {
				r.p.zeroGrads()
			}
		}
	}
	var loss float64
	for w, r := range results {
		if r.err != nil {
			zeroAll()
			return 0, nil, errors.Wrapf(r.err, "graph: parallel train step: worker %d", w)
		}
		loss += r.loss * float64(r.p.key.batch) / float64(b.B)
	}
	// Each worker's gradient is that of its own mean loss: weighting by
	// the share of the batch gives the gradient of the batch's mean loss,
	// gathered into worker 0's gradient tensors for the solver.
	p0 := results[0].p
	for i, vg := range p0.valueGrads {
		g0 := vg.(learnable).grad
		scaleInto(g0, nil, float64(p0.key.batch)/float64(b.B))
		for _, r := range results[1:] {
			g := r.p.valueGrads[i].(learnable).grad
			scaleInto(g0, g, float64(r.p.key.batch)/float64(b.B))
			g.Zero()
		}
	}
	if err := solver.Step(p0.valueGrads); err != nil {
		zeroAll()
		return loss, nil, errors.Wrap(err, "graph: parallel train step: solver")
	}
	runs := make([]shardRun, len(results))
	for i, r := range results {
		runs[i] = shardRun{r.b, r.p}
	}
	return loss, runs, nil
}

// worker returns a network that shares n's layers, weights, normalization
// and seed, with graphs and carried state of its own.
func (n *Network) worker() *Network {
	w := &Network{
		layers: n.layers, params: n.params, classNames: n.classNames, dtype: n.dtype, seed: n.seed,
		cacheSize: n.cacheSize, programs: make(map[programKey]*list.Element), lru: list.New(),
		batchNorm: n.batchNorm, norm: n.norm, compileMu: n.compileMu, stepBuckets: n.stepBuckets, plain: n.plain,
	}
	return w
}

// forwardBackward runs the training graph of b without a solver step and
// returns the loss and the program, whose gradients hold b's.
func (n *Network) forwardBackward(b *dataset.Batch) (float64, *program, error) {
	nb, err := n.normalized(b)
	if err != nil {
		return 0, nil, err
	}
	if nb, err = n.bucketed(nb); err != nil {
		return 0, nil, err
	}
	p, err := n.program(programKey{batch: nb.B, steps: nb.T, train: true, masked: nb.Padded()})
	if err != nil {
		return 0, nil, err
	}
	if b.Chunk > 0 {
		return 0, nil, errors.New("parallel training of split sequences (chunks) is not supported")
	}
	p.feed(nb, nil, true)
	defer p.reset()
	if err := p.run(); err != nil {
		p.zeroGrads()
		return 0, nil, errors.Wrapf(err, "the %v", p.key)
	}
	return scalar(p.lossVal), p, nil
}

// scaleInto sets dst to dst*w when src is nil, and adds src*w to dst
// otherwise, with gonum's vectorised BLAS routines: the gather of the
// workers' gradients is serial, so its speed counts against the speed-up.
func scaleInto(dst, src *tensor.Dense, w float64) {
	var impl gonum.Implementation
	switch dst.Dtype() {
	case tensor.Float64:
		d := dst.Float64s()
		if src == nil {
			impl.Dscal(len(d), w, d, 1)
			return
		}
		impl.Daxpy(len(d), w, src.Float64s(), 1, d, 1)
	case tensor.Float32:
		d := dst.Float32s()
		if src == nil {
			impl.Sscal(len(d), float32(w), d, 1)
			return
		}
		impl.Saxpy(len(d), float32(w), src.Float32s(), 1, d, 1)
	}
}

// shardOf returns sequences [from, to) of a batch as a batch of its own,
// padded to the longest of them.
func shardOf(b *dataset.Batch, from, to int) *dataset.Batch {
	s := &dataset.Batch{B: to - from, F: b.F, Direction: b.Direction, Frame: b.Frame, ResponseSize: b.ResponseSize, Chunk: b.Chunk, Chunks: b.Chunks}
	// Trim to the steps that hold a real step of one of these sequences,
	// keeping the batch's alignment (right padding keeps the start, left
	// padding the end).
	first, last := b.T, -1
	for i := from; i < to; i++ {
		for t := 0; t < b.T; t++ {
			if b.Mask[i*b.T+t] != 0 {
				first, last = min(first, t), max(last, t)
			}
		}
	}
	if last < 0 {
		first, last = 0, b.T-1
	}
	s.T = last - first + 1
	for i := from; i < to; i++ {
		row := i*b.T + first
		s.X = append(s.X, b.X[row*b.F:(row+s.T)*b.F]...)
		s.Mask = append(s.Mask, b.Mask[row:row+s.T]...)
		if b.StepLabels != nil {
			s.StepLabels = append(s.StepLabels, b.StepLabels[row:row+s.T]...)
		}
		if b.StepResponses != nil {
			r := b.ResponseSize
			s.StepResponses = append(s.StepResponses, b.StepResponses[row*r:(row+s.T)*r]...)
		}
	}
	if b.Lengths != nil {
		s.Lengths = append(s.Lengths, b.Lengths[from:to]...)
	}
	if b.Indices != nil {
		s.Indices = append(s.Indices, b.Indices[from:to]...)
	}
	if b.Labels != nil {
		s.Labels = append(s.Labels, b.Labels[from:to]...)
	}
	if b.Responses != nil {
		r := b.ResponseSize
		s.Responses = append(s.Responses, b.Responses[from*r:to*r]...)
	}
	if b.Ends != nil {
		s.Ends = append(s.Ends, b.Ends[from:to]...)
	}
	return s
}
