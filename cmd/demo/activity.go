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
	"github.com/seqgraph/seqgraph/optim"
)

// The activity demo follows MATLAB's "Sequence-to-Sequence Classification
// Using Deep Learning": label every timestep of a three-axis accelerometer
// recording with the activity of its wearer, with an LSTM(200) that outputs
// the whole sequence -> FC(5) -> softmax; adam, 60 epochs, gradient
// threshold 2 (here with a learning rate of 0.005 and mini-batches of 8,
// see below). MATLAB's recordings are not redistributable, so the demo
// generates its own with a fixed seed: each recording is a run of activity
// segments of random length, each with its own signal (the direction of
// gravity for the posture, a gait oscillation of its own frequency and
// amplitude, noise), the posture turning smoothly between segments.
const (
	activityTrain, activityTest = 32, 8
	activityMinLen              = 400
	activityMaxLen              = 800
	activityDataSeed            = 7
	// MATLAB's six recordings of 50000 steps fill one mini-batch of its
	// default 128; these are shorter and more, in mini-batches of 8, for
	// more iterations in the same time.
	activityBatch = 8
	// MATLAB's example keeps adam's default learning rate of 0.001, which
	// on this data reaches 78% in 60 epochs; 0.005 reaches 95%.
	activityLearn = 0.005
)

// activityNames are the classes, in label order, as MATLAB's example.
var activityNames = []string{"Dancing", "Running", "Sitting", "Standing", "Walking"}

// activityStyle is how one activity moves the sensor: gravity's
// direction (the posture), and an oscillation of the given period (in
// timesteps) and amplitude per axis, with noise of the given deviation.
type activityStyle struct {
	gravity   [3]float64
	period    float64
	amplitude [3]float64
	noise     float64
}

var activityStyles = []activityStyle{
	{gravity: [3]float64{0.5, 0.8, 0.3}, period: 9, amplitude: [3]float64{0.6, 0.3, 0.6}, noise: 0.1},     // Dancing: two rhythms
	{gravity: [3]float64{0.1, 0.98, 0.2}, period: 6, amplitude: [3]float64{0.3, 1.0, 0.3}, noise: 0.08},   // Running
	{gravity: [3]float64{0.3, 0.2, 0.93}, noise: 0.03},                                                    // Sitting
	{gravity: [3]float64{0.05, 0.99, 0.1}, noise: 0.03},                                                   // Standing
	{gravity: [3]float64{0.1, 0.98, 0.2}, period: 12, amplitude: [3]float64{0.1, 0.25, 0.1}, noise: 0.04}, // Walking
}

// activityRecording generates one recording of n timesteps and its label
// per timestep.
func activityRecording(rng *rand.Rand, n int) (dataset.Sequence, []int) {
	data := make([]float64, 0, 3*n)
	labels := make([]int, 0, n)
	var posture [3]float64
	class := rng.IntN(len(activityStyles))
	posture = activityStyles[class].gravity
	phase := 0.0
	for len(labels) < n {
		st := activityStyles[class]
		seg := 40 + rng.IntN(120)
		// Dancing changes its tempo from segment to segment.
		period := st.period * (0.85 + 0.3*rng.Float64())
		for k := 0; k < seg && len(labels) < n; k++ {
			for a := range posture {
				posture[a] += 0.08 * (st.gravity[a] - posture[a]) // the body turns over a dozen steps
			}
			if st.period > 0 {
				phase += 2 * math.Pi / period
			}
			for a := range posture {
				v := posture[a] + st.amplitude[a]*math.Sin(phase+float64(a)) + st.noise*rng.NormFloat64()
				if class == 0 {
					v += 0.3 * st.amplitude[a] * math.Sin(2.7*phase) // a second rhythm
				}
				data = append(data, v)
			}
			labels = append(labels, class)
		}
		next := rng.IntN(len(activityStyles) - 1)
		if next >= class {
			next++
		}
		class = next
	}
	return dataset.Sequence{Data: data, T: n, F: 3}, labels
}

// activitySets generates the training and test recordings.
func activitySets() (train, test *dataset.InMemory, err error) {
	rng := rand.New(rand.NewPCG(activityDataSeed, 0xac71))
	make1 := func(count int) (*dataset.InMemory, error) {
		seqs := make([]dataset.Sequence, count)
		labels := make([][]int, count)
		for i := range seqs {
			seqs[i], labels[i] = activityRecording(rng, activityMinLen+rng.IntN(activityMaxLen-activityMinLen+1))
		}
		return dataset.NewStepClassification(seqs, labels, len(activityNames))
	}
	if train, err = make1(activityTrain); err != nil {
		return nil, nil, err
	}
	test, err = make1(activityTest)
	return train, test, err
}

// activityExport is what the PyTorch twin reads.
type activityExport struct {
	TrainX, TestX           [][][]float64
	TrainLabels, TestLabels [][]int
	Classes                 []string
	Epochs, Hidden, Seed    int
	Batch                   int
	Learn                   float64
}

func exportActivity(path string, train, test *dataset.InMemory, epochs, hidden int, seed uint64) error {
	return exportJSON(path, activityExport{TrainX: setRows(train), TestX: setRows(test),
		TrainLabels: collect(train.Len(), train.StepLabels), TestLabels: collect(test.Len(), test.StepLabels),
		Classes: activityNames, Batch: activityBatch, Learn: activityLearn, Epochs: epochs, Hidden: hidden, Seed: int(seed)})
}

func runActivity(args []string, w io.Writer) error {
	fl := newCatalogFlags("activity", w, 60, "training epochs", 200)
	dir, train, test, err := fl.generated(args, activitySets, exportActivity)
	if err != nil {
		return err
	}
	epochs, hidden, seed := fl.epochs, fl.hidden, fl.seed
	fmt.Fprintf(w, "activity recognition: %d training and %d test recordings of %d to %d steps, 3 axes, classes %v\n",
		train.Len(), test.Len(), activityMinLen, activityMaxLen, activityNames)

	// The model: declare, train, predict, score.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(3),
		graph.LSTM(*hidden),
		graph.FullyConnected(len(activityNames)),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithSeed(*seed), graph.WithClassNames(activityNames))
	if err != nil {
		return err
	}
	fmt.Fprint(w, net)
	net, history, err := graph.Train(context.Background(), net, train, graph.WithSolver("adam"), graph.WithMaxEpochs(*epochs),
		graph.WithMiniBatchSize(activityBatch), graph.WithInitialLearnRate(activityLearn), graph.WithGradientThreshold(optim.L2Norm, 2),
		graph.WithTrainSeed(*seed), graph.WithProgressOutput(w))
	if err != nil {
		return err
	}
	_, scores, err := net.ClassifySteps(test, test.Len())
	if err != nil {
		return err
	}
	var pred, truth []int
	for i, s := range scores {
		pred, truth = append(pred, metrics.ArgMax(s)...), append(truth, test.StepLabels(i)...)
	}
	acc, err := metrics.Accuracy(pred, truth)
	if err != nil {
		return err
	}

	if err := activityPlots(w, dir, history, test, scores, pred, truth); err != nil {
		return err
	}
	fmt.Fprintf(w, "per-step test accuracy (%%): %.2f\n", 100*acc)
	return nil
}

// activityPlots writes the training progress, the confusion chart of every
// test step, and the first test recording with its true and predicted
// activity step by step.
func activityPlots(w io.Writer, dir string, history *graph.History, test *dataset.InMemory, scores [][][]float64, pred, truth []int) error {
	progress, confusion, err := classifierPlots(dir, "activity", history, pred, truth, activityNames)
	if err != nil {
		return err
	}
	s := test.Sequence(0)
	steps := indexAxis(s.T)
	axes := make([][]float64, 3)
	for t := range s.T {
		for a := range axes {
			axes[a] = append(axes[a], s.Data[t*3+a])
		}
	}
	signal := filepath.Join(dir, "activity_signal.png")
	if err := plot.Lines(signal, "First test recording", "timestep", "acceleration (g)",
		plot.Series{Name: "x", X: steps, Y: axes[0]}, plot.Series{Name: "y", X: steps, Y: axes[1]},
		plot.Series{Name: "z", X: steps, Y: axes[2]}); err != nil {
		return err
	}
	labels := filepath.Join(dir, "activity_labels.png")
	if err := plot.Lines(labels, "Activity: 0 Dance, 1 Run, 2 Sit, 3 Stand, 4 Walk",
		"timestep", "activity", plot.Series{Name: "true", X: steps, Y: intsToFloats(test.StepLabels(0))},
		plot.Series{Name: "predicted", X: steps, Y: intsToFloats(metrics.ArgMax(scores[0])), Dashed: true}); err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s, %s, %s\n", progress, confusion, signal, labels)
	return nil
}

func intsToFloats(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
