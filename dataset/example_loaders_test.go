package dataset_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/seqgraph/seqgraph/dataset"
)

func ExampleReadCSVSequences() {
	// A sensor recording: rows of two sequences, out of time order, with a
	// per-step activity label.
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sensors.csv")
	err = os.WriteFile(path, []byte(`id,time,ax,ay,activity
walk1,0,0.1,1.0,walk
walk1,2,0.3,0.8,run
walk1,1,0.2,0.9,walk
sit1,0,0.0,0.0,sit
`), 0o644)
	if err != nil {
		fmt.Println(err)
		return
	}
	tab, err := dataset.ReadCSVSequences(path, dataset.WithIDColumn("id"), dataset.WithTimeColumn("time"), dataset.WithTargetColumns("activity"))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, classes, err := tab.StepClassification(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("features:", tab.FeatureNames, "classes:", classes)
	for i, id := range tab.IDs {
		fmt.Println(id, tab.Sequences[i].Data, set.StepLabels(i))
	}
	// Output:
	// features: [ax ay] classes: [run sit walk]
	// walk1 [0.1 1 0.2 0.9 0.3 0.8] [2 2 0]
	// sit1 [0 0] [1]
}

func ExampleReadCSVSeries() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sunspots.csv")
	err = os.WriteFile(path, []byte("\"Month\",\"Sunspots\"\n\"1749-01\",58.0\n\"1749-02\",62.6\n\"1749-03\",70.0\n"), 0o644)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := dataset.ReadCSVSeries(path, dataset.WithColumns("Sunspots"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.T, "months:", s.Data)
	// Output:
	// 3 months: [58 62.6 70]
}

func ExampleReadNumPyArchive() {
	// train.npz holds x, [3, 4, 2] float64, and y, [3] int64, as
	// numpy.savez_compressed("train.npz", x=x, y=y) writes them.
	arrays, err := dataset.ReadNumPyArchive("testdata/numpy/train.npz", "x", "y")
	if err != nil {
		fmt.Println(err)
		return
	}
	seqs, err := arrays["x"].Sequences([]int{4, 2, 3}) // real lengths; the rest is padding
	if err != nil {
		fmt.Println(err)
		return
	}
	labels, err := arrays["y"].Labels()
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := dataset.NewClassification(seqs, labels, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(arrays["x"], arrays["y"])
	for i := range set.Len() {
		fmt.Println(set.Sequence(i).T, "steps, class", set.Label(i))
	}
	// Output:
	// float64 [3 4 2] int64 [3]
	// 4 steps, class 2
	// 2 steps, class 0
	// 3 steps, class 1
}

func ExampleReadNumPy() {
	a, err := dataset.ReadNumPy("testdata/numpy/seq2d_f4_fortran.npy")
	if err != nil {
		fmt.Println(err)
		return
	}
	seqs, err := a.Sequences(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a, seqs[0].T, "timesteps of", seqs[0].F, "features:", seqs[0].Data)
	// Output:
	// float32 [3 2] 3 timesteps of 2 features: [1.5 2.5 3.5 4.5 5.5 6.5]
}

func ExampleStratifiedHoldOut() {
	categories := []string{"leak", "failure", "failure", "leak", "failure", "failure", "leak", "failure", "failure", "leak"}
	labels, classes, err := dataset.EncodeLabels(categories, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	train, test, err := dataset.StratifiedHoldOut(labels, 0.5, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("classes:", classes, "labels:", labels)
	fmt.Println("train:", len(train), "test:", len(test))
	perClass := make([]int, len(classes))
	for _, i := range test {
		perClass[labels[i]]++
	}
	fmt.Println("test observations per class:", perClass)
	// Output:
	// classes: [failure leak] labels: [1 0 0 1 0 0 1 0 0 1]
	// train: 5 test: 5
	// test observations per class: [3 2]
}

func ExampleNewSequences() {
	// Two sequences of 3 and 2 timesteps of 2 features, as a nested list.
	seqs, err := dataset.NewSequences([][][]float64{
		{{1, 2}, {3, 4}, {5, 6}},
		{{7, 8}, {9, 10}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := dataset.NewClassification(seqs, []int{0, 1}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Len(), "sequences of", set.NumFeatures(), "features, lengths", seqs[0].T, seqs[1].T)
	_, err = dataset.NewSequences([][][]float64{{{1, 2}}, {{3, 4}, {5}}})
	fmt.Println(err)
	// Output:
	// 2 sequences of 2 features, lengths 3 2
	// dataset: sequence 1, row 1 has 1 features, want 2 as in sequence 0, row 0
}

func ExamplePadded_Sequences() {
	// A batch [N=2, T=3, F=1] padded with zeros before the real steps,
	// as Keras's pad_sequences does by default.
	x := []float64{
		1, 2, 3,
		0, 4, 5,
	}
	seqs, err := dataset.Padded{Data: x, N: 2, T: 3, F: 1, Lengths: []int{3, 2}, Direction: dataset.PadLeft}.Sequences()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range seqs {
		fmt.Println(s.Data)
	}
	// Output:
	// [1 2 3]
	// [4 5]
}

func ExampleNewWindowRegression() {
	// Windows of 3 steps of a series, each with the 2 steps after it as
	// its response, a window every 2 steps.
	series := dataset.Series([]float64{0, 1, 2, 3, 4, 5, 6, 7})
	set, err := dataset.NewWindowRegression([]dataset.Sequence{series}, 3, dataset.WithHorizon(2), dataset.WithStride(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range set.Len() {
		fmt.Println(set.Sequence(i).Data, "->", set.Response(i))
	}
	// Output:
	// [0 1 2] -> [3 4]
	// [2 3 4] -> [5 6]
}

func ExampleNewStepAheadRegression() {
	// MATLAB's forecasting layout: predict every next step of a series.
	series := dataset.Series([]float64{3, 1, 4, 1, 5})
	set, err := dataset.NewStepAheadRegression([]dataset.Sequence{series}, dataset.WholeSeries)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Sequence(0).Data, "->", set.StepResponses(0))
	// Output:
	// [3 1 4 1] -> [1 4 1 5]
}

func ExampleReadCSVColumns() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "reports.csv")
	err = os.WriteFile(path, []byte(`Description,Category
"Coolant is pooling underneath sorter.",Leak
"Sorter blows fuses at start up.",Electronic Failure
`), 0o644)
	if err != nil {
		fmt.Println(err)
		return
	}
	cols, err := dataset.ReadCSVColumns(path, "Description", "Category")
	if err != nil {
		fmt.Println(err)
		return
	}
	labels, classes, err := dataset.EncodeLabels(cols[1], nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", cols[0])
	fmt.Println(classes, labels)
	// Output:
	// ["Coolant is pooling underneath sorter." "Sorter blows fuses at start up."]
	// [Electronic Failure Leak] [1 0]
}
