package graph

import (
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
)

// Stream is the recurrent state of one caller's stateful prediction,
// MATLAB's predictAndUpdateState: each call runs from the state the
// previous one ended in and keeps the state it ends in, so that feeding a
// long series in pieces, or one timestep at a time, gives what feeding it
// whole gives. A new stream, and one after Reset, starts from zeros. The
// state is per sequence: every call brings the same number of sequences,
// in the same order (the first call sets it); padding is allowed and exact.
//
// A stream belongs to its caller, who holds as many as it has series to
// follow; one stream serves one goroutine at a time. Networks whose layers
// read each sequence whole (bidirectional layers, convolutions or pooling
// over time) cannot keep state: their streams refuse every call.
type Stream struct {
	n *Network
	// mu makes the stream's calls one at a time, should goroutines share
	// it.
	mu    sync.Mutex
	state carry
	// step is the one-timestep batch Step reuses.
	step *dataset.Batch
}

// NewStream returns a stream of stateful prediction on n, from zeros.
func (n *Network) NewStream() *Stream { return &Stream{n: n} }

// Reset forgets the stream's state: the next call starts from zeros, and
// may bring another number of sequences.
func (s *Stream) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = carry{}
}

// Predict runs the network on a mini-batch from the stream's state and
// keeps the state it ends in. It returns each sequence's outputs: one per
// real timestep for a network with an output per timestep, one (after the
// sequence's last real step) otherwise.
func (s *Stream) Predict(b *dataset.Batch) ([][][]float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.predict(b)
}

// predict is Predict with the stream's lock held.
func (s *Stream) predict(b *dataset.Batch) ([][][]float64, error) {
	n := s.n
	if l := n.wholeSequence(); l != nil {
		return nil, errors.Errorf("graph: layer %q reads each sequence whole (a bidirectional layer, a convolution or pooling over time), so the network cannot keep state between calls", l.name)
	}
	if b == nil {
		return nil, errors.New("graph: nil batch")
	}
	if s.state.values != nil && b.B != s.state.batch {
		return nil, errors.Errorf("graph: the stream's state is for batches of %d sequences, this batch has %d: call Reset first (ResetState for the network's own stream)", s.state.batch, b.B)
	}
	// Each call continues the last: the batch is run as a chunk after the
	// previous one (from zeros at first), whatever its own chunk fields say.
	// As in a chunk, a sequence may have no real step in this call: its
	// state is held.
	cont := *b
	cont.Chunk, cont.Chunks, cont.Ends = 1, 2, nil
	s.state.next, s.state.batch = 1, b.B
	// The run feeds the carried state in before it forgets it: its
	// buffers then take the new state, so that a call of one timestep
	// allocates no state.
	kept := s.state.values
	defer n.readWeights()()
	var out [][][]float64
	err := n.infer(&cont, lockedCarry{c: &s.state}, false, func(p *program, _ *dataset.Batch) {
		s.state = carry{batch: b.B, values: p.finalStates(kept)}
		out = stepOutputs(p, b, n.PerStep())
	})
	return out, err
}

// Step runs one timestep for each of the stream's sequences, xs[i] the
// features of sequence i (a call of one argument follows one series), and
// returns each sequence's output after it: the one-step helper of a
// stateful loop, with no batch to build.
func (s *Stream) Step(xs ...[]float64) ([][]float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.n.InputSize()
	if len(xs) == 0 {
		return nil, errors.New("graph: stream step: no sequences")
	}
	if s.step == nil || s.step.B != len(xs) {
		b := len(xs)
		s.step = &dataset.Batch{B: b, T: 1, F: f, X: make([]float64, b*f), Mask: make([]float64, b), Lengths: make([]int, b), Frame: s.n.input.frame}
		for i := range s.step.Mask {
			s.step.Mask[i], s.step.Lengths[i] = 1, 1
		}
	}
	for i, x := range xs {
		if len(x) != f {
			return nil, errors.Errorf("graph: stream step: sequence %d has %d features; the network takes %d", i, len(x), f)
		}
		copy(s.step.X[i*f:], x)
	}
	out, err := s.predict(s.step)
	if err != nil {
		return nil, err
	}
	rows := make([][]float64, len(out))
	for i := range out {
		rows[i] = out[i][0]
	}
	return rows, nil
}

// Classify is Predict for classifiers: it returns the class name of each
// output beside its class probabilities (what sampling from the network
// needs).
func (s *Stream) Classify(b *dataset.Batch) ([][]string, [][][]float64, error) {
	if !s.n.IsClassifier() {
		return nil, nil, errors.New("graph: classifying needs a classifier; use Predict")
	}
	scores, err := s.Predict(b)
	if err != nil {
		return nil, nil, err
	}
	labels := make([][]string, len(scores))
	for i, steps := range scores {
		labels[i] = s.n.classNamesOf(steps)
	}
	return labels, scores, nil
}

// ClassifyStep is Step for classifiers: each sequence's class name and
// class probabilities after the step.
func (s *Stream) ClassifyStep(xs ...[]float64) ([]string, [][]float64, error) {
	if !s.n.IsClassifier() {
		return nil, nil, errors.New("graph: classifying needs a classifier; use Step")
	}
	scores, err := s.Step(xs...)
	if err != nil {
		return nil, nil, err
	}
	return s.n.classNamesOf(scores), scores, nil
}

// stream returns the network's own stream, which PredictAndUpdateState,
// ClassifyAndUpdateState, Forecast and ResetState use.
func (n *Network) stream() *Stream {
	n.ownStreamOnce.Do(func() { n.ownStream = n.NewStream() })
	return n.ownStream
}

// PredictAndUpdateState is MATLAB's predictAndUpdateState on the network's
// own stream (see Stream.Predict); several callers, or goroutines, each
// hold a Stream of their own instead.
func (n *Network) PredictAndUpdateState(b *dataset.Batch) ([][][]float64, error) {
	return n.stream().Predict(b)
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

// ClassifyAndUpdateState is PredictAndUpdateState for classifiers (see
// Stream.Classify).
func (n *Network) ClassifyAndUpdateState(b *dataset.Batch) ([][]string, [][][]float64, error) {
	return n.stream().Classify(b)
}

// ResetState forgets the state of the network's own stream.
func (n *Network) ResetState() { n.stream().Reset() }

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
	return n.stream().Forecast(b, steps)
}

// Forecast is Network.Forecast on the stream.
func (s *Stream) Forecast(b *dataset.Batch, steps int) ([][][]float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	if !n.PerStep() || n.IsClassifier() || n.OutputSize() != n.InputSize() {
		return nil, errors.Errorf("graph: forecast needs a sequence-to-sequence regression network whose %d outputs are its %d inputs", n.OutputSize(), n.InputSize())
	}
	if steps < 1 {
		return nil, errors.Errorf("graph: forecast of %d steps; want at least 1", steps)
	}
	if b != nil {
		// The stream would run b as a later chunk, in which a sequence may
		// have no real step: the forecast would have no output to start from.
		for i, l := range b.Lengths {
			if l == 0 {
				return nil, errors.Errorf("graph: forecast: %s has no real timestep to forecast from", where(b, i))
			}
		}
	}
	out, err := s.predict(b)
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
		p, err := s.predict(next)
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
