package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
	"github.com/seqgraph/seqgraph/graph/plot"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// The stacked demo rebuilds two Keras tutorials. The first shows why a
// stacked LSTM needs return_sequences: an LSTM(1) on the sequence 0.1, 0.2,
// 0.3 outputs one value per sequence, a 2-D array (batch, units), unless it
// returns its sequence, a 3-D array (batch, timesteps, units), which is what
// a second LSTM can read; seqgraph's OutputMode Last and Sequence. The
// second forecasts a univariate series from windows of its 3 previous
// values with an LSTM(50) whose activation is relu (Keras's
// LSTM(50, activation='relu') -> Dense(1), adam, mean squared error), and
// with the tutorial's stacked variant, LSTM(50, relu, return_sequences) ->
// LSTM(50, relu) -> Dense(1). The series is generated with a fixed seed (two
// sines and noise); its windows are split at random into training and test
// windows. Keras's defaults are kept: learning rate 0.001, mini-batches of
// 32 shuffled every epoch, no L2 regularization; Keras's initializers are
// seqgraph's (Glorot, orthogonal, unit forget gate bias).
const (
	stackedSteps    = 3    // the tutorial's n_steps
	stackedLength   = 1000 // timesteps of the series
	stackedTestPart = 0.2
	stackedDataSeed = 4
	stackedBatch    = 32
	stackedHidden   = 50
)

// stackedNames name the two models, the tutorial's single and stacked LSTM.
var stackedNames = []string{"single LSTM", "stacked LSTM"}

// stackedSeries generates the series.
func stackedSeries() []float64 {
	rng := rand.New(rand.NewPCG(stackedDataSeed, 0x57ac))
	x := make([]float64, stackedLength)
	for t := range x {
		x[t] = 0.5 + 0.3*math.Sin(2*math.Pi*float64(t)/40) + 0.15*math.Sin(2*math.Pi*float64(t)/13) + 0.02*rng.NormFloat64()
	}
	return x
}

// stackedShapes runs the tutorial's two one-layer examples on 0.1, 0.2, 0.3
// and prints their outputs and shapes.
func stackedShapes(w io.Writer, seed uint64) error {
	data, err := dataset.NewUnlabeled([]dataset.Sequence{dataset.Series([]float64{0.1, 0.2, 0.3})})
	if err != nil {
		return err
	}
	for _, mode := range []rnn.OutputMode{rnn.Last, rnn.Sequence} {
		net, err := graph.NewNetwork([]graph.Layer{
			graph.SequenceInput(1), graph.LSTM(1, graph.WithOutputMode(mode)), graph.RegressionOutput(),
		}, graph.WithSeed(seed))
		if err != nil {
			return err
		}
		if mode == rnn.Last {
			out, err := net.Predict(data, 1)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "LSTM(1), output mode last (Keras's default): %v, 2-D, shape (%d, %d)\n", out, len(out), len(out[0]))
			continue
		}
		out, err := net.PredictSteps(data, 1)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "LSTM(1), output mode sequence (return_sequences=True): %v, 3-D, shape (%d, %d, %d)\n",
			out, len(out), len(out[0]), len(out[0][0]))
	}
	return nil
}

// stackedExport is what the PyTorch twin reads.
type stackedExport struct {
	Series               []float64
	Train, Test          []int // window starts
	Steps, Hidden, Batch int
	Epochs, Seed         int
}

func runStacked(args []string, w io.Writer) error {
	fl := newCatalogFlags("stacked", w, 200, "training epochs (the tutorial's 200)", 0)
	dir, err := fl.parse(args)
	if err != nil {
		return err
	}
	epochs, seed := fl.epochs, fl.seed
	if err := stackedShapes(w, *seed); err != nil {
		return err
	}
	series := stackedSeries()
	windows, err := dataset.NewWindowRegression([]dataset.Sequence{dataset.Series(series)}, stackedSteps)
	if err != nil {
		return err
	}
	trainIdx, testIdx, err := dataset.StratifiedHoldOut(make([]int, windows.Len()), stackedTestPart, stackedDataSeed)
	if err != nil {
		return err
	}
	if err := exportJSON(*fl.export, stackedExport{Series: series, Train: trainIdx, Test: testIdx, Steps: stackedSteps,
		Hidden: stackedHidden, Batch: stackedBatch, Epochs: *epochs, Seed: int(*seed)}); err != nil {
		return err
	}
	train, err := windows.Subset(trainIdx)
	if err != nil {
		return err
	}
	test, err := windows.Subset(testIdx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "series of %d values: %d training and %d test windows of %d steps, drawn at random\n",
		len(series), train.Len(), test.Len(), stackedSteps)

	truth := make([]float64, test.Len())
	for i := range truth {
		truth[i] = test.Response(i)[0]
	}
	preds := make([][]float64, 2)
	mse := make([]float64, 2)

	// The model: declare, train, predict, score.
	relu := graph.WithStateActivation(nodes.ReLU)
	models := [][]graph.Layer{
		{graph.SequenceInput(1), graph.LSTM(stackedHidden, relu, graph.WithOutputMode(rnn.Last)), graph.FullyConnected(1), graph.RegressionOutput()},
		{graph.SequenceInput(1), graph.LSTM(stackedHidden, relu), graph.LSTM(stackedHidden, relu, graph.WithOutputMode(rnn.Last)),
			graph.FullyConnected(1), graph.RegressionOutput()},
	}
	for m, layers := range models {
		net, err := graph.NewNetwork(layers, graph.WithSeed(*seed))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s:\n%v", stackedNames[m], net)
		net, _, err = graph.Train(context.Background(), net, train, graph.WithSolver("adam"), graph.WithMaxEpochs(*epochs),
			graph.WithMiniBatchSize(stackedBatch), graph.WithL2Regularization(0), graph.WithShuffle(dataset.ShuffleEveryEpoch),
			graph.WithTrainSeed(*seed), graph.WithProgressOutput(&everyNth{w: w, n: max(1, *epochs/10)}))
		if err != nil {
			return err
		}
		pred, err := net.Predict(test, test.Len())
		if err != nil {
			return err
		}
		preds[m] = firstOfEach(pred)
		rmse, err := metrics.RMSE(preds[m], truth)
		if err != nil {
			return err
		}
		mse[m] = rmse * rmse
	}

	lines := []plot.Series{{Name: "truth", X: indexAxis(len(truth)), Y: truth}}
	for m, p := range preds {
		lines = append(lines, plot.Series{Name: stackedNames[m], X: indexAxis(len(truth)), Y: p, Dashed: true})
	}
	path := filepath.Join(dir, "stacked_test.png")
	if err := plot.Lines(path, "Next value of the test windows", "test window", "value", lines...); err != nil {
		return err
	}
	fmt.Fprintf(w, "plot: %s\n", path)
	fmt.Fprintf(w, "test MSE (single LSTM): %.3g\n", mse[0])
	fmt.Fprintf(w, "test MSE (stacked LSTM): %.3g\n", mse[1])
	return nil
}

// everyNth passes on the header line and every nth epoch line of Train's
// progress, so that 200 epochs do not print 200 lines.
type everyNth struct {
	w     io.Writer
	n, at int
}

func (e *everyNth) Write(p []byte) (int, error) {
	e.at++
	if e.at == 1 || (e.at-1)%e.n == 0 {
		return e.w.Write(p)
	}
	return len(p), nil
}
