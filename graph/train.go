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
	if solver == nil {
		return 0, errors.New("graph: train step: nil solver")
	}
	if err := n.checkBatch(b, true); err != nil {
		return 0, err
	}
	p, err := n.program(programKey{batch: b.B, steps: b.T, train: true, masked: b.Padded()})
	if err != nil {
		return 0, err
	}
	p.feed(b, true)
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		p.zeroGrads()
		return 0, errors.Wrapf(err, "graph: train step on the %v", p.key)
	}
	loss := scalar(p.lossVal)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		p.zeroGrads()
		return loss, errors.Errorf("graph: train step: the loss is %v: training diverged (lower the learning rate or clip the gradients)", loss)
	}
	if err := solver.Step(p.valueGrads); err != nil {
		p.zeroGrads()
		return loss, errors.Wrap(err, "graph: train step: solver")
	}
	return loss, nil
}

// PredictBatch returns the network's output for each sequence of a
// mini-batch: class probabilities for a classifier, responses for a
// regression network. It computes no gradients and applies no dropout.
func (n *Network) PredictBatch(b *dataset.Batch) ([][]float64, error) {
	if err := n.checkBatch(b, false); err != nil {
		return nil, err
	}
	p, err := n.program(programKey{batch: b.B, steps: b.T, masked: b.Padded()})
	if err != nil {
		return nil, err
	}
	p.feed(b, false)
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		return nil, errors.Wrapf(err, "graph: predicting on the %v", p.key)
	}
	return rows(p.outVal), nil
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
	p, err := n.program(programKey{batch: b.B, steps: b.T, masked: b.Padded(), observed: true})
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, ok := p.observed[name]; !ok {
			return nil, errors.Errorf("graph: activations: no node %q in the network (nodes are called like %s)", name, exampleNames(p.observed))
		}
	}
	p.feed(b, false)
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		return nil, errors.Wrapf(err, "graph: activations on the %v", p.key)
	}
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
	if src == nil || src.Len() == 0 {
		return nil, errors.New("graph: predict: no observations")
	}
	if batchSize <= 0 {
		return nil, errors.Errorf("graph: predict: mini-batch size %d; want at least 1", batchSize)
	}
	out := make([][]float64, 0, src.Len())
	idx := make([]int, 0, batchSize)
	for start := 0; start < src.Len(); start += batchSize {
		idx = idx[:0]
		for i := start; i < start+batchSize && i < src.Len(); i++ {
			idx = append(idx, i)
		}
		b, err := dataset.MakeBatch(src, idx, opts...)
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
		if real == 0 {
			return errors.Errorf("graph: %s is empty", seq(s))
		}
	}
	if !withTargets {
		return nil
	}
	k := n.OutputSize()
	if n.IsClassifier() {
		if len(b.Labels) != b.B {
			return errors.Errorf("graph: the batch has %d labels for %d sequences (a classifier trains on labelled sequences)", len(b.Labels), b.B)
		}
		for s, l := range b.Labels {
			if l < 0 || l >= k {
				return errors.Errorf("graph: %s: label %d is outside the network's %d classes [0, %d)", seq(s), l, k, k)
			}
		}
		return nil
	}
	if b.ResponseSize != k || len(b.Responses) != b.B*k {
		return errors.Errorf("graph: the batch has %d responses of size %d; the network predicts %d per sequence",
			len(b.Responses), b.ResponseSize, k)
	}
	for i, v := range b.Responses {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Errorf("graph: %s: response %d is %v", seq(i/k), i%k, v)
		}
	}
	return nil
}
