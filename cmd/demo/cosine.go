package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/plot"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// The cosine demo rebuilds a classic TensorFlow LSTM regression example:
// from the 10 previous samples of cos(x), sampled every 0.01, predict the
// next one. It trains on 10000 windows of x in [0, 100.1] and tests on 1000
// windows of x in [100.1, 110.2].
const (
	cosineGap       = 0.01
	cosineWindow    = 10
	cosineTrainSize = 10000
	cosineTestSize  = 1000
	cosineTestStart = 100.1
)

// cosineWindows returns n windows of cos sampled from x0 on: window i holds
// cos(x0 + (i..i+9)·gap) and its response is cos(x0 + (i+10)·gap), the x of
// which xs[i] holds.
func cosineWindows(x0 float64, n int) (src *dataset.InMemory, xs []float64, err error) {
	samples := make([]float64, n+cosineWindow)
	for k := range samples {
		samples[k] = math.Cos(x0 + float64(k)*cosineGap)
	}
	seqs := make([]dataset.Sequence, n)
	responses := make([][]float64, n)
	xs = make([]float64, n)
	for i := range seqs {
		rows := make([][]float64, cosineWindow)
		for t := range rows {
			rows[t] = []float64{samples[i+t]}
		}
		if seqs[i], err = dataset.NewSequence(rows); err != nil {
			return nil, nil, err
		}
		responses[i] = []float64{samples[i+cosineWindow]}
		xs[i] = x0 + float64(i+cosineWindow)*cosineGap
	}
	src, err = dataset.NewRegression(seqs, responses)
	return src, xs, err
}

func runCosine(args []string, w io.Writer) error {
	fs := newFlags("cosine", w)
	steps := fs.Int("steps", 1000, "training steps (mini-batches)")
	batch := fs.Int("batch", 32, "mini-batch size")
	hidden := fs.Int("hidden", 30, "LSTM hidden units")
	lr := fs.Float64("lr", 0.1, "Adagrad learning rate")
	seed := fs.Uint64("seed", 1, "seed of the initial weights and of the batch order")
	f64 := fs.Bool("float64", false, "compute in float64 instead of float32")
	out := fs.String("out", "", "folder for the plot (default: a new temporary folder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.Errorf("cosine: unexpected arguments %q", fs.Args())
	}
	if *steps < 0 || *batch < 1 || *batch > cosineTrainSize || *hidden < 1 {
		return errors.Errorf("cosine: need steps >= 0, 1 <= batch <= %d and hidden >= 1", cosineTrainSize)
	}
	dir, err := outDir(*out)
	if err != nil {
		return errors.Wrap(err, "cosine: output folder")
	}

	train, _, err := cosineWindows(0, cosineTrainSize)
	if err != nil {
		return err
	}
	test, testX, err := cosineWindows(cosineTestStart, cosineTestSize)
	if err != nil {
		return err
	}
	dt := tensor.Float32
	if *f64 {
		dt = tensor.Float64
	}
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(1),
		graph.LSTM(*hidden, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(1),
		graph.RegressionOutput(),
	}, graph.WithDtype(dt), graph.WithSeed(*seed))
	if err != nil {
		return err
	}
	solver, err := optim.NewAdagrad(optim.WithLearnRate(*lr))
	if err != nil {
		return err
	}
	// Full batches only: one batch shape, one compiled graph.
	batcher, err := dataset.NewBatcher(train, *batch, dataset.WithShuffle(int64(*seed)), dataset.WithDropLast(true))
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "cosine forecasting: %d training and %d test windows of %d samples\n", train.Len(), test.Len(), cosineWindow)
	fmt.Fprint(w, net)
	rmse, _, err := testRMSE(net, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "test RMSE before training: %.4f\n", rmse)

	start := time.Now()
	step := 0
	var sum float64
	for epoch := 0; step < *steps; epoch++ {
		for b, err := range batcher.Epoch(epoch) {
			if err != nil {
				return err
			}
			if step == *steps {
				break
			}
			loss, err := net.TrainStep(b, solver)
			if err != nil {
				return errors.Wrapf(err, "cosine: step %d", step+1)
			}
			step++
			sum += loss
			if step%100 == 0 {
				fmt.Fprintf(w, "step %5d/%d  epoch %d  mean loss %.6f  %v\n", step, *steps, epoch+1, sum/100, time.Since(start).Round(time.Millisecond))
				sum = 0
			}
		}
	}

	rmse, pred, err := testRMSE(net, test)
	if err != nil {
		return err
	}
	truth := make([]float64, test.Len())
	for i := range truth {
		truth[i] = test.Response(i)[0]
	}
	path := filepath.Join(dir, "cosine_test.png")
	if err := plot.PredictionVsTruth(path, fmt.Sprintf("cos(x) on the test range after %d steps (RMSE %.4f)", *steps, rmse), "x", "cos(x)",
		testX, truth, pred); err != nil {
		return err
	}
	fmt.Fprintf(w, "plot of prediction against truth: %s\n", path)
	fmt.Fprintf(w, "test RMSE after training: %.4f\n", rmse)
	return nil
}

// testRMSE predicts every test window and returns the root mean squared
// error and the predictions.
func testRMSE(net *graph.Network, test *dataset.InMemory) (float64, []float64, error) {
	out, err := net.Predict(test, 500)
	if err != nil {
		return 0, nil, err
	}
	pred := make([]float64, len(out))
	var se float64
	for i, o := range out {
		pred[i] = o[0]
		d := o[0] - test.Response(i)[0]
		se += d * d
	}
	return math.Sqrt(se / float64(len(out))), pred, nil
}
