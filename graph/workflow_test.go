package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestTrainPerStepOnBucketedGraph trains sequence-to-sequence networks
// through Train with the default options, where step buckets pad a batch
// of 5 steps to a graph of 8: the mini-batch metrics must read the batch
// that ran (8 steps), not the one Train was given (5). The reproductions of
// a crash in the metrics: one per-step regression sequence of 5 steps, and
// 4 per-step classification sequences of 5 steps with 2 classes.
func TestTrainPerStepOnBucketedGraph(t *testing.T) {
	rows := [][]float64{{1}, {2}, {3}, {4}, {5}}
	x, err := dataset.NewSequence(rows)
	if err != nil {
		t.Fatal(err)
	}
	regression, err := dataset.NewStepRegression([]dataset.Sequence{x}, []dataset.Sequence{x})
	if err != nil {
		t.Fatal(err)
	}
	labels := [][]int{{0, 1, 0, 1, 0}, {1, 1, 0, 0, 1}, {0, 0, 0, 1, 1}, {1, 0, 1, 0, 1}}
	classification, err := dataset.NewStepClassification([]dataset.Sequence{x, x, x, x}, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data   dataset.Source
		layers []Layer
	}{
		"regression":     {regression, []Layer{SequenceInput(1), LSTM(4), FullyConnected(1), RegressionOutput()}},
		"classification": {classification, []Layer{SequenceInput(1), LSTM(4), FullyConnected(2), Softmax(), ClassificationOutput()}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			net, err := NewNetwork(c.layers)
			if err != nil {
				t.Fatal(err)
			}
			if !net.stepBuckets {
				t.Fatal("step buckets are off: the case would not pad to a bucket")
			}
			_, h, err := Train(context.Background(), net, c.data, WithVerbose(false), WithMaxEpochs(2))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range h.Iterations {
				if net.IsClassifier() && !(r.Accuracy >= 0 && r.Accuracy <= 100) || !net.IsClassifier() && !(r.RMSE >= 0) {
					t.Errorf("iteration %d: accuracy %v, RMSE %v", r.Iteration, r.Accuracy, r.RMSE)
				}
			}
		})
	}
}

// workflowTask is one kind of task of the workflow matrix: its layers, its
// data and how Train splits it.
type workflowTask struct {
	name    string
	layers  func(f int) []Layer
	data    func(t *testing.T, lengths []int, dt tensor.Dtype) dataset.Source
	seqLen  dataset.SequenceLength
	perStep bool
}

// workflowFrame is the frame shape of the video task.
var workflowFrame = dataset.FrameShape{C: 1, H: 4, W: 4}

func workflowTasks() []workflowTask {
	const k, h = 3, 5
	classifier := func(rec ...Layer) func(int) []Layer {
		return func(f int) []Layer {
			return append(append([]Layer{SequenceInput(f)}, rec...), FullyConnected(k), Softmax(), ClassificationOutput())
		}
	}
	regressor := func(r int, rec ...Layer) func(int) []Layer {
		return func(f int) []Layer {
			return append(append([]Layer{SequenceInput(f)}, rec...), FullyConnected(r), RegressionOutput())
		}
	}
	video := func(int) []Layer {
		return []Layer{
			ImageSequenceInput(workflowFrame.H, workflowFrame.W, workflowFrame.C), SequenceFolding(),
			Convolution2D(3, 3, 2, WithSamePadding()), BatchNormalization(), ReLU(), SequenceUnfolding(), Flatten(),
			LSTM(h, WithOutputMode(rnn.Last)), FullyConnected(k), Softmax(), ClassificationOutput(),
		}
	}
	return []workflowTask{
		{name: "sequence-to-label", layers: classifier(LSTM(h, WithOutputMode(rnn.Last))), data: labelData(k, false)},
		{name: "bilstm-last", layers: classifier(BiLSTM(h, WithOutputMode(rnn.Last))), data: labelData(k, false)},
		{name: "sequence-to-one", layers: regressor(1, GRU(h, WithOutputMode(rnn.Last))), data: oneData},
		{name: "per-step-classification", layers: classifier(LSTM(h)), data: stepLabelData(k), perStep: true},
		{name: "per-step-regression", layers: regressor(2, LSTM(h)), data: stepResponseData, perStep: true},
		{name: "video", layers: video, data: labelData(k, true)},
		{name: "chunked-label", layers: classifier(LSTM(h, WithOutputMode(rnn.Last))), data: labelData(k, false), seqLen: 3},
		{name: "chunked-steps", layers: regressor(2, LSTM(h)), data: stepResponseData, seqLen: 3, perStep: true},
		// MATLAB's "Sequence Classification Using 1-D Convolutions".
		{name: "conv1d", layers: classifier(Convolution1D(3, 4, WithCausalPadding()), ReLU(), LayerNormalization(),
			Convolution1D(2, 4, WithCausalPadding(), WithDilation(2)), ReLU(), GlobalAveragePooling1D()), data: labelData(k, false)},
		{name: "pooling", layers: classifier(MaxPooling1D(2, WithStride(2), WithSamePadding()), LSTM(h, WithOutputMode(rnn.Last))), data: labelData(k, false)},
		{name: "per-step-conv1d", layers: regressor(2, Convolution1D(3, 4, WithSamePadding()), AveragePooling1D(2, WithCausalPadding()), LSTM(h)),
			data: stepResponseData, perStep: true},
		// Folded timesteps from the convolution through ReLU and the fully
		// connected layer to the output, unfolded only there.
		{name: "per-step-conv1d-folded", layers: regressor(2, Convolution1D(3, 4, WithCausalPadding()), ReLU(), Dropout(0.1)),
			data: stepResponseData, perStep: true},
		{name: "word-embedding", layers: classifier(WordEmbedding(3, 7), LSTM(h, WithOutputMode(rnn.Last))), data: tokenData(k, 7)},
		{name: "word-embedding-pooled", layers: classifier(WordEmbedding(3, 7), GlobalMaxPooling1D()), data: tokenData(k, 7)},
	}
}

// workflowSequences returns one sequence per length, of f features drawn
// around means[i].
func workflowSequences(t *testing.T, lengths []int, f int, means []float64) []dataset.Sequence {
	rng := rand.New(rand.NewPCG(uint64(len(lengths)), uint64(f)))
	seqs := make([]dataset.Sequence, len(lengths))
	for i, l := range lengths {
		rows := make([][]float64, l)
		for j := range rows {
			rows[j] = make([]float64, f)
			for c := range rows[j] {
				rows[j][c] = means[i] + 0.5*rng.NormFloat64()
			}
		}
		var err error
		if seqs[i], err = dataset.NewSequence(rows); err != nil {
			t.Fatal(err)
		}
	}
	return seqs
}

// labelData: sequence i has class i%k and features around its class.
func labelData(k int, video bool) func(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
	return func(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
		labels, means := make([]int, len(lengths)), make([]float64, len(lengths))
		for i := range labels {
			labels[i] = i % k
			means[i] = float64(labels[i]) - 1
		}
		f, opts := 2, []dataset.SetOption(nil)
		if video {
			f, opts = workflowFrame.Size(), []dataset.SetOption{dataset.WithFrame(workflowFrame)}
		}
		src, err := dataset.NewClassification(workflowSequences(t, lengths, f, means), labels, k, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

// tokenData: sequence i has class i%k and token indices in [1, vocabulary)
// that lean towards its class.
func tokenData(k, vocabulary int) func(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
	return func(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
		rng := rand.New(rand.NewPCG(uint64(len(lengths)), 9))
		seqs, labels := make([]dataset.Sequence, len(lengths)), make([]int, len(lengths))
		for i, l := range lengths {
			labels[i] = i % k
			rows := make([][]float64, l)
			for j := range rows {
				rows[j] = []float64{float64(1 + (2*labels[i]+rng.IntN(2))%(vocabulary-1))}
			}
			var err error
			if seqs[i], err = dataset.NewSequence(rows); err != nil {
				t.Fatal(err)
			}
		}
		src, err := dataset.NewClassification(seqs, labels, k)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

// oneData: the response of a sequence is the mean of its first feature.
func oneData(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
	means := make([]float64, len(lengths))
	for i := range means {
		means[i] = float64(i%3) - 1
	}
	seqs := workflowSequences(t, lengths, 2, means)
	responses := make([][]float64, len(seqs))
	for i, s := range seqs {
		var sum float64
		for j := 0; j < s.T; j++ {
			sum += s.At(j, 0)
		}
		responses[i] = []float64{sum / float64(s.T)}
	}
	src, err := dataset.NewRegression(seqs, responses)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// stepLabelData: the label of a timestep says where its first feature lies.
func stepLabelData(k int) func(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
	return func(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
		seqs := workflowSequences(t, lengths, 2, make([]float64, len(lengths)))
		labels := make([][]int, len(seqs))
		for i, s := range seqs {
			for j := 0; j < s.T; j++ {
				labels[i] = append(labels[i], min(k-1, max(0, int(s.At(j, 0)*2+1))))
			}
		}
		src, err := dataset.NewStepClassification(seqs, labels, k)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

// stepResponseData: the responses of a timestep are its features, mixed
// (as many responses as features, so that Forecast applies).
func stepResponseData(t *testing.T, lengths []int, _ tensor.Dtype) dataset.Source {
	seqs := workflowSequences(t, lengths, 2, make([]float64, len(lengths)))
	responses := make([]dataset.Sequence, len(seqs))
	for i, s := range seqs {
		rows := make([][]float64, s.T)
		for j := range rows {
			rows[j] = []float64{0.5*s.At(j, 0) - 0.3*s.At(j, 1), s.At(j, 1)}
		}
		var err error
		if responses[i], err = dataset.NewSequence(rows); err != nil {
			t.Fatal(err)
		}
	}
	src, err := dataset.NewStepRegression(seqs, responses)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestWorkflowMatrix trains every task kind through Train, with step
// buckets on and off, padded on either side, on lengths that are and are
// not powers of two, in both precisions, on one worker and on two (but
// video, whose batch normalization trains on one); then predicts through the entry
// point a user calls (Predict, Classify, PredictSteps, ClassifySteps,
// Forecast). Each case asserts that the network learns (the last epoch's
// mean loss is below the first's), that predictions have the right shapes
// (one row of outputs per sequence, or per real timestep), and that padding
// changes no prediction (each sequence predicted alone, unpadded, gives the
// same outputs as in a padded mini-batch: to 1e-12 in float64, 1e-5 in
// float32).
func TestWorkflowMatrix(t *testing.T) {
	lengthSets := map[string][]int{"odd-lengths": {3, 5, 7, 6, 3, 5}, "power-of-two-lengths": {2, 4, 8, 8, 4, 2}}
	for _, task := range workflowTasks() {
		for lname, lengths := range lengthSets {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				for _, buckets := range []bool{true, false} {
					for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
						for workers := 1; workers <= 2; workers++ {
							if task.name == "video" && workers > 1 {
								continue
							}
							name := fmt.Sprintf("%s/%s/%v/buckets-%t/%v/workers-%d", task.name, lname, dt, buckets, dir, workers)
							t.Run(name, func(t *testing.T) {
								t.Parallel()
								runWorkflow(t, task, task.data(t, lengths, dt), workflowOptions{dt, buckets, dir, workers})
							})
						}
					}
				}
			}
		}
	}
}

// workflowOptions are the options of one case of the workflow matrix.
type workflowOptions struct {
	dt      tensor.Dtype
	buckets bool
	dir     dataset.PaddingDirection
	workers int
}

func runWorkflow(t *testing.T, task workflowTask, data dataset.Source, o workflowOptions) {
	dt, dir := o.dt, o.dir
	net, err := NewNetwork(task.layers(data.Schema().NumFeatures), WithDtype(dt), WithStepBuckets(o.buckets), WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	const epochs = 12
	net, hist, err := Train(context.Background(), net, data, WithVerbose(false), WithSolver("adam"), WithInitialLearnRate(0.05),
		WithMiniBatchSize(3), WithShuffle(dataset.ShuffleNever), WithMaxEpochs(epochs), WithSequencePadding(dir, 0.7),
		WithSequenceLength(task.seqLen), WithWorkers(o.workers), WithValidationData(data), WithValidationFrequency(5))
	if err != nil {
		t.Fatal(err)
	}
	checkValidationLoss(t, net, data, hist, task, o)
	epochLoss := make([]float64, epochs+1)
	for _, r := range hist.Iterations {
		if math.IsNaN(r.Loss) || !net.IsClassifier() && math.IsNaN(r.RMSE) || net.IsClassifier() && math.IsNaN(r.Accuracy) {
			t.Fatalf("iteration %d: loss %v, accuracy %v, RMSE %v", r.Iteration, r.Loss, r.Accuracy, r.RMSE)
		}
		epochLoss[r.Epoch] += r.Loss
	}
	if !(epochLoss[epochs] < epochLoss[1]) {
		t.Errorf("the loss did not fall: %v in the first epoch, %v in the last", epochLoss[1], epochLoss[epochs])
	}
	tol := 1e-12
	if dt == tensor.Float32 {
		tol = 1e-5
	}
	padded := workflowPredictions(t, net, data, data.Len(), dir)
	alone := workflowPredictions(t, net, data, 1, dir)
	for i := range padded {
		wantSteps := 1
		if task.perStep {
			l, _ := data.(*dataset.InMemory).SeqLen(i)
			wantSteps = l
		}
		if len(padded[i]) != wantSteps || len(alone[i]) != wantSteps {
			t.Fatalf("observation %d: %d and %d outputs (padded, alone), want %d", i, len(padded[i]), len(alone[i]), wantSteps)
		}
		for s := range padded[i] {
			if len(padded[i][s]) != net.OutputSize() {
				t.Fatalf("observation %d: %d values per output, want %d", i, len(padded[i][s]), net.OutputSize())
			}
			for j := range padded[i][s] {
				if !closeTo(padded[i][s][j], alone[i][s][j], tol) {
					t.Fatalf("observation %d, output %d: %v in a padded batch, %v alone", i, s, padded[i][s], alone[i][s])
				}
			}
		}
	}
	if task.perStep && !net.IsClassifier() {
		workflowForecast(t, net, data)
	}
}

// checkValidationLoss: the validation loss, computed from predictions, is
// the training loss of the same data, computed by the training graph (one
// mini-batch of every observation, through a solver that changes nothing):
// the two follow one definition. Video is left out (batch normalization
// trains on the batch's statistics and predicts with running ones), and so
// are chunks (each chunk's loss is its own) and dropout.
func checkValidationLoss(t *testing.T, net *Network, data dataset.Source, hist *History, task workflowTask, o workflowOptions) {
	if task.name == "video" || task.seqLen > 0 {
		return
	}
	for _, l := range net.layers {
		if d, ok := l.Layer.(*dropoutLayer); ok && d.p > 0 {
			return // training drops what prediction keeps
		}
	}
	last := hist.Validations[len(hist.Validations)-1]
	if last.Iteration != len(hist.Iterations) {
		t.Fatalf("the last validation is at iteration %d of %d", last.Iteration, len(hist.Iterations))
	}
	all := make([]int, data.Len())
	for i := range all {
		all[i] = i
	}
	b, err := dataset.MakeBatch(data, all, dataset.WithPaddingDirection(o.dir))
	if err != nil {
		t.Fatal(err)
	}
	loss, err := net.TrainStep(b, discard{})
	if err != nil {
		t.Fatal(err)
	}
	if tol := map[tensor.Dtype]float64{tensor.Float32: 1e-4, tensor.Float64: 1e-10}[o.dt]; math.Abs(loss-last.Loss) > tol*math.Max(1, loss) {
		t.Errorf("validation loss %v; the training graph's loss of the same data is %v", last.Loss, loss)
	}
}

// discard is a solver that drops the gradients.
type discard struct{}

func (discard) Step(vgs []gorgonia.ValueGrad) error {
	for _, vg := range vgs {
		g, _ := vg.Grad()
		g.(*tensor.Dense).Zero()
	}
	return nil
}

// workflowPredictions predicts every observation through the entry point a
// user calls for the network, in mini-batches of size padded on dir's
// side, as one list of outputs per observation.
func workflowPredictions(t *testing.T, net *Network, data dataset.Source, size int, dir dataset.PaddingDirection) [][][]float64 {
	opts := []dataset.BatchOption{dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(-3)}
	var out [][][]float64
	switch {
	case net.PerStep() && net.IsClassifier():
		labels, scores, err := net.ClassifySteps(data, size, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range labels {
			if len(labels[i]) != len(scores[i]) {
				t.Fatalf("observation %d: %d labels for %d steps", i, len(labels[i]), len(scores[i]))
			}
		}
		out = scores
	case net.PerStep():
		scores, err := net.PredictSteps(data, size, opts...)
		if err != nil {
			t.Fatal(err)
		}
		out = scores
	case net.IsClassifier():
		labels, scores, err := net.Classify(data, size, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range scores {
			if labels[i] != net.ClassNames()[argmax(s)] {
				t.Fatalf("observation %d: label %q for scores %v", i, labels[i], s)
			}
			out = append(out, [][]float64{s})
		}
	default:
		scores, err := net.Predict(data, size, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range scores {
			out = append(out, [][]float64{s})
		}
	}
	if len(out) != data.Len() {
		t.Fatalf("%d predictions for %d observations", len(out), data.Len())
	}
	return out
}

// workflowForecast forecasts 3 steps after each sequence and checks the
// shapes.
func workflowForecast(t *testing.T, net *Network, data dataset.Source) {
	b, err := dataset.MakeBatch(data, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	net.ResetState()
	f, err := net.Forecast(b, 3)
	if whole := net.wholeSequence(); whole != nil {
		if err == nil || !strings.Contains(err.Error(), "cannot keep state") {
			t.Fatalf("forecasting with layer %q, which reads sequences whole: error %v", whole.name, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for s := range f {
		if len(f[s]) != 3 || len(f[s][0]) != net.OutputSize() {
			t.Fatalf("sequence %d: forecast of %d steps of %d values, want 3 of %d", s, len(f[s]), len(f[s][0]), net.OutputSize())
		}
	}
}

// TestWorkflowErrors: bad input through the calls a user makes gets an
// error that says what and where, not a panic nor silent garbage.
func TestWorkflowErrors(t *testing.T) {
	labelled := labelData(2, false)(t, []int{3, 4, 5, 4}, tensor.Float32)
	classifier := func(k int) []Layer {
		return []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(k), Softmax(), ClassificationOutput()}
	}
	quiet := WithVerbose(false)
	cases := map[string]struct {
		run  func() error
		want string
	}{
		"a layer too large to allocate": {func() error {
			_, err := NewNetwork([]Layer{SequenceInput(3), LSTM(1 << 25), FullyConnected(1), RegressionOutput()})
			return err
		}, "cannot be allocated"},
		"a nil context": {func() error {
			net, _ := NewNetwork(classifier(2))
			//lint:ignore SA1012 the case is that Train refuses a nil context
			_, _, err := Train(nil, net, labelled, quiet)
			return err
		}, "nil context"},
		"a float32 learnable beyond float32": {func() error {
			net, _ := NewNetwork(classifier(2))
			v, _ := net.Learnable("fc1/Bias")
			v[0] = 1e39
			return net.SetLearnable("fc1/Bias", v)
		}, "value 0 is 1e+39, beyond the range of the store's float32"},
		"a float32 input beyond float32": {func() error {
			net, _ := NewNetwork(classifier(2))
			seqs := workflowSequences(t, []int{3}, 2, []float64{0})
			seqs[0].Data[4] = 1e39
			src, _ := dataset.NewUnlabeled(seqs)
			_, err := net.Predict(src, 1)
			return err
		}, "input at timestep 2, value 0 is 1e+39, beyond the range of the network's float32"},
		"stride 0": {func() error {
			_, err := NewNetwork([]Layer{ImageSequenceInput(4, 4, 1), SequenceFolding(), Convolution2D(2, 2, 1, WithStride(0, 0)),
				SequenceUnfolding(), Flatten(), LSTM(2), FullyConnected(1), RegressionOutput()})
			return err
		}, "stride [0 0]"},
		"more outputs than classes": {func() error {
			net, _ := NewNetwork(classifier(3))
			_, _, err := Train(context.Background(), net, labelled, quiet)
			return err
		}, "the data has 2 classes; the network has 3 outputs: give the last fully connected layer 2 outputs"},
		"plain features for an image input": {func() error {
			net, err := NewNetwork([]Layer{ImageSequenceInput(1, 2, 1), SequenceFolding(), ReLU(), SequenceUnfolding(), Flatten(),
				LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()})
			if err != nil {
				return err
			}
			_, err = net.Predict(labelled, 2)
			return err
		}, "the network's image sequence input takes frames of 1x1x2 (CxHxW), but the data holds plain features"},
		"per-sequence targets for a per-step network": {func() error {
			net, _ := NewNetwork([]Layer{SequenceInput(2), LSTM(3), FullyConnected(2), Softmax(), ClassificationOutput()})
			_, _, err := Train(context.Background(), net, labelled, quiet)
			return err
		}, "the network outputs one per timestep, but the data has targets one per sequence"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v; want one containing %q", err, c.want)
			}
		})
	}
}

// TestTrainStopsOnDivergence: a loss that is not finite stops Train with an
// error wrapping ErrDiverged and History.Stop "diverged" (MATLAB stops on
// NaN), and the step that diverged changes no learnable.
func TestTrainStopsOnDivergence(t *testing.T) {
	seqs := workflowSequences(t, []int{3, 4}, 2, []float64{0, 1})
	huge, err := dataset.NewRegression(seqs, [][]float64{{1e200}, {-1e200}})
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := net.Learnable("fc1/Weights")
	var progress strings.Builder
	_, hist, err := Train(context.Background(), net, huge, WithProgressOutput(&progress), WithMaxEpochs(3))
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "the loss is +Inf") {
		t.Fatalf("error %v; want one wrapping ErrDiverged", err)
	}
	if hist == nil || hist.Stop != "diverged" {
		t.Fatalf("history %+v; want Stop \"diverged\"", hist)
	}
	if after, _ := net.Learnable("fc1/Weights"); !slices.Equal(before, after) {
		t.Error("the step that diverged changed the weights")
	}
}

// TestProgressPrintsLossesReadably: a loss of 5e279, finite, prints in
// exponent form, not as hundreds of digits.
func TestProgressPrintsLossesReadably(t *testing.T) {
	seqs := workflowSequences(t, []int{3, 4}, 2, []float64{0, 1})
	data, err := dataset.NewRegression(seqs, [][]float64{{1e140}, {-1e140}})
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()}, WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	if _, _, err := Train(context.Background(), net, data, WithProgressOutput(&progress), WithMaxEpochs(1), WithSolver("adam")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "loss 5e+279") || regexp.MustCompile(`[0-9]{20}`).MatchString(progress.String()) {
		t.Errorf("progress %q; want the loss as 5e+279", progress.String())
	}
}

// TestCheckFiniteGradients: a finite loss with a gradient that is not
// finite is divergence too.
func TestCheckFiniteGradients(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := tensor.New(tensor.WithShape(2, 2), tensor.Of(dt))
		p := &program{valueGrads: []gorgonia.ValueGrad{learnable{Node: gorgonia.NewScalar(gorgonia.NewGraph(), dt, gorgonia.WithName("w")), grad: g}}}
		if err := p.checkFinite(1e300); err != nil {
			t.Errorf("%v: finite loss and gradients: %v", dt, err)
		}
		fill(g, func(i int) float64 {
			if i == 2 {
				return math.Inf(-1)
			}
			return 0
		})
		if err := p.checkFinite(1); !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "the gradient of w is -Inf at element 2") {
			t.Errorf("%v: error %v; want the infinite gradient named", dt, err)
		}
	}
}

// TestTrainPrintsOnlyWhenAsked: by default Train reports progress only on
// a terminal; standard output that is a pipe gets nothing, unless asked.
func TestTrainPrintsOnlyWhenAsked(t *testing.T) {
	data := labelData(2, false)(t, []int{3, 4, 5, 4}, tensor.Float32)
	layers := []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()}
	run := func(opts ...TrainOption) string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout := os.Stdout
		os.Stdout = w
		net, _ := NewNetwork(layers)
		_, _, err = Train(context.Background(), net, data, append(opts, WithMaxEpochs(2))...)
		os.Stdout = stdout
		w.Close()
		out, _ := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if out := run(); out != "" {
		t.Errorf("by default, to a pipe: %q; want nothing", out)
	}
	if out := run(WithVerbose(true)); !strings.Contains(out, "epoch   2/2") {
		t.Errorf("asked, to a pipe: %q; want a line per epoch", out)
	}
}

// TestTrainWithSolverValue: a solver made beforehand trains as the same
// solver made by name with the same options, bit for bit; options that
// would make another solver are refused beside it.
func TestTrainWithSolverValue(t *testing.T) {
	data := labelData(2, false)(t, []int{3, 4, 5, 4}, tensor.Float64)
	layers := []Layer{SequenceInput(2), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()}
	train := func(opts ...TrainOption) *Network {
		net, _ := NewNetwork(layers, WithDtype(tensor.Float64))
		net, _, err := Train(context.Background(), net, data, append(opts, WithMaxEpochs(3), WithVerbose(false))...)
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	adam, err := optim.NewAdam(optim.WithLearnRate(0.02), optim.WithL2Regularization(1e-4))
	if err != nil {
		t.Fatal(err)
	}
	byValue := train(WithSolverValue(adam))
	byName := train(WithSolver("adam"), WithInitialLearnRate(0.02))
	for _, name := range byName.Learnables() {
		a, _ := byValue.Learnable(name)
		b, _ := byName.Learnable(name)
		if !slices.Equal(a, b) {
			t.Fatalf("%s differs: a solver given as a value trains otherwise than by name", name)
		}
	}
	net, _ := NewNetwork(layers)
	if _, _, err := Train(context.Background(), net, data, WithSolverValue(adam), WithInitialLearnRate(0.1)); err == nil || !strings.Contains(err.Error(), "set them when making it") {
		t.Errorf("a solver value with a learning rate option: error %v", err)
	}
}
