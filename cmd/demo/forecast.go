package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
	"github.com/seqgraph/seqgraph/graph/plot"
	"github.com/seqgraph/seqgraph/optim"
)

// The forecast demo rebuilds MATLAB's "Time Series Forecasting Using Deep
// Learning" on the monthly sunspot numbers of 1749-1983: the first 90% of
// the months, standardized with their own mean and standard deviation,
// train a sequence-to-sequence LSTM to predict each month from the months
// before it (inputs x(1..n-1), responses x(2..n)); then the held-out months
// are forecast in open loop (each from the true months before it) and in
// closed loop (each from the forecasts before it, after the training
// months). MATLAB's recipe: LSTM(200) -> FC(1); adam, 250 epochs, learning
// rate 0.005 dropped by a factor 0.2 after 125 epochs, gradient threshold 1.
const (
	forecastTrainPart = 0.9
	forecastLearn     = 0.005
	forecastDrop      = 0.2
)

// forecastData is the series split into its training months and the
// held-out ones, standardized with the training months' statistics.
type forecastData struct {
	months          []string
	train, test     []float64 // standardized
	mean, std       float64
	year            float64 // the year of the first month, as a number
	trainN, heldOut int
}

func loadSunspots(dir string, last int) (*forecastData, error) {
	path, err := embeddedFile(dir, "sunspots/monthly-sunspots.csv")
	if err != nil {
		return nil, err
	}
	series, err := dataset.ReadCSVSeries(path, dataset.WithColumns("Sunspots"))
	if err != nil {
		return nil, err
	}
	months, err := dataset.ReadCSVColumns(path, "Month")
	if err != nil {
		return nil, err
	}
	if last > 0 && last < series.T {
		series = dataset.Series(series.Data[series.T-last:])
		months[0] = months[0][len(months[0])-last:]
	}
	n := int(math.Floor(forecastTrainPart * float64(series.T)))
	d := &forecastData{months: months[0], trainN: n, heldOut: series.T - n}
	var year, month int
	if _, err := fmt.Sscanf(d.months[0], "%d-%d", &year, &month); err != nil {
		return nil, errors.Wrapf(err, "forecast: month %q", d.months[0])
	}
	d.year = float64(year) + float64(month-1)/12
	// MATLAB's std: the sample standard deviation of the training months.
	for _, v := range series.Data[:n] {
		d.mean += v / float64(n)
	}
	for _, v := range series.Data[:n] {
		d.std += (v - d.mean) * (v - d.mean) / float64(n-1)
	}
	d.std = math.Sqrt(d.std)
	for i, v := range series.Data {
		z := (v - d.mean) / d.std
		if i < n {
			d.train = append(d.train, z)
		} else {
			d.test = append(d.test, z)
		}
	}
	return d, nil
}

// sunspots turns standardized values back into sunspot numbers.
func (d *forecastData) sunspots(z []float64) []float64 {
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = v*d.std + d.mean
	}
	return out
}

// forecastExport is what the PyTorch twin reads.
type forecastExport struct {
	Train, Test                   []float64 // standardized
	Mean, Std                     float64
	Epochs, Hidden, Seed          int
	Learn, DropFactor, DropPeriod float64
}

// runForecast runs the demo. Its network trains without step buckets:
// they save compiles when lengths vary, but the one training sequence
// would only be padded from 2537 to 4096 steps, and every epoch would
// compute the padding (12 epochs took 7.5 s with buckets, 5.2 s without).
func runForecast(args []string, w io.Writer) error {
	fl := newCatalogFlags("forecast", w, 250, "training epochs (the learning rate drops after half of them)", 200)
	months := fl.Int("months", 0, "use only the last this many months (default: all 2820), for a quick run")
	dir, err := fl.parse(args)
	if err != nil {
		return err
	}
	if *months < 0 || (*months > 0 && *months < 20) {
		return errors.New("forecast: need months 0 (all) or at least 20")
	}
	epochs, hidden, seed := fl.epochs, fl.hidden, fl.seed
	tmp, err := tempDir()
	if err != nil {
		return err
	}
	defer tmp.remove()
	d, err := loadSunspots(tmp.path, *months)
	if err != nil {
		return err
	}
	dropPeriod := max(1, *epochs/2)
	if err := exportJSON(*fl.export, forecastExport{Train: d.train, Test: d.test, Mean: d.mean, Std: d.std, Epochs: *epochs, Hidden: *hidden,
		Seed: int(*seed), Learn: forecastLearn, DropFactor: forecastDrop, DropPeriod: float64(dropPeriod)}); err != nil {
		return err
	}
	fmt.Fprintf(w, "monthly sunspots %s..%s: %d training months, %d held out (from %s); mean %.1f, std %.1f\n",
		d.months[0], d.months[len(d.months)-1], d.trainN, d.heldOut, d.months[d.trainN], d.mean, d.std)
	train, err := dataset.NewStepAheadRegression([]dataset.Sequence{dataset.Series(d.train)}, dataset.WholeSeries)
	if err != nil {
		return err
	}
	history, err := dataset.MakeBatch(train, []int{0})
	if err != nil {
		return err
	}

	// The model: declare, train, forecast, score.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(1),
		graph.LSTM(*hidden),
		graph.FullyConnected(1),
		graph.RegressionOutput(),
	}, graph.WithSeed(*seed), graph.WithStepBuckets(false)) // see runForecast's doc
	if err != nil {
		return err
	}
	fmt.Fprint(w, net)
	net, progress, err := graph.Train(context.Background(), net, train, graph.WithSolver("adam"),
		graph.WithMaxEpochs(*epochs), graph.WithInitialLearnRate(forecastLearn), graph.WithPiecewiseLearnRate(forecastDrop, dropPeriod),
		graph.WithGradientThreshold(optim.L2Norm, 1), graph.WithProgressOutput(w))
	if err != nil {
		return err
	}
	open, err := openLoop(net, history, d.test)
	if err != nil {
		return err
	}
	net.ResetState()
	closed, err := net.Forecast(history, d.heldOut)
	if err != nil {
		return err
	}
	truth := d.sunspots(d.test)
	openPred, closedPred := d.sunspots(open), d.sunspots(firstOfEach(closed[0]))
	openRMSE, err := metrics.RMSE(openPred, truth)
	if err != nil {
		return err
	}
	closedRMSE, err := metrics.RMSE(closedPred, truth)
	if err != nil {
		return err
	}

	if err := forecastPlots(w, dir, progress, d, truth, openPred, closedPred); err != nil {
		return err
	}
	fmt.Fprintf(w, "open-loop test RMSE (sunspots): %.2f\n", openRMSE)
	fmt.Fprintf(w, "closed-loop test RMSE (sunspots): %.2f\n", closedRMSE)
	return nil
}

// openLoop forecasts each held-out value from the true values before it:
// after the history, the network's last output forecasts test[0]; feeding
// test[k] then forecasts test[k+1]. It is MATLAB's loop of
// predictAndUpdateState calls, one timestep at a time.
func openLoop(net *graph.Network, history *dataset.Batch, test []float64) ([]float64, error) {
	net.ResetState()
	out, err := net.PredictAndUpdateState(history)
	if err != nil {
		return nil, err
	}
	pred := []float64{out[0][len(out[0])-1][0]}
	step := &dataset.Batch{B: 1, T: 1, F: 1, X: []float64{0}, Mask: []float64{1}, Lengths: []int{1}}
	for _, v := range test[:len(test)-1] {
		step.X[0] = v
		out, err := net.PredictAndUpdateState(step)
		if err != nil {
			return nil, err
		}
		pred = append(pred, out[0][0][0])
	}
	return pred, nil
}

// firstOfEach returns the first value of every row.
func firstOfEach(rows [][]float64) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}

// forecastPlots writes the training progress and both forecasts against the
// held-out months, after the last ten years (or fewer) of the training
// months.
func forecastPlots(w io.Writer, dir string, history *graph.History, d *forecastData, truth, open, closed []float64) error {
	progress := filepath.Join(dir, "forecast_training.png")
	if err := plot.TrainingProgress(progress, history); err != nil {
		return err
	}
	before := min(120, d.trainN)
	past := d.sunspots(d.train[d.trainN-before:])
	x := func(from, n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = d.year + float64(from+i)/12
		}
		return v
	}
	held := x(d.trainN, d.heldOut)
	path := filepath.Join(dir, "forecast_test.png")
	if err := plot.Lines(path, "Monthly sunspots: forecasts of the held-out months", "year", "sunspot number",
		plot.Series{Name: "training months", X: x(d.trainN-before, before), Y: past},
		plot.Series{Name: "held out", X: held, Y: truth},
		plot.Series{Name: "open loop", X: held, Y: open, Dashed: true},
		plot.Series{Name: "closed loop", X: held, Y: closed, Dashed: true}); err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s\n", progress, path)
	return nil
}
