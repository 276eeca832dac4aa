package graph

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// piece returns timesteps [from, to) of every sequence of a padded batch as
// a batch of its own.
func piece(b *dataset.Batch, from, to int) *dataset.Batch {
	p := &dataset.Batch{B: b.B, T: to - from, F: b.F, Lengths: make([]int, b.B), Direction: b.Direction}
	for s := 0; s < b.B; s++ {
		p.X = append(p.X, b.X[(s*b.T+from)*b.F:(s*b.T+to)*b.F]...)
		p.Mask = append(p.Mask, b.Mask[s*b.T+from:s*b.T+to]...)
		for _, m := range b.Mask[s*b.T+from : s*b.T+to] {
			p.Lengths[s] += int(m)
		}
	}
	return p
}

// TestStatefulPredictionEqualsWhole: feeding series in pieces, or one
// timestep at a time, with PredictAndUpdateState gives what feeding them
// whole gives, to 1e-12 in float64.
func TestStatefulPredictionEqualsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 3, 2, 9, 12))
	if err != nil {
		t.Fatal(err)
	}
	for name, layers := range map[string][]Layer{
		"steps": {SequenceInput(2), LSTM(4), GRU(3), FullyConnected(2), RegressionOutput()},
		"last":  {SequenceInput(2), GRU(3), LSTM(4, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()},
	} {
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			t.Run(name+"/"+dir.String(), func(t *testing.T) {
				net, err := NewNetwork(layers, WithDtype(tensor.Float64))
				if err != nil {
					t.Fatal(err)
				}
				whole, _ := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0.6))
				want, err := net.PredictAndUpdateState(whole)
				if err != nil {
					t.Fatal(err)
				}
				for _, cuts := range [][]int{{0, 4, 5, whole.T}, stepCuts(whole.T)} {
					net.ResetState()
					got := make([][][]float64, whole.B)
					for i := 1; i < len(cuts); i++ {
						out, err := net.PredictAndUpdateState(piece(whole, cuts[i-1], cuts[i]))
						if err != nil {
							t.Fatal(err)
						}
						for s := range out {
							if net.PerStep() {
								got[s] = append(got[s], out[s]...)
							} else if len(out[s]) > 0 {
								got[s] = out[s] // the output after the last piece counts
							}
						}
					}
					for s := range want {
						if len(got[s]) != len(want[s]) {
							t.Fatalf("cuts %v: sequence %d: %d outputs in pieces, %d whole", cuts, s, len(got[s]), len(want[s]))
						}
						for i := range want[s] {
							for j := range want[s][i] {
								if !closeTo(got[s][i][j], want[s][i][j], 1e-12) {
									t.Fatalf("cuts %v: sequence %d output %d: %v in pieces, %v whole", cuts, s, i, got[s][i], want[s][i])
								}
							}
						}
					}
				}
				if _, err := net.PredictAndUpdateState(piece(whole, 0, 2)); err != nil {
					t.Fatal(err)
				}
				one, _ := dataset.MakeBatch(src, []int{0})
				if _, err := net.PredictAndUpdateState(one); err == nil || !strings.Contains(err.Error(), "ResetState") {
					t.Errorf("a batch of another size: %v", err)
				}
			})
		}
	}
	bi, _ := NewNetwork([]Layer{SequenceInput(2), BiLSTM(2), FullyConnected(1), RegressionOutput()})
	b, _ := dataset.MakeBatch(src, []int{0})
	if _, err := bi.PredictAndUpdateState(b); err == nil || !strings.Contains(err.Error(), "bidirectional") {
		t.Errorf("stateful prediction with a BiLSTM: %v", err)
	}
}

func stepCuts(n int) []int {
	cuts := make([]int, n+1)
	for i := range cuts {
		cuts[i] = i
	}
	return cuts
}

// TestForecastIsMATLABsClosedLoop checks Forecast against MATLAB's closed
// loop ("Time Series Forecasting Using Deep Learning"), written out:
//
//	net = resetState(net);
//	[net, Z] = predictAndUpdateState(net, X);      % X = x(1..n)
//	Y(:,1) = Z(:,end);                             % the forecast of x(n+1)
//	for t = 2:k
//	    [net, Y(:,t)] = predictAndUpdateState(net, Y(:,t-1));
//	end
//
// so that Y(:,j) is the network's output after reading x(1..n) followed by
// Y(:,1..j-1). The expected values are computed by stateless whole-sequence
// prediction (PredictStepsBatch on the history with the forecasts so far
// appended), not by the stateful path Forecast uses; the histories have
// different lengths and are padded on either side.
func TestForecastIsMATLABsClosedLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	seqs := randomSequences(t, rng, 2, 2, 3, 6)
	src, _ := dataset.NewUnlabeled(seqs)
	net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(5), FullyConnected(2), RegressionOutput()}, WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	const k = 4
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		b, _ := dataset.MakeBatch(src, []int{0, 1}, dataset.WithPaddingDirection(dir))
		net.ResetState()
		got, err := net.Forecast(b, k)
		if err != nil {
			t.Fatal(err)
		}
		for s, seq := range seqs {
			rows := make([][]float64, seq.T)
			for i := range rows {
				rows[i] = seq.Row(i)
			}
			if len(got[s]) != k {
				t.Fatalf("%v: sequence %d: %d forecasts, want %d", dir, s, len(got[s]), k)
			}
			for j := 0; j < k; j++ {
				whole, _ := dataset.NewSequence(rows)
				one, _ := dataset.NewUnlabeled([]dataset.Sequence{whole})
				wb, _ := dataset.MakeBatch(one, []int{0})
				out, err := net.PredictStepsBatch(wb)
				if err != nil {
					t.Fatal(err)
				}
				want := out[0][len(rows)-1]
				for r := range want {
					if d := math.Abs(got[s][j][r] - want[r]); d > 1e-12 {
						t.Fatalf("%v: sequence %d, forecast %d (x(n+%d)): %v, MATLAB's definition gives %v", dir, s, j+1, j+1, got[s][j], want)
					}
				}
				rows = append(rows, want)
			}
		}
	}
	b, _ := dataset.MakeBatch(src, []int{0, 1})
	cls, _ := NewNetwork([]Layer{SequenceInput(2), LSTM(5), FullyConnected(2), Softmax(), ClassificationOutput()})
	if _, err := cls.Forecast(b, 3); err == nil {
		t.Error("forecasting with a classifier gave no error")
	}
	if _, err := net.Forecast(b, 0); err == nil {
		t.Error("a forecast of 0 steps gave no error")
	}
	// A stream runs a batch as a later chunk, in which a sequence may have
	// no real step; a forecast of it has no last output to start from.
	empty := b.Clone()
	clear(empty.Mask[:empty.T])
	empty.Lengths[0] = 0
	net.ResetState()
	if _, err := net.Forecast(empty, 2); err == nil || !strings.Contains(err.Error(), "sequence 0 of the batch (observation 0) has no real timestep") {
		t.Errorf("forecast from a sequence without timesteps: error %v", err)
	}
}

// trainingData returns a classification set whose class is whether the
// first feature trends up, and a validation set like it.
func trainingData(t *testing.T, n int, seed uint64) *dataset.InMemory {
	rng := rand.New(rand.NewPCG(seed, 1))
	seqs := make([]dataset.Sequence, n)
	labels := make([]int, n)
	for i := range seqs {
		labels[i] = i % 2
		slope := 0.3
		if labels[i] == 0 {
			slope = -0.3
		}
		rows := make([][]float64, 4+rng.IntN(6))
		for j := range rows {
			rows[j] = []float64{slope*float64(j) + 0.4*rng.NormFloat64(), rng.NormFloat64()}
		}
		seqs[i], _ = dataset.NewSequence(rows)
	}
	src, err := dataset.NewClassification(seqs, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func smallClassifier(t *testing.T, seed uint64) *Network {
	net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(8, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()},
		WithSeed(seed), WithClassNames([]string{"down", "up"}))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func TestTrainLearnsAndRecordsHistory(t *testing.T) {
	train, val := trainingData(t, 96, 1), trainingData(t, 40, 2)
	var out bytes.Buffer
	net, hist, err := Train(context.Background(), smallClassifier(t, 1), train,
		WithSolver("adam"), WithInitialLearnRate(0.01), WithMaxEpochs(8), WithMiniBatchSize(16),
		WithPiecewiseLearnRate(0.5, 3), WithValidationData(val), WithValidationFrequency(10),
		WithShuffle(dataset.ShuffleEveryEpoch), WithProgressOutput(&out))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(hist.Iterations); n != 8*6 {
		t.Fatalf("%d iterations, want 8 epochs of 6", n)
	}
	for _, r := range hist.Iterations {
		want := 0.01 * math.Pow(0.5, float64((r.Epoch-1)/3))
		if math.Abs(r.LearnRate-want) > 1e-15 || math.IsNaN(r.Accuracy) || !math.IsNaN(r.RMSE) {
			t.Fatalf("iteration %d of epoch %d: learn rate %v (want %v), accuracy %v, RMSE %v", r.Iteration, r.Epoch, r.LearnRate, want, r.Accuracy, r.RMSE)
		}
	}
	if len(hist.Validations) != 5 || hist.Validations[4].Iteration != 48 { // at 10, 20, 30, 40 and the end
		t.Errorf("validations at %v", hist.Validations)
	}
	if first, last := hist.Validations[0], hist.Validations[len(hist.Validations)-1]; !(last.Accuracy > 85 && last.Loss < first.Loss) {
		t.Errorf("validation went from %+v to %+v", first, last)
	}
	if hist.Stop != "max epochs" || hist.BestIteration != 48 {
		t.Errorf("stop %q at iteration %d", hist.Stop, hist.BestIteration)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 1+8 {
		t.Errorf("progress has %d lines, want a header and one per epoch:\n%s", lines, out.String())
	}
	labels, _, err := net.Classify(val, 8)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, l := range labels {
		if (l == "up") == (val.Label(i) == 1) {
			right++
		}
	}
	if right < 34 {
		t.Errorf("classified %d of 40 validation sequences right", right)
	}
}

func TestTrainStopsEarlyWithTheBestWeights(t *testing.T) {
	// A validation set with the opposite labels: the better the network
	// learns, the worse the validation loss, so patience runs out.
	train, val := trainingData(t, 64, 1), trainingData(t, 32, 2)
	flipped := make([]int, val.Len())
	seqs := make([]dataset.Sequence, val.Len())
	for i := range flipped {
		flipped[i], seqs[i] = 1-val.Label(i), val.Sequence(i)
	}
	bad, _ := dataset.NewClassification(seqs, flipped, 2)
	net, hist, err := Train(context.Background(), smallClassifier(t, 3), train,
		WithSolver("adam"), WithInitialLearnRate(0.02), WithMaxEpochs(30), WithMiniBatchSize(16),
		WithValidationData(bad), WithValidationFrequency(2), WithValidationPatience(3), WithVerbose(false))
	if err != nil {
		t.Fatal(err)
	}
	if hist.Stop != "validation patience" {
		t.Fatalf("stopped by %q after %d iterations", hist.Stop, len(hist.Iterations))
	}
	best := hist.Validations[0]
	for _, v := range hist.Validations {
		if v.Loss < best.Loss {
			best = v
		}
	}
	if hist.BestIteration != best.Iteration {
		t.Errorf("best iteration %d, lowest validation loss at %d", hist.BestIteration, best.Iteration)
	}
	loss, _, _, err := net.evaluate(bad, 16, dataset.PadRight, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !closeTo(loss, best.Loss, 1e-12) {
		t.Errorf("the returned network has validation loss %v, the best was %v", loss, best.Loss)
	}
}

func TestTrainIsReproducibleAndCancellable(t *testing.T) {
	data := trainingData(t, 48, 5)
	run := func() map[string][]float64 {
		net, _, err := Train(context.Background(), smallClassifier(t, 7), data,
			WithSolver("rmsprop"), WithMaxEpochs(3), WithMiniBatchSize(8), WithShuffle(dataset.ShuffleEveryEpoch),
			WithTrainSeed(9), WithGradientThreshold(optim.GlobalL2Norm, 1), WithVerbose(false))
		if err != nil {
			t.Fatal(err)
		}
		w := map[string][]float64{}
		for _, name := range net.Learnables() {
			w[name], _ = net.Learnable(name)
		}
		return w
	}
	a, b := run(), run()
	// Two workers give the serial result up to rounding.
	net, _, err := Train(context.Background(), smallClassifier(t, 7), data,
		WithSolver("rmsprop"), WithMaxEpochs(3), WithMiniBatchSize(8), WithShuffle(dataset.ShuffleEveryEpoch),
		WithTrainSeed(9), WithGradientThreshold(optim.GlobalL2Norm, 1), WithVerbose(false), WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	for name := range a {
		p, _ := net.Learnable(name)
		for i := range p {
			if math.Abs(p[i]-a[name][i]) > 1e-4 {
				t.Fatalf("%s[%d]: %v with two workers, %v serially", name, i, p[i], a[name][i])
			}
		}
	}
	for name := range a {
		for i := range a[name] {
			if math.Float64bits(a[name][i]) != math.Float64bits(b[name][i]) {
				t.Fatalf("%s[%d]: %v and %v from one seed", name, i, a[name][i], b[name][i])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, hist, err := Train(ctx, smallClassifier(t, 7), data, WithVerbose(false))
	if err != context.Canceled || hist.Stop != "canceled" || len(hist.Iterations) != 0 {
		t.Errorf("canceled training: error %v, stop %q, %d iterations", err, hist.Stop, len(hist.Iterations))
	}
}

func TestTrainOptionsAreChecked(t *testing.T) {
	data := trainingData(t, 8, 1)
	for _, opts := range [][]TrainOption{
		{WithSolver("lbfgs")},
		{WithMaxEpochs(0)},
		{WithMiniBatchSize(-1)},
		{WithInitialLearnRate(math.NaN())},
		{WithPiecewiseLearnRate(2, 1)},
		{WithValidationPatience(0)},
		{WithSolver("sgdm"), WithSolverOptions(optim.WithBetas(0.9, 0.99))},
		{nil},
	} {
		if _, _, err := Train(context.Background(), smallClassifier(t, 1), data, append(opts, WithVerbose(false))...); err == nil {
			t.Errorf("options %d: no error", len(opts))
		}
	}
}

// TestStreamsAreIndependent: two streams on one network follow two series
// each from its own state, Step by Step, and give what predicting each
// series whole gives (MATLAB's predictAndUpdateState, one timestep at a
// time, equals predict on the whole sequence); a third stream that follows
// both at once gives the same again.
func TestStreamsAreIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	seqs := randomSequences(t, rng, 2, 2, 5, 5)
	src, _ := dataset.NewUnlabeled(seqs)
	net, err := NewNetwork([]Layer{SequenceInput(2), GRU(4), FullyConnected(3), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := net.PredictSteps(src, 2)
	if err != nil {
		t.Fatal(err)
	}
	a, b, both := net.NewStream(), net.NewStream(), net.NewStream()
	for step := 0; step < 5; step++ {
		ya, err := a.Step(seqs[0].Row(step))
		if err != nil {
			t.Fatal(err)
		}
		names, yb, err := b.ClassifyStep(seqs[1].Row(step))
		if err != nil {
			t.Fatal(err)
		}
		y2, err := both.Step(seqs[0].Row(step), seqs[1].Row(step))
		if err != nil {
			t.Fatal(err)
		}
		for s, got := range [][]float64{ya[0], yb[0], y2[0], y2[1]} {
			want := whole[s%2][step]
			for k := range want {
				if math.Abs(got[k]-want[k]) > 1e-12 {
					t.Fatalf("step %d, output %d: %v, predicting the series whole %v", step, s, got, want)
				}
			}
		}
		if names[0] != net.ClassNames()[argmax(yb[0])] {
			t.Errorf("step %d: class %q for %v", step, names[0], yb[0])
		}
	}
	if _, err := a.Step(seqs[0].Row(0), seqs[1].Row(0)); err == nil {
		t.Error("a stream of one sequence took two without a reset")
	}
	a.Reset()
	if _, err := a.Step([]float64{1}); err == nil || !strings.Contains(err.Error(), "1 features; the network takes 2") {
		t.Errorf("a step of the wrong size: %v", err)
	}
}
