package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
	"github.com/seqgraph/seqgraph/graph/plot"
	"github.com/seqgraph/seqgraph/optim"
)

// The turbofan demo rebuilds MATLAB's "Sequence-to-Sequence Regression
// Using Deep Learning": predict the remaining useful life (RUL) of a
// turbofan engine, in cycles, at every cycle of its sensor record. The data
// is NASA's C-MAPSS FD003 test part (100 engines; every cycle's RUL is known
// from the RUL after the last cycle), split 80/20 by engine. MATLAB's recipe:
// features constant over the training engines dropped, the rest z-scored on
// the training data, RUL clipped at 150; LSTM(200) -> FC(50) -> dropout(0.5)
// -> FC(1); adam, 60 epochs, mini-batches of 20 sorted by length, learning
// rate 0.01, gradient threshold 1. Scored by the RMSE of the prediction at
// each held-out engine's last cycle.
const (
	turbofanClip     = 150  // RUL above this counts as this, as MATLAB's example
	turbofanTestPart = 0.2  // share of the engines held out
	turbofanDataSeed = 1    // seed of the split, fixed so that every run tests the same engines
	turbofanBatch    = 20   // MATLAB's mini-batch size
	turbofanLearn    = 0.01 // MATLAB's learning rate
)

// turbofanColumns names the 26 columns of the NASA files.
func turbofanColumns() []string {
	names := []string{"unit", "cycle", "setting1", "setting2", "setting3"}
	for s := 1; s <= 21; s++ {
		names = append(names, fmt.Sprintf("sensor%d", s))
	}
	return names
}

// turbofanSet is the prepared data: training and test engines with the
// constant features dropped (not yet normalized) and the clipped RUL of
// every cycle.
type turbofanSet struct {
	train, test *dataset.InMemory
	features    []string
	testUnits   []string
}

func loadTurbofan(dir string) (*turbofanSet, error) {
	path, err := embeddedFile(dir, "turbofan_fd003/test_FD003.txt.gz")
	if err != nil {
		return nil, err
	}
	rulPath, err := embeddedFile(dir, "turbofan_fd003/RUL_FD003.txt")
	if err != nil {
		return nil, err
	}
	table, err := dataset.ReadCSVSequences(path, dataset.WithDelimiter(' '),
		dataset.WithColumnNames(turbofanColumns()...), dataset.WithIDColumn("unit"), dataset.WithTimeColumn("cycle"))
	if err != nil {
		return nil, err
	}
	final, err := dataset.ReadCSVSeries(rulPath, dataset.WithDelimiter(' '), dataset.WithColumnNames("rul"))
	if err != nil {
		return nil, err
	}
	if final.T != len(table.Sequences) {
		return nil, errors.Errorf("turbofan: %d final RULs for %d engines", final.T, len(table.Sequences))
	}
	// The RUL at cycle t of an engine of T cycles is its final RUL plus
	// the cycles still to come.
	responses := make([]dataset.Sequence, len(table.Sequences))
	for i, s := range table.Sequences {
		rul := make([]float64, s.T)
		for t := range rul {
			rul[t] = min(final.Data[i]+float64(s.T-1-t), turbofanClip)
		}
		responses[i] = dataset.Series(rul)
	}
	trainIdx, testIdx, err := dataset.StratifiedHoldOut(make([]int, len(responses)), turbofanTestPart, turbofanDataSeed)
	if err != nil {
		return nil, err
	}
	all, err := dataset.NewStepRegression(table.Sequences, responses)
	if err != nil {
		return nil, err
	}
	trainAll, err := all.Subset(trainIdx)
	if err != nil {
		return nil, err
	}
	// Features constant over the training engines carry nothing.
	stats, err := dataset.FitNormalization(trainAll, dataset.ZScore)
	if err != nil {
		return nil, err
	}
	var keep []int
	set := &turbofanSet{}
	for f, name := range table.FeatureNames {
		if stats.Max[f] > stats.Min[f] {
			keep = append(keep, f)
			set.features = append(set.features, name)
		}
	}
	for _, i := range testIdx {
		set.testUnits = append(set.testUnits, table.IDs[i])
	}
	if set.train, err = selectFeatures(all, trainIdx, keep); err != nil {
		return nil, err
	}
	set.test, err = selectFeatures(all, testIdx, keep)
	return set, err
}

// selectFeatures returns the observations idx of a sequence-to-sequence
// regression set with only the features keep.
func selectFeatures(set *dataset.InMemory, idx, keep []int) (*dataset.InMemory, error) {
	seqs := make([]dataset.Sequence, len(idx))
	responses := make([]dataset.Sequence, len(idx))
	for k, i := range idx {
		s := set.Sequence(i)
		data := make([]float64, 0, s.T*len(keep))
		for t := range s.T {
			for _, f := range keep {
				data = append(data, s.Data[t*s.F+f])
			}
		}
		seqs[k] = dataset.Sequence{Data: data, T: s.T, F: len(keep)}
		responses[k] = dataset.Series(set.StepResponses(i))
	}
	return dataset.NewStepRegression(seqs, responses)
}

// turbofanExport is the prepared data as the PyTorch twin reads it.
type turbofanExport struct {
	Features             []string
	TrainX, TestX        [][][]float64
	TrainRUL, TestRUL    [][]float64
	TestUnits            []string
	Clip, Batch, Learn   float64
	Epochs, Hidden, Seed int
}

func (s *turbofanSet) export(path string, epochs, hidden int, seed uint64) error {
	e := turbofanExport{Features: s.features, TestUnits: s.testUnits, Clip: turbofanClip, Batch: turbofanBatch,
		Learn: turbofanLearn, Epochs: epochs, Hidden: hidden, Seed: int(seed)}
	for _, part := range []struct {
		set *dataset.InMemory
		x   *[][][]float64
		y   *[][]float64
	}{{s.train, &e.TrainX, &e.TrainRUL}, {s.test, &e.TestX, &e.TestRUL}} {
		for i := range part.set.Len() {
			q := part.set.Sequence(i)
			*part.x = append(*part.x, rowsOf(q.Data, q.T, q.F))
			*part.y = append(*part.y, part.set.StepResponses(i))
		}
	}
	return exportJSON(path, e)
}

func runTurbofan(args []string, w io.Writer) error {
	fl := newCatalogFlags("turbofan", w, 60, "training epochs", 200)
	dir, set, err := shipped(fl, args, loadTurbofan)
	if err != nil {
		return err
	}
	epochs, hidden, seed := fl.epochs, fl.hidden, fl.seed
	fmt.Fprintf(w, "turbofan FD003: %d training and %d test engines, %d features kept: %v\n",
		set.train.Len(), set.test.Len(), len(set.features), set.features)

	// The model: declare, train, predict, score.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(len(set.features), graph.WithInputNormalization(dataset.ZScore)),
		graph.LSTM(*hidden),
		graph.FullyConnected(50),
		graph.Dropout(0.5),
		graph.FullyConnected(1),
		graph.RegressionOutput(),
	}, graph.WithSeed(*seed))
	if err != nil {
		return err
	}
	fmt.Fprint(w, net)
	net, history, err := graph.Train(context.Background(), net, set.train, graph.WithSolver("adam"),
		graph.WithMaxEpochs(*epochs), graph.WithMiniBatchSize(turbofanBatch), graph.WithInitialLearnRate(turbofanLearn),
		graph.WithGradientThreshold(optim.L2Norm, 1), graph.WithSortByLength(), graph.WithProgressOutput(w))
	if err != nil {
		return err
	}
	pred, err := net.PredictSteps(set.test, turbofanBatch)
	if err != nil {
		return err
	}
	last, truth := lastSteps(pred, set.test)
	rmse, err := metrics.RMSE(last, truth)
	if err != nil {
		return err
	}

	if err := turbofanPlots(w, dir, history, set, pred); err != nil {
		return err
	}
	fmt.Fprintf(w, "test RMSE (cycles): %.2f\n", rmse)
	return nil
}

// lastSteps returns the prediction and the true response at the last step
// of every sequence of a one-response sequence-to-sequence set.
func lastSteps(pred [][][]float64, set *dataset.InMemory) (last, truth []float64) {
	for i, p := range pred {
		r := set.StepResponses(i)
		last = append(last, p[len(p)-1][0])
		truth = append(truth, r[len(r)-1])
	}
	return last, truth
}

// turbofanPlots writes the training progress and the predicted against the
// true RUL over the cycles of the first four test engines.
func turbofanPlots(w io.Writer, dir string, history *graph.History, set *turbofanSet, pred [][][]float64) error {
	progress := filepath.Join(dir, "turbofan_training.png")
	if err := plot.TrainingProgress(progress, history); err != nil {
		return err
	}
	var series []plot.Series
	for i := range min(4, len(pred)) {
		cycles, truth, p := make([]float64, len(pred[i])), set.test.StepResponses(i), make([]float64, len(pred[i]))
		for t := range cycles {
			cycles[t], p[t] = float64(t+1), pred[i][t][0]
		}
		name := "engine " + set.testUnits[i]
		series = append(series, plot.Series{Name: name + " true", X: cycles, Y: truth, Dashed: true},
			plot.Series{Name: name + " predicted", X: cycles, Y: p})
	}
	units := filepath.Join(dir, "turbofan_rul.png")
	if err := plot.Lines(units, "Remaining useful life of test engines", "cycle", "RUL (cycles)", series...); err != nil {
		return err
	}
	errs := make([]float64, len(pred))
	for i := range pred {
		r := set.test.StepResponses(i)
		errs[i] = pred[i][len(pred[i])-1][0] - r[len(r)-1]
	}
	hist := filepath.Join(dir, "turbofan_errors.png")
	if err := plot.Lines(hist, "Error at the last cycle of each test engine", "test engine", "predicted - true RUL (cycles)",
		plot.Series{Name: "error", X: indexAxis(len(errs)), Y: errs}); err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s, %s\n", progress, units, hist)
	return nil
}
