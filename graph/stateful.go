package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
)

// PredictAndUpdateState runs the network on a mini-batch starting from the
// recurrent state that the previous call ended in, and keeps the state it
// ends in: feeding a long series in pieces, or one timestep at a time,
// gives what feeding it whole gives (MATLAB's predictAndUpdateState). The
// first call, and the first after ResetState, starts from zeros.
//
// It returns each sequence's outputs: one per real timestep for a
// sequence-to-sequence network, one (after the sequence's last real step)
// otherwise. The state is per sequence of the batch, so every call must
// bring the same number of sequences, in the same order; padding is
// allowed and exact.
func (n *Network) PredictAndUpdateState(b *dataset.Batch) ([][][]float64, error) {
	if l := n.wholeSequence(); l != nil {
		return nil, errors.Errorf("graph: layer %q reads each sequence whole (a bidirectional layer, a convolution or pooling over time), so the network cannot keep state between calls", l.name)
	}
	if b == nil {
		return nil, errors.New("graph: nil batch")
	}
	if n.stateful.values != nil && b.B != n.stateful.batch {
		return nil, errors.Errorf("graph: the network's state is for batches of %d sequences, this batch has %d: call ResetState first", n.stateful.batch, b.B)
	}
	// Each call continues the last: the batch is run as a chunk after the
	// previous one (from zeros at first), whatever its own chunk fields say.
	// As in a chunk, a sequence may have no real step in this call: its
	// state is held.
	cont := *b
	cont.Chunk, cont.Chunks, cont.Ends = 1, 2, nil
	n.stateful.next, n.stateful.batch = 1, b.B
	// The run feeds the carried state in before it forgets it: its
	// buffers then take the new state, so that a call of one timestep
	// allocates no state.
	kept := n.stateful.values
	p, err := n.runInference(&cont, &n.stateful)
	if err != nil {
		return nil, err
	}
	n.stateful = carry{batch: b.B, values: p.finalStates(kept)}
	return stepOutputs(p, b, n.PerStep()), nil
}

// stepOutputs returns the outputs of p's last run on b as
// PredictAndUpdateState does: per sequence, one per real timestep with
// perStep, the one output otherwise. The rows share one backing array (each
// capped at its own end) and the per-sequence lists another.
func stepOutputs(p *program, b *dataset.Batch, perStep bool) [][][]float64 {
	steps := len(p.outVals)
	out := make([][][]float64, b.B)
	if steps == 0 {
		return out
	}
	k := p.outVals[0].Shape()[1]
	flat := make([]float64, 0, b.B*steps*k)
	lists := make([][]float64, b.B*steps)
	for s := range out {
		out[s] = lists[s*steps : s*steps : (s+1)*steps]
	}
	for t, v := range p.outVals {
		start := len(flat)
		flat = appendFloat64s(flat, v.(*tensor.Dense))
		vals := flat[start:]
		for s := range out {
			if !perStep || b.Mask[s*b.T+t] != 0 {
				out[s] = append(out[s], vals[s*k:(s+1)*k:(s+1)*k])
			}
		}
	}
	for s := range out {
		if len(out[s]) == 0 {
			out[s] = nil
		}
	}
	return out
}

// ClassifyAndUpdateState is PredictAndUpdateState for classifiers: it
// returns the class name of each output beside its class probabilities
// (what sampling from the network needs).
func (n *Network) ClassifyAndUpdateState(b *dataset.Batch) ([][]string, [][][]float64, error) {
	if !n.IsClassifier() {
		return nil, nil, errors.New("graph: ClassifyAndUpdateState needs a classifier; use PredictAndUpdateState")
	}
	scores, err := n.PredictAndUpdateState(b)
	if err != nil {
		return nil, nil, err
	}
	labels := make([][]string, len(scores))
	for s, steps := range scores {
		labels[s] = n.classNamesOf(steps)
	}
	return labels, scores, nil
}

// ResetState forgets the state that PredictAndUpdateState keeps.
func (n *Network) ResetState() { n.stateful = carry{} }

// Forecast predicts a sequence-to-sequence regression network's next steps
// in closed loop, as MATLAB's "Time Series Forecasting Using Deep Learning"
// does: it runs b, the history x(1..n) of each sequence, with
// PredictAndUpdateState, whose output after each sequence's last real step
// is the forecast of x(n+1); then it feeds each forecast back as the next
// input, steps-1 times, for x(n+2) ... x(n+steps):
//
//	[net, Z] = predictAndUpdateState(net, X);   Y(:,1) = Z(:,end);
//	for t = 2:steps, [net, Y(:,t)] = predictAndUpdateState(net, Y(:,t-1)); end
//
// The network's outputs must be its inputs (as many responses as features).
// It returns each sequence's steps forecasts, and leaves the state after the
// history and the first steps-1 forecasts. Like PredictAndUpdateState it
// continues from the state the last call left: call ResetState first to
// start from zeros, as MATLAB's example does.
func (n *Network) Forecast(b *dataset.Batch, steps int) ([][][]float64, error) {
	if !n.PerStep() || n.IsClassifier() || n.OutputSize() != n.InputSize() {
		return nil, errors.Errorf("graph: forecast needs a sequence-to-sequence regression network whose %d outputs are its %d inputs", n.OutputSize(), n.InputSize())
	}
	if steps < 1 {
		return nil, errors.Errorf("graph: forecast of %d steps; want at least 1", steps)
	}
	out, err := n.PredictAndUpdateState(b)
	if err != nil {
		return nil, err
	}
	f := n.InputSize()
	next := &dataset.Batch{B: b.B, T: 1, F: f, X: make([]float64, b.B*f), Mask: make([]float64, b.B), Lengths: make([]int, b.B)}
	forecast := make([][][]float64, b.B)
	for s := range next.Mask {
		next.Mask[s], next.Lengths[s] = 1, 1
		y := out[s][len(out[s])-1]
		forecast[s] = append(forecast[s], y)
		copy(next.X[s*f:], y)
	}
	for i := 1; i < steps; i++ {
		p, err := n.PredictAndUpdateState(next)
		if err != nil {
			return nil, errors.Wrapf(err, "graph: forecast step %d", i+1)
		}
		for s := range p {
			y := p[s][0]
			forecast[s] = append(forecast[s], y)
			copy(next.X[s*f:], y)
		}
	}
	return forecast, nil
}

// Classify returns the class name and the class probabilities of every
// observation of src, predicted in mini-batches of batchSize padded as
// opts say. For a classifier with a label per timestep, use ClassifySteps.
func (n *Network) Classify(src dataset.Source, batchSize int, opts ...dataset.BatchOption) ([]string, [][]float64, error) {
	if !n.IsClassifier() || n.PerStep() {
		return nil, nil, errors.New("graph: Classify needs a classifier with one output per sequence (for one per timestep, use ClassifySteps)")
	}
	scores, err := n.Predict(src, batchSize, opts...)
	if err != nil {
		return nil, nil, err
	}
	return n.classNamesOf(scores), scores, nil
}

// ClassifySteps returns, for every observation of src, the class name and
// the class probabilities at each of its real timesteps (MATLAB's classify
// on a sequence-to-sequence classifier): labels[i][t] and scores[i][t] are
// those of the t-th real timestep of observation i.
func (n *Network) ClassifySteps(src dataset.Source, batchSize int, opts ...dataset.BatchOption) ([][]string, [][][]float64, error) {
	if !n.IsClassifier() || !n.PerStep() {
		return nil, nil, errors.New("graph: ClassifySteps needs a classifier with one output per timestep (for one per sequence, use Classify)")
	}
	scores, err := n.PredictSteps(src, batchSize, opts...)
	if err != nil {
		return nil, nil, err
	}
	labels := make([][]string, len(scores))
	for i, steps := range scores {
		labels[i] = n.classNamesOf(steps)
	}
	return labels, scores, nil
}

// classNamesOf returns the name of the most probable class of each row.
func (n *Network) classNamesOf(scores [][]float64) []string {
	labels := make([]string, len(scores))
	for i, s := range scores {
		labels[i] = n.classNames[argmax(s)]
	}
	return labels
}
